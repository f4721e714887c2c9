import { Injectable, Logger } from '@nestjs/common';
import { Clock, conflict, maskAddress, notFound, invalid } from '../common/index.js';
import { consentText } from '../consent/index.js';
import { Transactions, type Clinic, type Enrollment, type Tx } from '../database/index.js';
import { QueuesService } from '../delivery/index.js';
import {
  EnrollmentLifecycle,
  EnrollmentsRepository,
  type PauseReason,
  type UpdateEnrollmentInput,
} from '../enrollments/index.js';
import { SubscribersRepository, resolveContact } from '../subscribers/index.js';
import type { ClinicCaller } from './api-keys.service.js';
import type {
  ClinicEnrollmentInput,
  ClinicInvitationInput,
  ListEnrollmentsQuery,
} from './clinic.dto.js';
import { ClinicsRepository } from './clinics.repository.js';
import {
  PatientRecordsRepository,
  type ClinicEnrollmentRow,
} from './patient-records.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An enrolment as the clinic API shows it. */
export interface ClinicEnrollmentView {
  id: string;
  externalId: string | null;
  campaign: string;
  channel: string;
  status: string;
  /** Why it is pending: the patient has not confirmed yet. */
  awaiting: 'patient-confirmation' | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  timezone: string;
  sendTime: string;
  step: number;
  nextSendAt: string | null;
  pauseReason: string | null;
  cancelReason: string | null;
  createdAt: string;
}

export interface ClinicEnrollmentDetail extends ClinicEnrollmentView {
  deliveries: {
    id: string;
    step: number;
    stepKey: string;
    channel: string;
    status: string;
    error: string | null;
    createdAt: string;
    sentAt: string | null;
  }[];
  painScores: { score: number; source: string; at: string }[];
  consentEvents: {
    kind: string;
    channel: string;
    source: string;
    method: string | null;
    obtainedAt: string | null;
    collectedBy: string | null;
    text: string | null;
    words: string | null;
    at: string;
  }[];
}

