import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import { conflict, notFound, isUuid } from '../common/index.js';
import type { Clinic, ConsentMode } from '../database/index.js';
import type { CreateClinicInput, UpdateClinicInput } from './clinic.dto.js';
import { ClinicsRepository } from './clinics.repository.js';

/** A clinic as the admin API shows it. */
export interface ClinicView {
  id: string;
  slug: string;
  name: string;
  timezone: string;
  senderName: string;
  replyTo: string;
  phone: string;
  postalAddress: string;
  bookingUrl: string;
  chiropractorName: string | null;
  logoUrl: string | null;
  smsFrom: string | null;
  onCallPhone: string | null;
  alertEmail: string | null;
  consentMode: ConsentMode;
  signupUrl: string;
  createdAt: string;
  updatedAt: string;
}

/** A slug from a name: "Back & Neck Clinic, Leeds" → "back-neck-clinic-leeds". */
export function slugOf(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'clinic';
}

/** Clinics, the tenants: made and changed by the operator through the admin API. */
@Injectable()
export class ClinicsService {
  private readonly logger = new Logger(ClinicsService.name);

  constructor(
    private readonly clinics: ClinicsRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  view(c: Clinic): ClinicView {
    return {
      id: c.id,
      slug: c.slug,
      name: c.name,
      timezone: c.timezone,
      senderName: c.sender_name,
      replyTo: c.reply_to,
      phone: c.phone,
      postalAddress: c.postal_address,
      bookingUrl: c.booking_url,
      chiropractorName: c.chiropractor_name,
      logoUrl: c.logo_url,
      smsFrom: c.sms_from,
      onCallPhone: c.on_call_phone,
      alertEmail: c.alert_email,
      consentMode: c.consent_mode,
      signupUrl: `${this.config.publicUrl}/c/${c.slug}`,
      createdAt: c.created_at.toISOString(),
      updatedAt: c.updated_at.toISOString(),
    };
  }

  /**
   * A new clinic. A slug given and taken is a 409; one made from the name gets a number
   * (-2, -3...) until it is free.
   */
  async create(input: CreateClinicInput): Promise<ClinicView> {
    const row = {
      name: input.name,
      timezone: input.timezone,
      sender_name: input.senderName,
      reply_to: input.replyTo,
      phone: input.phone,
      postal_address: input.postalAddress,
      booking_url: input.bookingUrl,
      chiropractor_name: input.chiropractorName ?? null,
      logo_url: input.logoUrl ?? null,
      sms_from: input.smsFrom ?? null,
      on_call_phone: input.onCallPhone ?? null,
      alert_email: input.alertEmail ?? null,
      consent_mode: input.consentMode ?? 'confirm',
    };
    if (input.slug) {
      const made = await this.clinics.insertUnlessSlugTaken({ ...row, slug: input.slug });
      if (!made) throw conflict(`slug: "${input.slug}" is taken by another clinic`);
      return this.created(made);
    }
    const base = slugOf(input.name);
    for (let n = 1; n < 100; n++) {
      const made = await this.clinics.insertUnlessSlugTaken({
        ...row,
        slug: n === 1 ? base : `${base}-${n}`,
      });
      if (made) return this.created(made);
    }
    throw conflict(`slug: every slug from "${base}" to "${base}-99" is taken; give one`);
  }

  private created(c: Clinic): ClinicView {
    this.logger.log({ clinicId: c.id, slug: c.slug }, 'clinic created');
    return this.view(c);
  }

  async list(): Promise<ClinicView[]> {
    return (await this.clinics.list()).map((c) => this.view(c));
  }

  async get(id: string): Promise<ClinicView> {
    return this.view(await this.row(id));
  }

  private async row(id: string): Promise<Clinic> {
    const c = isUuid(id) ? await this.clinics.find(id) : undefined;
    if (!c) throw notFound(`clinic ${isUuid(id) ? id : '(malformed id)'} not found`);
    return c;
  }

  async update(id: string, input: UpdateClinicInput): Promise<ClinicView> {
    await this.row(id);
    const changes = {
      name: input.name,
      timezone: input.timezone,
      sender_name: input.senderName,
      reply_to: input.replyTo,
      phone: input.phone,
      postal_address: input.postalAddress,
      booking_url: input.bookingUrl,
      chiropractor_name: input.chiropractorName,
      logo_url: input.logoUrl,
      sms_from: input.smsFrom,
      on_call_phone: input.onCallPhone,
      alert_email: input.alertEmail,
      consent_mode: input.consentMode,
    };
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, v]) => v !== undefined),
    ) as typeof changes;
    const c = await this.clinics.update(id, defined);
    if (!c) throw notFound(`clinic ${id} not found`);
    return this.view(c);
  }

  findBySlug(slug: string): Promise<Clinic | undefined> {
    return /^[a-z0-9-]{1,50}$/.test(slug)
      ? this.clinics.findBySlug(slug)
      : Promise.resolve(undefined);
  }
}
