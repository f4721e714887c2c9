import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/index.js';
import {
  LinksModule,
  SenderResolver,
  type ClinicDirectory,
  type ClinicIdentity,
} from '../links/index.js';
import { ClinicsRepository } from './clinics.repository.js';
import { AuditService } from './staff/audit.service.js';
import { StaffRepository } from './staff/staff.repository.js';

/** How long a clinic's identity is reused before it is read again (a PATCH shows within it). */
export const DIRECTORY_TTL_MS = 30_000;

/**
 * The clinic identities messages are sent under, for the links module's SenderResolver. A
 * worker renders thousands of messages for a handful of clinics: each is read once per
 * DIRECTORY_TTL_MS, not once per message.
 */
@Injectable()
export class ClinicDirectoryService implements ClinicDirectory, OnModuleInit {
  private readonly cache = new Map<string, { at: number; identity: ClinicIdentity | undefined }>();

  constructor(
    private readonly clinics: ClinicsRepository,
    private readonly clock: Clock,
    private readonly senders: SenderResolver,
  ) {}

  onModuleInit(): void {
    this.senders.useDirectory(this);
  }

  async find(clinicId: string): Promise<ClinicIdentity | undefined> {
    const now = this.clock.now().getTime();
    const hit = this.cache.get(clinicId);
    if (hit && now - hit.at < DIRECTORY_TTL_MS) return hit.identity;
    const c = await this.clinics.find(clinicId);
    const identity: ClinicIdentity | undefined = c && {
      name: c.sender_name || c.name,
      chiropractorName: c.chiropractor_name,
      replyTo: c.reply_to,
      phone: c.phone,
      postalAddress: c.postal_address,
      bookingUrl: c.booking_url,
      smsFrom: c.sms_from,
      logoUrl: c.logo_url,
    };
    this.cache.set(clinicId, { at: now, identity });
    return identity;
  }

  /** Forgets a clinic, so that this process shows a change at once. */
  forget(clinicId: string): void {
    this.cache.delete(clinicId);
  }
}

/**
 * The directory alone: loaded by every process (a worker renders clinic messages, and has no
 * clinic API), it plugs the clinics into the links module's SenderResolver.
 */
@Module({
  imports: [LinksModule],
  providers: [ClinicsRepository, ClinicDirectoryService, StaffRepository, AuditService],
  exports: [ClinicsRepository, ClinicDirectoryService, StaffRepository, AuditService],
})
export class ClinicDirectoryModule {}