export interface Page<T> {
  data: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

const view = (e: ClinicEnrollmentRow): ClinicEnrollmentView => ({
  id: e.id,
  externalId: e.external_id,
  campaign: e.campaign_id,
  channel: e.channel,
  status: e.status,
  awaiting: e.status === 'pending' ? 'patient-confirmation' : null,
  name: e.name,
  email: e.channel === 'email' ? e.email : null,
  phone: e.channel === 'sms' ? e.phone : null,
  timezone: e.timezone,
  sendTime: e.send_time,
  step: e.step,
  nextSendAt: e.next_send_at?.toISOString() ?? null,
  pauseReason: e.status === 'paused' ? e.pause_reason : null,
  cancelReason: e.status === 'cancelled' ? e.cancel_reason : null,
  createdAt: e.created_at.toISOString(),
});

function encodeCursor(e: ClinicEnrollmentRow): string {
  return Buffer.from(`${e.created_at.toISOString()}|${e.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime()))
    throw invalid('cursor', 'is not a cursor this API gave; start again without one');
  return { createdAt, id };
}

/**
 * A clinic's patients, through its API key: enrol (with the clinic's consent attestation),
 * list, read, pause, resume, cancel. Every read and write is scoped to the caller's clinic:
 * another clinic's enrolment is not found (404), never forbidden, so ids cannot be probed.
 */
@Injectable()
export class ClinicEnrollmentsService {
  private readonly logger = new Logger(ClinicEnrollmentsService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly clinics: ClinicsRepository,
    private readonly records: PatientRecordsRepository,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly queues: QueuesService,
    private readonly clock: Clock,
  ) {}

  /**
   * Enrols a patient. With the clinic's default consent mode ('confirm') the enrolment waits
   * for the patient's one confirmation (YES by text, or the button behind the email link),
   * which goes out now; with 'attested' (the clinic holds written consent) the drip starts at
   * once and its first message carries the opt-out instructions.
   */
  async enrol(caller: ClinicCaller, input: ClinicEnrollmentInput): Promise<ClinicEnrollmentDetail> {
    const clinic = (await this.clinics.find(caller.clinicId))!;
    const row = await this.transactions.run((tx) => this.enrolIn(tx, clinic, input, 'clinic-api'));
    if (row.status === 'pending')
      await this.queues.enqueueConfirmation(row.id, row.channel, row.confirm_count, clinic.id);
    this.logger.log(
      {
        clinicId: clinic.id,
        enrollmentId: row.id,
        campaign: row.campaign_id,
        channel: row.channel,
        status: row.status,
        to: maskAddress((row.channel === 'email' ? input.email : input.phone) ?? ''),
      },
      'clinic enrolment',
    );
    return this.get(caller, row.id);
  }

  /**
   * The rules of one clinic enrolment, inside the caller's transaction (the CSV import runs
   * a batch of them in one). Without `consent` it is an invitation: the enrolment waits for
   * the patient's confirmation whatever the clinic's consent mode. The caller sends the
   * confirmation of a pending enrolment after commit (`queues.enqueueConfirmation`).
   */
  async enrolIn(
    tx: Tx,
    clinic: Clinic,
    input: ClinicEnrollmentInput | ClinicInvitationInput,
    source: 'clinic-api' | 'clinic-import',
  ): Promise<Enrollment> {
    const campaign = this.lifecycle.campaignOf(input.campaign);
    const { email, phone } = resolveContact(input);
    const address = (input.channel === 'email' ? email : phone)!;
    const consent = 'consent' in input ? input.consent : undefined;
    if (consent && consent.obtainedAt.getTime() > this.clock.now().getTime() + 5 * 60_000)
      throw invalid('consent.obtainedAt', 'is in the future; give when the patient agreed');
    if (await this.subscribers.isSuppressed(address, tx))
      throw conflict(
        `${input.channel === 'email' ? 'email' : 'phone'}: this address opted out of all messages; ` +
          'only its owner can opt back in (START by text, or signing up again)',
      );
    const subscriber = await this.subscribers.findOrCreate(
      tx,
      { email, phone, name: input.name?.trim() || null },
      input.channel,
    );
    // Unsubscribed from this clinic's emails: only the person can undo that (its signup
    // page, then the confirm button), never the clinic's word.
    if (
      (await this.subscribers.lastClinicConsent(tx, subscriber.id, clinic.id, input.channel)) ===
      'withdrawn'
    )
      throw conflict(
        `${input.channel === 'email' ? 'email' : 'phone'}: this patient unsubscribed from this ` +
          "clinic's messages; only they can opt back in (the clinic's signup page)",
      );
    await this.subscribers.linkOtherAddress(tx, subscriber, { email, phone }, input.channel);
    const values = {
      subscriber_id: subscriber.id,
      campaign_id: campaign.id,
      channel: input.channel,
      timezone: input.timezone ?? clinic.timezone,
      send_time: input.sendTime,
      source,
      clinic_id: clinic.id,
      external_id: input.externalId ?? null,
    };
    const e =
      consent && clinic.consent_mode === 'attested'
        ? await this.lifecycle.enrol(tx, values)
        : await this.lifecycle.signUp(tx, values);
    if (!e)
      throw conflict(
        `campaign: this patient is already enrolled in "${campaign.id}" by this clinic`,
      );
    if (consent) await this.attest(tx, clinic, e, consent, source);
    return e;
  }

  /** The clinic's attestation, kept as a consent event with its own words. */
  private async attest(
    tx: Tx,
    clinic: Clinic,
    e: Enrollment,
    consent: ClinicEnrollmentInput['consent'],
    source: string,
  ) {
    const campaign = this.lifecycle.campaignOf(e.campaign_id);
    await this.subscribers.recordConsent(tx, {
      subscriberId: e.subscriber_id,
      kind: 'attested',
      channel: e.channel,
      source,
      textVersion: consent.text ? 'clinic-supplied' : 'clinic-attested-v1',
      campaignId: e.campaign_id,
      text:
        consent.text ??
        consentText('clinic-attested-v1', { sender: clinic.name, programme: campaign.name }),
      clinicId: clinic.id,
      method: consent.method,
      obtainedAt: consent.obtainedAt,
      collectedBy: consent.collectedBy,
    });
  }

  async list(
    caller: ClinicCaller,
    query: ListEnrollmentsQuery,
  ): Promise<Page<ClinicEnrollmentView>> {
    const rows = await this.records.list(caller.clinicId, {
      status: query.status,
      externalId: query.externalId,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    return {
      data: page.map(view),
      nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!) : null,
    };
  }

  async get(caller: ClinicCaller, id: string): Promise<ClinicEnrollmentDetail> {
    const e = await this.mine(caller, id);
    const [deliveries, scores, events] = await Promise.all([
      this.records.deliveries(e.id),
      this.records.painScores(e.id),
      this.records.consentEvents(caller.clinicId, e),
    ]);
    return {
      ...view(e),
      deliveries: deliveries.map((d) => ({
        id: d.id,
        step: d.step,
        stepKey: d.step_key,
        channel: d.channel,
        status: d.status,
        error: d.error,
        createdAt: d.created_at.toISOString(),
        sentAt: d.sent_at?.toISOString() ?? null,
      })),
      painScores: scores.map((s) => ({
        score: s.score,
        source: s.source,
        at: s.created_at.toISOString(),
      })),
      consentEvents: events.map((c) => ({
        kind: c.kind,
        channel: c.channel,
        source: c.source,
        method: c.method,
        obtainedAt: c.obtained_at?.toISOString() ?? null,
        collectedBy: c.collected_by,
        text: c.text,
        words: c.words,
        at: c.created_at.toISOString(),
      })),
    };
  }

  /** Changes send time or time zone; the pending step moves to the new time within its day. */
  reschedule(caller: ClinicCaller, id: string, input: UpdateEnrollmentInput) {
    return this.change(caller, id, (tx, e) => this.lifecycle.retime(tx, e, input));
  }

  pause(caller: ClinicCaller, id: string, reason: PauseReason = 'operator') {
    return this.change(caller, id, (tx, e) => this.lifecycle.pause(tx, e, null, reason));
  }

  resume(caller: ClinicCaller, id: string) {
    return this.change(caller, id, (tx, e) => this.lifecycle.resume(tx, e));
  }

  cancel(caller: ClinicCaller, id: string) {
    return this.change(caller, id, (tx, e) => this.lifecycle.cancel(tx, e, 'clinic'));
  }

  /** One of the caller's enrolments, or 404 (another clinic's looks exactly like none). */
  private async mine(caller: ClinicCaller, id: string): Promise<ClinicEnrollmentRow> {
    const e = UUID.test(id) ? await this.records.find(caller.clinicId, id) : undefined;
    if (!e) throw notFound(`enrollment ${UUID.test(id) ? id : '(malformed id)'} not found`);
    return e;
  }

  private async change(
    caller: ClinicCaller,
    id: string,
    step: (tx: Tx, e: Enrollment) => Promise<Enrollment>,
  ): Promise<ClinicEnrollmentView> {
    await this.transactions.run(async (tx) => {
      const e = UUID.test(id) ? await this.enrollments.lock(tx, id) : undefined;
      if (!e || e.clinic_id !== caller.clinicId) throw notFound(`enrollment ${id} not found`);
      return step(tx, e);
    });
    return view(await this.mine(caller, id));
  }
}
