import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EmailChannel, SmsChannel } from '../channels/index.js';
import {
  AuditService,
  ClinicsRepository,
  StaffRepository,
  type AuditActor,
} from '../clinics/index.js';
import { WebhookOutbox } from '../webhook-outbox/index.js';
import {
  Clock,
  escapeHtml,
  conflict,
  invalid,
  notFound,
  safeError,
  isUuid,
} from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Transactions, type Subscriber, type TriageItem, type Tx } from '../database/index.js';
import { MetricsService } from '../metrics/index.js';
import { TriageRepository, type TriageRow } from './triage.repository.js';

/** An item older than this, still open, shows in red and counts as overdue in /metrics. */
export const TRIAGE_OVERDUE_MS = 3_600_000;
/** A person's finished programme still routes their red flags to the clinic for this long. */
const RECENT_PROGRAMME_MS = 30 * 86_400_000;

/** How the warning signs read in a notification. */
const SIGN_WORDS: Record<string, string> = {
  chest: 'chest pain or pressure',
  heart: 'a heart symptom',
  breathing: 'shortness of breath',
  sweating: 'sweating',
  nausea: 'nausea',
  'light-headed': 'light-headedness',
  spreading: 'pain spreading to the arm, neck or jaw',
  injury: 'pain after a fall or injury',
  fever: 'fever',
  'weight-loss': 'unexplained weight loss',
  numbness: 'numbness',
  weakness: 'weakness',
  worsening: 'pain that keeps getting worse',
};
export const signWords = (signs: string): string =>
  signs
    .split(',')
    .filter(Boolean)
    .map((s) => SIGN_WORDS[s] ?? s)
    .join(', ') || 'a warning sign';

export interface TriageView {
  id: string;
  enrollmentId: string;
  patient: string;
  externalId: string | null;
  source: string;
  signs: string;
  createdAt: Date;
  overdue: boolean;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  note: string | null;
  notified: string | null;
}

/**
 * The clinic's triage queue of red-flag replies. A red flag (a text, or the warning-sign
 * link in an email) holds the patient, as before, and now also opens an item for each clinic
 * whose programme they are in. The clinic is told by email (its alert address, else its
 * admins) and by text to its on-call number if it has one; the item stays open until a member
 * of staff acknowledges it with a note.
 */
@Injectable()
export class TriageService implements OnModuleInit {
  private readonly logger = new Logger(TriageService.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly triage: TriageRepository,
    private readonly clinics: ClinicsRepository,
    private readonly staff: StaffRepository,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
    private readonly email: EmailChannel,
    private readonly sms: SmsChannel,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
    private readonly webhooks: WebhookOutbox,
  ) {}

  onModuleInit(): void {
    this.metrics.sources({ triage: () => this.triage.openCounts(this.clock.now()) });
  }

  /**
   * Opens an item per clinic of the person, in the caller's transaction (with the hold).
   * Call notify() with the result once that transaction has committed.
   */
  async raise(
    tx: Tx,
    subscriber: Subscriber,
    report: { source: 'sms' | 'email'; signs: string[]; inboundMessageId: string | null },
  ): Promise<TriageItem[]> {
    const now = this.clock.now();
    const clinics = await this.triage.clinicsOfPerson(
      tx,
      subscriber.person_id,
      new Date(now.getTime() - RECENT_PROGRAMME_MS),
    );
    const items: TriageItem[] = [];
    for (const c of clinics) {
      const item = await this.triage.insert(tx, {
        clinicId: c.clinic_id,
        enrollmentId: c.enrollment_id,
        subscriberId: c.subscriber_id,
        source: report.source,
        signs: report.signs.join(','),
        inboundMessageId: report.inboundMessageId,
        at: now,
      });
      await this.audit.record(
        {
          clinicId: c.clinic_id,
          actor: { kind: 'patient' },
          action: 'triage.raised',
          enrollmentId: c.enrollment_id,
          subscriberId: c.subscriber_id,
          detail: { triageItemId: item.id, signs: item.signs, source: report.source },
        },
        tx,
      );
      await this.webhooks.emit(tx, {
        clinicId: c.clinic_id,
        type: 'red_flag.raised',
        enrollmentId: c.enrollment_id,
        data: {
          triageItemId: item.id,
          enrollmentId: c.enrollment_id,
          externalId: c.external_id,
          source: report.source,
          signs: report.signs,
          // The patient is paused; the item waits in the triage queue for a note.
          triageUrl: `${this.config.publicUrl}/clinic/triage`,
        },
      });
      items.push(item);
    }
    return items;
  }

  /**
   * Tells each item's clinic. A failure is logged and left for notifyPending (the scheduler's
   * housekeeping), which tries again; an item is marked told once, so nobody is told twice
   * by two instances racing, though a crash between sending and marking can repeat one.
   */
  async notify(items: TriageItem[]): Promise<void> {
    for (const item of items) {
      try {
        const how = await this.tell(item);
        await this.triage.markNotified(item.id, how);
      } catch (err) {
        this.logger.error(
          { triageItemId: item.id, clinicId: item.clinic_id, err: safeError(err) },
          'clinic not told of a red flag yet; housekeeping will try again',
        );
      }
    }
  }

