import { Injectable, Logger } from '@nestjs/common';
import { Clock, conflict, maskAddress, notFound, invalid, isUuid } from '../common/index.js';
import { consentText } from '../consent/index.js';
import type { Campaign } from '../campaigns/index.js';
import {
  Transactions,
  type Channel,
  type Clinic,
  type Enrollment,
  type Subscriber,
  type Tx,
} from '../database/index.js';
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
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime()))
    throw invalid('cursor', 'is not a cursor this API gave; start again without one');
  return { createdAt, id };
}

/** One row of enrolManyIn: its enrolment, or what enrolIn would have thrown. */
export type BatchResult = { ok: true; enrollment: Enrollment } | { ok: false; error: unknown };

/** A row of enrolManyIn that passed the checks needing no database. */
interface Plan {
  i: number;
  input: ClinicEnrollmentInput | ClinicInvitationInput;
  campaign: Campaign;
  consent: ClinicEnrollmentInput['consent'] | undefined;
  email: string | null;
  phone: string | null;
  /** The column of the channel's address, which finds the subscriber. */
  by: 'email' | 'phone';
  address: string;
  otherColumn: 'email' | 'phone';
  other: string | null;
  name: string | null;
}

/**
 * A concurrent transaction changed what enrolManyIn read (an address or an enrolment taken
 * in between): undo the batch and run it one row at a time.
 */
export class BatchSurprise extends Error {}

const field = (channel: Channel) => (channel === 'email' ? 'email' : 'phone');
const consentInFuture = () =>
  invalid('consent.obtainedAt', 'is in the future; give when the patient agreed');
const optedOut = (channel: Channel) =>
  conflict(
    `${field(channel)}: this address opted out of all messages; ` +
      'only its owner can opt back in (START by text, or signing up again)',
  );
// Unsubscribed from this clinic's emails: only the person can undo that (its signup page,
// then the confirm button), never the clinic's word.
const unsubscribedFromClinic = (channel: Channel) =>
  conflict(
    `${field(channel)}: this patient unsubscribed from this ` +
      "clinic's messages; only they can opt back in (the clinic's signup page)",
  );
