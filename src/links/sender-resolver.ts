import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import type { RenderContext } from '../rendering/index.js';

/** A clinic as its messages present it; what the clinics module keeps for each tenant. */
export interface ClinicIdentity {
  name: string;
  chiropractorName: string | null;
  replyTo: string | null;
  phone: string | null;
  postalAddress: string | null;
  bookingUrl: string | null;
  /** A number or messaging service sid of the clinic's own; null: the service's. */
  smsFrom: string | null;
  logoUrl: string | null;
}

/**
 * Looks a clinic up by id. The clinics module plugs one in (SenderResolver.useDirectory) when
 * it starts, so that links never imports clinics: clinics imports links.
 */
export interface ClinicDirectory {
  find(clinicId: string): Promise<ClinicIdentity | undefined>;
}

/** Who a message is from: what templates show (`sender`) and what the channels send as. */
export interface SenderIdentity extends Readonly<RenderContext['sender']> {
  /** The clinic this is, or null for the service itself. */
  readonly clinicId: string | null;
  /** MAIL_FROM: the envelope sender stays the service's, whose domain signs the mail. */
  readonly mailFrom: string;
  /** TWILIO_FROM, or the clinic's own number; null when SMS is not configured. */
  readonly smsFrom: string | null;
  readonly logoUrl: string | null;
}

/** Picks the identity a message goes out under: the clinic's, or the service's own. */
@Injectable()
export class SenderResolver {
  private readonly logger = new Logger(SenderResolver.name);
  private readonly service: SenderIdentity;
  private clinics: ClinicDirectory | undefined;

  constructor(@Inject(CONFIG) config: AppConfig) {
    this.service = Object.freeze({
      clinicId: null,
      name: config.sender.name,
      isClinic: false,
      chiropractor: null,
      phone: null,
      bookingUrl: null,
      replyTo: config.mailReplyTo ?? null,
      address: config.sender.address,
      mailFrom: config.mailFrom,
      smsFrom: config.twilio?.from ?? null,
      logoUrl: null,
    });
  }

  /** Plugs in where clinics are found (the clinics module, at start-up). */
  useDirectory(directory: ClinicDirectory): void {
    this.clinics = directory;
  }

  /** The service's own identity: for people who came without a clinic. */
  own(): SenderIdentity {
    return this.service;
  }

  /**
   * The clinic's identity, or the service's for no clinic. A clinic that cannot be found (it
   * was removed, or no directory is plugged in) also gets the service's: a page or a reply
   * still works, under the name of the service that actually sends it.
   */
  async resolve(clinicId: string | null): Promise<SenderIdentity> {
    if (clinicId === null) return this.service;
    const clinic = await this.clinics?.find(clinicId);
    if (!clinic) {
      this.logger.warn({ clinicId }, 'unknown clinic: sending as the service');
      return this.service;
    }
    const own = this.service;
    return Object.freeze({
      clinicId,
      name: clinic.name,
      isClinic: true,
      chiropractor: clinic.chiropractorName,
      phone: clinic.phone,
      bookingUrl: clinic.bookingUrl,
      // Replies go to the clinic's desk; without one, to wherever the service's go.
      replyTo: clinic.replyTo ?? own.replyTo,
      // Every commercial email must carry a postal address: the service's if the clinic has none.
      address: clinic.postalAddress ?? own.address,
      mailFrom: own.mailFrom,
      smsFrom: clinic.smsFrom ?? own.smsFrom,
      logoUrl: clinic.logoUrl,
    });
  }
}