  /** Housekeeping: tells clinics of items a failed or crashed notify() left. */
  async notifyPending(): Promise<number> {
    const items = await this.triage.unnotified(new Date(this.clock.now().getTime() - 60_000), 100);
    await this.notify(items);
    return items.length;
  }

  private async tell(item: TriageItem): Promise<string> {
    const clinic = await this.clinics.find(item.clinic_id);
    if (!clinic) return 'no-clinic';
    const url = `${this.config.publicUrl}/clinic/triage`;
    const what = signWords(item.signs);
    const when = item.created_at.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
    const to = clinic.alert_email
      ? [clinic.alert_email]
      : (await this.staff.admins(clinic.id)).map((a) => a.email);
    const told: string[] = [];
    // Contact details and names stay out of the messages: they can be read on the dashboard.
    const text =
      `A patient of ${clinic.name} in the self-care programme replied at ${when} with a warning sign: ${what}.\n\n` +
      `They were told at once to call ${this.config.emergencyNumber} (or their local emergency number), and their tips are paused.\n\n` +
      `Please look at it and acknowledge it in the triage queue: ${url}\n\n` +
      `Items still open after an hour show in red.`;
    for (const address of to) {
      await this.email.send({
        to: address,
        subject: `Red flag: a patient reported ${what}`,
        text,
        html: text
          .split('\n\n')
          .map((p) => `<p>${escapeHtml(p)}</p>`)
          .join('\n'),
        reference: `triage-${item.id}`,
        messageId: `<triage-${item.id}@selfcare-drip>`,
      });
    }
    if (to.length > 0) told.push('email');
    if (clinic.on_call_phone) {
      await this.sms.send({
        to: clinic.on_call_phone,
        body: `${this.config.sender.name}: a ${clinic.name} patient reported ${what} at ${when}. They were told to call ${this.config.emergencyNumber}. Triage queue: ${url}`,
        reference: `triage-${item.id}`,
      });
      told.push('sms');
    }
    this.logger.warn(
      { triageItemId: item.id, clinicId: clinic.id, told: told.join('+') || 'nobody' },
      'red flag: clinic told',
    );
    return told.join('+') || 'no-recipient';
  }

  async list(clinicId: string): Promise<{ open: TriageView[]; done: TriageView[] }> {
    const { open, done } = await this.triage.list(clinicId, 50);
    return { open: open.map((r) => this.view(r)), done: done.map((r) => this.view(r)) };
  }

  async forEnrollment(clinicId: string, enrollmentId: string): Promise<TriageView[]> {
    return (await this.triage.forEnrollment(clinicId, enrollmentId)).map((r) => this.view(r));
  }

  openCount(clinicId: string): Promise<number> {
    return this.triage.openCount(clinicId);
  }

  async get(clinicId: string, id: string): Promise<TriageView> {
    const row = isUuid(id) ? await this.triage.find(clinicId, id) : undefined;
    if (!row) throw notFound(`triage item ${isUuid(id) ? id : '(malformed id)'} not found`);
    return this.view(row);
  }

  /** A member of staff has seen to it: closed with their note, in the audit log. */
  async acknowledge(
    clinicId: string,
    id: string,
    staffUserId: string,
    rawNote: unknown,
  ): Promise<TriageView> {
    const note = typeof rawNote === 'string' ? rawNote.trim() : '';
    if (note.length === 0)
      throw invalid(
        'note',
        'say what was done (for example: "called the patient; they are at the ER")',
      );
    if (note.length > 2000) throw invalid('note', 'must be at most 2,000 characters');
    const item = await this.get(clinicId, id);
    const actor: AuditActor = { kind: 'staff', staffUserId };
    await this.transactions.run(async (tx) => {
      const done = await this.triage.acknowledge(
        tx,
        clinicId,
        id,
        staffUserId,
        note,
        this.clock.now(),
      );
      if (!done) throw conflict('this item was already acknowledged');
      await this.audit.record(
        {
          clinicId,
          actor,
          action: 'triage.acknowledged',
          enrollmentId: done.enrollment_id,
          subscriberId: done.subscriber_id,
          detail: { triageItemId: done.id, note },
        },
        tx,
      );
    });
    this.logger.log({ triageItemId: item.id, clinicId, staffUserId }, 'triage item acknowledged');
    return this.get(clinicId, id);
  }

  private view(r: TriageRow): TriageView {
    return {
      id: r.id,
      enrollmentId: r.enrollment_id,
      patient: r.name ?? 'Patient (no name given)',
      externalId: r.external_id,
      source: r.source,
      signs: signWords(r.signs),
      createdAt: r.created_at,
      overdue:
        r.acknowledged_at === null &&
        this.clock.now().getTime() - r.created_at.getTime() > TRIAGE_OVERDUE_MS,
      acknowledgedAt: r.acknowledged_at,
      acknowledgedBy: r.acknowledged_by_name,
      note: r.note,
      notified: r.notified,
    };
  }
}