const alreadyEnrolled = (campaignId: string) =>
  conflict(`campaign: this patient is already enrolled in "${campaignId}" by this clinic`);

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
    if (consent && this.inFuture(consent.obtainedAt)) throw consentInFuture();
    if (await this.subscribers.isSuppressed(address, tx)) throw optedOut(input.channel);
    const subscriber = await this.subscribers.findOrCreate(
      tx,
      { email, phone, name: input.name?.trim() || null },
      input.channel,
    );
    if (
      (await this.subscribers.lastClinicConsent(tx, subscriber.id, clinic.id, input.channel)) ===
      'withdrawn'
    )
      throw unsubscribedFromClinic(input.channel);
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
    if (!e) throw alreadyEnrolled(campaign.id);
    if (consent) await this.attest(tx, clinic, e, consent, source);
    return e;
  }

  private inFuture(obtainedAt: Date): boolean {
    return obtainedAt.getTime() > this.clock.now().getTime() + 5 * 60_000;
  }

  /**
   * enrolIn for a batch of rows (the CSV import), with the same rules, refusals and writes,
   * a statement per step for many rows instead of ten per row. The result lines up with
   * `inputs`: the enrolment, or the error enrolIn would have thrown for that row. A refused
   * row writes nothing, as enrolIn's rolled-back savepoint would.
   *
   * Rows run in waves. A wave holds rows that touch nothing in common (addresses, and the
   * people those addresses belong to), so doing one step for all of them at once gives what
   * doing them one after another would. A row touching what an earlier row touches waits
   * for a later wave and then sees that row's work: a patient listed twice is enrolled by
   * the first row, and the second is told they are already enrolled.
   *
   * Throws BatchSurprise when a concurrent transaction changed what the reads saw (an
   * address or enrolment taken in between): the caller undoes the batch to a savepoint and
   * runs it with enrolIn, one row at a time.
   */
  async enrolManyIn(
    tx: Tx,
    clinic: Clinic,
    inputs: (ClinicEnrollmentInput | ClinicInvitationInput)[],
    source: 'clinic-api' | 'clinic-import',
  ): Promise<BatchResult[]> {
    const results: BatchResult[] = new Array<BatchResult>(inputs.length);
    const fail = (p: { i: number }, error: unknown) => (results[p.i] = { ok: false, error });
    // The checks that need no database, in enrolIn's order.
    const plans: Plan[] = [];
    inputs.forEach((input, i) => {
      try {
        const campaign = this.lifecycle.campaignOf(input.campaign);
        const { email, phone } = resolveContact(input);
        const consent = 'consent' in input ? input.consent : undefined;
        if (consent && this.inFuture(consent.obtainedAt)) throw consentInFuture();
        const by = input.channel === 'email' ? 'email' : 'phone';
        const otherColumn = by === 'email' ? 'phone' : 'email';
        plans.push({
          i,
          input,
          campaign,
          consent,
          email,
          phone,
          by,
          address: (by === 'email' ? email : phone)!,
          otherColumn,
          other: otherColumn === 'email' ? email : phone,
          name: input.name?.trim() || null,
        });
      } catch (err) {
        results[i] = { ok: false, error: err };
      }
    });
    // Nothing here writes suppressions: one read serves every wave.
    const suppressed = await this.subscribers.suppressedAmong(
      tx,
      plans.map((p) => p.address),
    );
    let remaining = plans.filter((p) => {
      if (suppressed.has(p.address)) fail(p, optedOut(p.input.channel));
      return !suppressed.has(p.address);
    });
    while (remaining.length > 0) {
      const addresses = (column: 'email' | 'phone') => [
        ...new Set(remaining.flatMap((p) => (p[column] ? [p[column]] : []))),
      ];
      const found = new Map<string, Subscriber>();
      for (const s of await this.subscribers.lockByAddresses(
        tx,
        addresses('email'),
        addresses('phone'),
      )) {
        if (s.email) found.set(`email:${s.email}`, s);
        if (s.phone) found.set(`phone:${s.phone}`, s);
      }
      // What each row touches; a row sharing any of it with an earlier row waits.
      const claimed = new Set<string>();
      const wave: Plan[] = [];
      const later: Plan[] = [];
      for (const p of remaining) {
        const touches: string[] = [];
        for (const [column, address] of [
          ['email', p.email],
          ['phone', p.phone],
        ] as const) {
          if (!address) continue;
          touches.push(`${column}:${address}`);
          const s = found.get(`${column}:${address}`);
          if (s) touches.push(`person:${s.person_id}`);
        }
        (touches.some((t) => claimed.has(t)) ? later : wave).push(p);
        for (const t of touches) claimed.add(t);
      }
      await this.enrolWave(tx, clinic, wave, found, source, results);
      remaining = later;
    }
    return results;
  }

  /** One wave of enrolManyIn: rows that touch nothing in common. */
  private async enrolWave(
    tx: Tx,
    clinic: Clinic,
    wave: Plan[],
    found: Map<string, Subscriber>,
    source: 'clinic-api' | 'clinic-import',
    results: BatchResult[],
  ): Promise<void> {
    const existing = (p: Plan) => found.get(`${p.by}:${p.address}`);
    // Refusals first, before anything is written (enrolIn undoes a refused row's writes).
    const known = wave.filter((p) => existing(p));
    const withdrawn = await this.subscribers.withdrawnFromClinic(
      tx,
      known.map((p) => ({ subscriberId: existing(p)!.id, channel: p.input.channel })),
      clinic.id,
    );
    const live = new Set<string>();
    for (const campaignId of new Set(known.map((p) => p.campaign.id)))
      for (const id of await this.enrollments.liveAmong(
        tx,
        known.filter((p) => p.campaign.id === campaignId).map((p) => existing(p)!.id),
        campaignId,
        clinic.id,
      ))
        live.add(`${id}|${campaignId}`);
    const go = wave.filter((p) => {
      const s = existing(p);
      if (s && withdrawn.has(`${s.id}|${p.input.channel}`))
        results[p.i] = { ok: false, error: unsubscribedFromClinic(p.input.channel) };
      else if (s && live.has(`${s.id}|${p.campaign.id}`))
        results[p.i] = { ok: false, error: alreadyEnrolled(p.campaign.id) };
      else return true;
      return false;
    });
    if (go.length === 0) return;

    // findOrCreate: new people created, a changed name written.
    const subscriber = new Map<Plan, Subscriber>();
    const fresh = go.filter((p) => !existing(p));
    const created = await this.subscribers.createMany(
      tx,
      fresh.map((p) => ({
        email: p.by === 'email' ? p.address : null,
        phone: p.by === 'phone' ? p.address : null,
        name: p.name,
      })),
    );
    if (created.length !== fresh.length)
      throw new BatchSurprise('an address was taken by another transaction');
    const createdBy = new Map(created.map((s) => [`${s.email ?? ''}|${s.phone ?? ''}`, s]));
    for (const p of fresh) {
      const key = p.by === 'email' ? `${p.address}|` : `|${p.address}`;
      subscriber.set(p, createdBy.get(key)!);
    }
    const renames = go.filter((p) => {
      const s = existing(p);
      return s && p.name && p.name !== s.name;
    });
    const renamed = new Map(
      (
        await this.subscribers.renameMany(
          tx,
          renames.map((p) => ({ id: existing(p)!.id, name: p.name! })),
        )
      ).map((s) => [s.id, s]),
    );
    for (const p of go) {
      const s = existing(p);
      if (s) subscriber.set(p, renamed.get(s.id) ?? s);
    }

    // linkOtherAddress: the other address joins this person (created when missing).
    const links: {
      email: string | null;
      phone: string | null;
      name: string | null;
      person_id: string;
    }[] = [];
    const merges: { from: string; to: string }[] = [];
    for (const p of go) {
      const s = subscriber.get(p)!;
      if (!p.other || s[p.otherColumn] === p.other) continue;
      const o = found.get(`${p.otherColumn}:${p.other}`);
      if (!o)
        links.push({
          email: p.otherColumn === 'email' ? p.other : null,
          phone: p.otherColumn === 'phone' ? p.other : null,
          name: s.name,
          person_id: s.person_id,
        });
      else if (o.person_id !== s.person_id) merges.push({ from: o.person_id, to: s.person_id });
    }
    // As linkAddress, an address taken meanwhile is left to its owner.
    await this.subscribers.createMany(tx, links);
    await this.subscribers.mergePersons(tx, merges);

    // The enrolments, through the lifecycle (after the links: a hold follows the person).
    const enrolled = await this.lifecycle.enrolMany(
      tx,
      go.map((p) => ({
        subscriber_id: subscriber.get(p)!.id,
        campaign_id: p.campaign.id,
        channel: p.input.channel,
        timezone: p.input.timezone ?? clinic.timezone,
        send_time: p.input.sendTime,
        source,
        clinic_id: clinic.id,
        external_id: p.input.externalId ?? null,
        via: p.consent && clinic.consent_mode === 'attested' ? 'enrol' : 'signUp',
      })),
    );
    if (enrolled.some((e) => !e))
      throw new BatchSurprise('a patient was enrolled by another transaction');
    await this.subscribers.recordConsents(
      tx,
      go.flatMap((p, k) =>
        p.consent ? [this.attestation(clinic, enrolled[k]!, p.consent, source)] : [],
      ),
    );
    go.forEach((p, k) => (results[p.i] = { ok: true, enrollment: enrolled[k]! }));
  }

  /** The clinic's attestation, kept as a consent event with its own words. */
  private async attest(
    tx: Tx,
    clinic: Clinic,
    e: Enrollment,
    consent: ClinicEnrollmentInput['consent'],
    source: string,
  ) {
    await this.subscribers.recordConsent(tx, this.attestation(clinic, e, consent, source));
  }

  private attestation(
    clinic: Clinic,
    e: Enrollment,
    consent: ClinicEnrollmentInput['consent'],
    source: string,
  ) {
    const campaign = this.lifecycle.campaignOf(e.campaign_id);
    return {
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
    } satisfies Parameters<SubscribersRepository['recordConsent']>[1];
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
    const e = isUuid(id) ? await this.records.find(caller.clinicId, id) : undefined;
    if (!e) throw notFound(`enrollment ${isUuid(id) ? id : '(malformed id)'} not found`);
    return e;
  }

  private async change(
    caller: ClinicCaller,
    id: string,
    step: (tx: Tx, e: Enrollment) => Promise<Enrollment>,
  ): Promise<ClinicEnrollmentView> {
    await this.transactions.run(async (tx) => {
      const e = isUuid(id) ? await this.enrollments.lock(tx, id) : undefined;
      if (!e || e.clinic_id !== caller.clinicId) throw notFound(`enrollment ${id} not found`);
      return step(tx, e);
    });
    return view(await this.mine(caller, id));
  }
}
