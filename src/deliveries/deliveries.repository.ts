import { Inject, Injectable } from '@nestjs/common';
import { sql, type RawBuilder, type Transaction } from 'kysely';
import { Clock, Coalescer, isConnectionError } from '../common/index.js';
import {
  DB,
  FINAL_DELIVERY_STATUSES,
  type Channel,
  type DeliveryStatus,
  type Database,
  type Db,
  type Delivery,
} from '../database/index.js';

/** What it takes to queue one delivery's job (the delivery module queues it). */
export interface DeliveryJobRef {
  id: string;
  channel: Channel;
  clinicId: string | null;
}

type Executor = Db | Transaction<Database>;

export interface DeliveryForSend {
  id: string;
  status: Delivery['status'];
  /** This enrolment's n-th delivery (0-based). */
  step: number;
  /** The campaign step it sends. */
  stepKey: string;
  channel: Channel;
  /** Claims so far; the claim in hand is attempt number `attempts` (the fencing token). */
  attempts: number;
  checkAt: Date | null;
  claimedAt: Date | null;
  resolution: string | null;
  enrollmentId: string;
  enrollmentStatus: string;
  /** The enrolment's clinic (null: the public programme): whose name the message carries. */
  clinicId: string | null;
  campaignId: string;
  timezone: string;
  subscriberId: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  /** How the person joined (the enrolment's source): the email footer says it. */
  source: string;
}

/**
 * Every way a delivery's status may change, as data. Each repository method names its row
 * here, so a transition not listed cannot happen, and a repeated or late one changes nothing.
 *
 *   queued ──claim──▶ sending ──sent──▶ sent ──delivered──▶ delivered
 *     │  ▲               │                 └──undelivered──▶ failed
 *     │  └─release/retry/requeue (lease expired and the provider has no record)
 *     ├──skip──▶ skipped                   sending ──fail──▶ failed
 *     └──fail──▶ failed ──resend (clinic staff)──▶ queued
 */
export const TRANSITIONS = {
  claim: { from: ['queued'], to: 'sending' },
  /** Undo a claim that must wait (quiet hours, a paused channel, a rate limit): not an attempt. */
  release: { from: ['sending'], to: 'queued' },
  /** A temporary error for this recipient: try again after a backoff. */
  retry: { from: ['sending'], to: 'queued' },
  /** A lease expired and the provider has no record of the message: send it again. */
  requeue: { from: ['sending'], to: 'queued' },
  /** From queued too: a worker's late record of a send that the reconciler had requeued. */
  sent: { from: ['sending', 'queued'], to: 'sent' },
  fail: { from: ['queued', 'sending'], to: 'failed' },
  skip: { from: ['queued'], to: 'skipped' },
  delivered: { from: ['sent'], to: 'delivered' },
  undelivered: { from: ['sent'], to: 'failed' },
  /**
   * Clinic staff asked for a failed tip to be sent again (the one way out of a final state,
   * by a person's decision): only while the enrolment is live and the address sendable.
   */
  resend: { from: ['failed'], to: 'queued' },
} as const satisfies Record<string, { from: readonly DeliveryStatus[]; to: DeliveryStatus }>;

export type Transition = keyof typeof TRANSITIONS;

/** What retention leaves of a delivery's error text. */
export const ERROR_PURGED = 'detail removed after the retention period';

const after = (now: Date, ms: number) => new Date(now.getTime() + ms);

/**
 * Claims and send records made while one is in flight go together in the next statement:
 * one round trip and one commit for many sends under load, none of the waiting when idle.
 * A batch statement never waits for a row lock: it takes its rows' locks with SKIP LOCKED,
 * so it cannot close a deadlock with a transaction that locks several of the same rows (an
 * opt-out withdrawing a person's queued deliveries, say). What it skipped, and whatever it
 * did not move, goes again one row at a time, waiting as a single statement always did.
 */
const BATCH = { maxBatch: 200, maxInFlight: 2 } as const;

/** One result of a batched call: a value, or this item's own error. */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `batch` over `items` in rounds in which no key repeats (a repeated key goes in a later
 * round, so it sees what the earlier one did, as it would have one call at a time). If a
 * round's statement fails for any reason but a lost connection, each of its items runs alone,
 * so one bad item cannot fail the others.
 */
async function inRounds<I, O>(
  items: I[],
  key: (item: I) => string,
  batch: (items: I[]) => Promise<O[]>,
  single: (item: I) => Promise<O>,
): Promise<Settled<O>[]> {
  const out: Settled<O>[] = new Array(items.length);
  let left = items.map((item, i) => ({ item, i }));
  while (left.length > 0) {
    const seen = new Set<string>();
    const round: typeof left = [];
    const later: typeof left = [];
    for (const x of left) {
      const k = key(x.item);
      (seen.has(k) ? later : round).push(x);
      seen.add(k);
    }
    try {
      const values = await batch(round.map((x) => x.item));
      round.forEach((x, j) => (out[x.i] = { ok: true, value: values[j]! }));
    } catch (err) {
      if (isConnectionError(err) || round.length === 1) {
        for (const x of round) out[x.i] = { ok: false, error: err };
      } else {
        await Promise.all(
          round.map(async (x) => {
            out[x.i] = await single(x.item).then(
              (value): Settled<O> => ({ ok: true, value }),
              (error: unknown): Settled<O> => ({ ok: false, error }),
            );
          }),
        );
      }
    }
    left = later;
  }
  return out;
}

/**
 * With `skip-locked`, a `mine` CTE that locks the rows of `ids` matching `where`, in id order,
 * skipping any another transaction holds (the statement that follows never waits for a
 * row); with `wait`, nothing.
 */
const lockedFirst = (locks: 'wait' | 'skip-locked', ids: string[], where: RawBuilder<unknown>) =>
  locks === 'wait'
    ? sql``
    : sql`WITH mine AS (
            SELECT d.id FROM deliveries AS d
             WHERE d.id = ANY(${ids}::uuid[]) AND ${where}
             ORDER BY d.id
             FOR UPDATE SKIP LOCKED
          )`;
const onlyLocked = (locks: 'wait' | 'skip-locked') =>
  locks === 'wait' ? sql`` : sql`AND d.id IN (SELECT id FROM mine)`;

/** What a batch answers for an item it did not take: go again, alone. */
const AGAIN = Symbol('again');

const unwrap = <T>(r: Settled<T>): T => {
  if (!r.ok) throw r.error;
  return r.value;
};

/** The address a delivery goes to (`d` a delivery, `s` its subscriber). */
const ADDRESS = sql`(CASE WHEN d.channel = 'email' THEN s.email ELSE s.phone END)`;
/**
 * What makes a delivery sendable (`e` its enrolment): the enrolment is live, and the person
 * has an address on the channel that is not suppressed. The claim requires it; a skip
 * requires its opposite, so a delivery is never skipped for a reason that does not hold.
 */
const SENDABLE = sql`e.status IN ('active', 'completed')
         AND ${ADDRESS} IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM suppressions WHERE address = ${ADDRESS})`;

@Injectable()
export class DeliveriesRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /**
   * Inserts one queued delivery per (enrolment, step key); existing ones are left alone and
   * not returned. Each comes back with its enrolment's clinic, which its job carries.
   * `checkAfterMs`: when the reconciler first makes sure its job exists.
   */
  /**
   * Queued deliveries, one statement for any number (arrays through unnest: four parameters
   * however many rows, where a VALUES list had eight a row). A row whose (enrolment, step)
   * exists already is left out. The result follows `rows`' order. `clinic_id`, when every
   * row gives it (the scheduler has it from the claim), saves a lookup per row.
   */
  async insertQueued(
    trx: Executor,
    rows: {
      enrollment_id: string;
      step: number;
      step_key: string;
      channel: Channel;
      clinic_id?: string | null;
    }[],
    checkAfterMs = 120_000,
  ): Promise<DeliveryJobRef[]> {
    if (rows.length === 0) return [];
    const now = this.clock.now();
    const checkAt = after(now, checkAfterMs);
    const known = rows.every((r) => r.clinic_id !== undefined);
    const { rows: inserted } = await sql<{
      id: string;
      channel: Channel;
      enrollment_id: string;
      step_key: string;
      clinic_id: string | null;
    }>`
      INSERT INTO deliveries
        (enrollment_id, step, step_key, channel, status, created_at, updated_at, check_at)
      SELECT u.e, u.s, u.k, u.c, 'queued', ${now}, ${now}, ${checkAt}
        FROM unnest(${rows.map((r) => r.enrollment_id)}::uuid[], ${rows.map((r) => r.step)}::int[],
                    ${rows.map((r) => r.step_key)}::text[], ${rows.map((r) => r.channel)}::text[])
             AS u(e, s, k, c)
      ON CONFLICT (enrollment_id, step_key) DO NOTHING
      RETURNING id, channel, enrollment_id, step_key${
        known
          ? sql``
          : sql`, (SELECT e.clinic_id FROM enrollments e
                    WHERE e.id = deliveries.enrollment_id) AS clinic_id`
      }`.execute(trx);
    const byKey = new Map(inserted.map((d) => [`${d.enrollment_id}|${d.step_key}`, d]));
    const out: DeliveryJobRef[] = [];
    for (const r of rows) {
      const d = byKey.get(`${r.enrollment_id}|${r.step_key}`);
      if (!d) continue;
      byKey.delete(`${r.enrollment_id}|${r.step_key}`);
      out.push({ id: d.id, channel: d.channel, clinicId: known ? r.clinic_id! : d.clinic_id });
    }
    return out;
  }

  async loadForSend(id: string): Promise<DeliveryForSend | undefined> {
    return this.db
      .selectFrom('deliveries as d')
      .innerJoin('enrollments as e', 'e.id', 'd.enrollment_id')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .select([
        'd.id',
        'd.status',
        'd.step',
        'd.step_key as stepKey',
        'd.channel',
        'd.attempts',
        'd.check_at as checkAt',
        'd.claimed_at as claimedAt',
        'd.resolution',
        'e.id as enrollmentId',
        'e.status as enrollmentStatus',
        'e.clinic_id as clinicId',
        'e.campaign_id as campaignId',
        'e.timezone',
        's.id as subscriberId',
        's.email',
        's.phone',
        's.name',
        'e.source',
      ])
      .where('d.id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Claims a delivery for sending in one statement: queued → sending, only if its enrolment
   * is still live, the person has an address on the channel and that address is not
   * suppressed. A STOP or pause that lands first wins. The claim is a lease until
   * now + `leaseMs`; past it the reconciler settles the attempt. Returns what the send needs,
   * or undefined when there is nothing to send (see loadForSend for why).
   */
  async claim(id: string, leaseMs: number): Promise<DeliveryForSend | undefined> {
    const claimed = unwrap(await this.claims.call({ id, leaseMs }));
    // Not taken by the batch: on its own, outside it, so that no one else waits for it.
    return claimed === AGAIN ? this.claimOne({ id, leaseMs }) : claimed;
  }

  private readonly claims = new Coalescer<
    { id: string; leaseMs: number },
    Settled<DeliveryForSend | undefined | typeof AGAIN>
  >(
    (inputs) =>
      inRounds(
        inputs,
        (c) => c.id,
        async (round) => (await this.claimMany(round, 'skip-locked')).map((got) => got ?? AGAIN),
        (c) => this.claimOne(c),
      ),
    BATCH,
  );

  private async claimOne(c: { id: string; leaseMs: number }) {
    return (await this.claimMany([c], 'wait'))[0];
  }

  /**
   * The claim of each of `inputs` (ids distinct), in their order: one statement for all.
   * `skip-locked` leaves out (undefined) a row another transaction holds; `wait` waits for it.
   */
  private async claimMany(
    inputs: { id: string; leaseMs: number }[],
    locks: 'wait' | 'skip-locked',
  ): Promise<(DeliveryForSend | undefined)[]> {
    const now = this.clock.now();
    const ids = inputs.map((c) => c.id);
    const { rows } = await sql<DeliveryForSend>`
      ${lockedFirst(locks, ids, sql`d.status = 'queued'`)}
      UPDATE deliveries AS d
         SET status = 'sending', attempts = d.attempts + 1, updated_at = ${now},
             claimed_at = ${now}, check_at = c.check_at
        FROM unnest(${ids}::uuid[],
                    ${inputs.map((c) => after(now, c.leaseMs))}::timestamptz[]) AS c(id, check_at),
             enrollments AS e
        JOIN subscribers AS s ON s.id = e.subscriber_id
       WHERE d.id = c.id
         ${onlyLocked(locks)}
         AND d.status = 'queued'
         AND e.id = d.enrollment_id
         AND ${SENDABLE}
      RETURNING d.id, d.status, d.step, d.step_key AS "stepKey", d.channel, d.attempts,
                d.check_at AS "checkAt", d.claimed_at AS "claimedAt", d.resolution,
                e.id AS "enrollmentId", e.status AS "enrollmentStatus", e.clinic_id AS "clinicId",
                e.campaign_id AS "campaignId", e.timezone, s.id AS "subscriberId", s.email, s.phone, s.name,
                e.source`.execute(this.db);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return inputs.map((c) => byId.get(c.id));
  }

  /**
   * Moves one delivery along `name`'s row of TRANSITIONS. With `attempt`, only while the
   * claim of that number is the latest (a fencing token: a stale worker changes nothing).
   * Returns whether the row moved.
   */
  private async transition(
    key: { id: string; attempt?: number } | { providerId: string } | { enrollmentId: string },
    name: Transition,
    set: Partial<{
      error: string | null;
      provider_id: string;
      sent_at: Date;
      check_at: Date | null;
      resolution: string | null;
      attemptsDelta: -1;
    }> = {},
    trx: Executor = this.db,
  ): Promise<boolean> {
    const { from, to } = TRANSITIONS[name];
    const { attemptsDelta, error, ...rest } = set;
    let q = trx
      .updateTable('deliveries')
      .set((eb) => ({
        status: to,
        updated_at: this.clock.now(),
        ...rest,
        ...(error !== undefined ? { error: error?.slice(0, 500) ?? null } : {}),
        ...(attemptsDelta ? { attempts: eb('attempts', '+', attemptsDelta) } : {}),
      }))
      .where('status', 'in', [...from]);
    if ('id' in key) {
      q = q.where('id', '=', key.id);
      if (key.attempt !== undefined) q = q.where('attempts', '=', key.attempt);
    } else if ('providerId' in key) {
      q = q.where('provider_id', '=', key.providerId);
    } else {
      q = q.where('enrollment_id', '=', key.enrollmentId);
    }
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Undoes a claim that must wait: back to queued, the attempt not counted. */
  release(id: string, attempt: number, checkAt: Date): Promise<boolean> {
    return this.transition({ id, attempt }, 'release', { attemptsDelta: -1, check_at: checkAt });
  }

  /**
   * The provider accepted the message. Also from queued with the same attempt number: the
   * reconciler may have requeued a send whose record came late, and the record must win.
   */
  markSent(
    id: string,
    attempt: number,
    providerId: string,
    extra: { resolution?: string; sentAt?: Date } = {},
  ): Promise<boolean> {
    if (extra.resolution === undefined && extra.sentAt === undefined)
      return this.sendRecords
        .call({ id, attempt, providerId })
        .then(unwrap)
        .then((moved) => moved || this.markSentOne({ id, attempt, providerId }));
    return this.transition({ id, attempt }, 'sent', {
      provider_id: providerId,
      error: null,
      sent_at: extra.sentAt ?? this.clock.now(),
      check_at: null,
      ...(extra.resolution ? { resolution: extra.resolution } : {}),
    });
  }

  private readonly sendRecords = new Coalescer<
    { id: string; attempt: number; providerId: string },
    Settled<boolean>
  >(
    (inputs) =>
      inRounds(
        inputs,
        (r) => r.id,
        (round) => this.markSentMany(round, 'skip-locked'),
        (r) => this.markSentOne(r),
      ),
    BATCH,
  );

  private async markSentOne(r: { id: string; attempt: number; providerId: string }) {
    return (await this.markSentMany([r], 'wait'))[0]!;
  }

  /**
   * markSent for each of `records` (ids distinct) in one statement; whether each moved.
   * `skip-locked` leaves a row another transaction holds unmoved; `wait` waits for it.
   */
  private async markSentMany(
    records: { id: string; attempt: number; providerId: string }[],
    locks: 'wait' | 'skip-locked',
  ): Promise<boolean[]> {
    const now = this.clock.now();
    const ids = records.map((r) => r.id);
    const { rows } = await sql<{ id: string }>`
      ${lockedFirst(locks, ids, sql`d.status IN (${sql.join(TRANSITIONS.sent.from.map((f) => sql.lit(f)))})`)}
      UPDATE deliveries AS d
         SET status = ${TRANSITIONS.sent.to}, updated_at = ${now}, provider_id = r.provider_id,
             error = NULL, sent_at = ${now}, check_at = NULL
        FROM unnest(${ids}::uuid[], ${records.map((r) => r.attempt)}::int[],
                    ${records.map((r) => r.providerId)}::text[]) AS r(id, attempt, provider_id)
       WHERE d.id = r.id
         ${onlyLocked(locks)}
         AND d.attempts = r.attempt
         AND d.status IN (${sql.join(TRANSITIONS.sent.from.map((f) => sql.lit(f)))})
      RETURNING d.id`.execute(this.db);
    const moved = new Set(rows.map((r) => r.id));
    return records.map((r) => moved.has(r.id));
  }

  /** A final failure with its reason. Without `attempt`, whatever claim is current. */
  markFailed(
    id: string,
    error: string,
    attempt?: number,
    trx: Executor = this.db,
  ): Promise<boolean> {
    return this.transition({ id, attempt }, 'fail', { error, check_at: null }, trx);
  }

  /** Back to queued after a temporary error, so the retry can claim it again. */
  markRetrying(id: string, attempt: number, error: string, checkAt: Date): Promise<boolean> {
    return this.transition({ id, attempt }, 'retry', { error, check_at: checkAt });
  }

  /** Nothing to send any more (opted out, stopped): a final state with its reason. */
  /**
   * Skips a queued delivery that cannot be sent (TRANSITIONS.skip: queued → skipped), in one
   * statement with the reason: the enrolment stopped, the address is gone or suppressed.
   * Returns the reason, or undefined when it did not skip: the delivery is not queued, or
   * it is sendable after all (another job of it held it a moment ago and gave it back).
   */
  async skipUnsendable(id: string): Promise<string | undefined> {
    const { rows } = await sql<{ error: string }>`
      UPDATE deliveries AS d
         SET status = 'skipped', updated_at = ${this.clock.now()}, check_at = NULL,
             error = CASE WHEN ${ADDRESS} IS NULL THEN 'no address for channel'
                          ELSE 'not sendable: opted out, suppressed or enrolment stopped' END
        FROM enrollments AS e
        JOIN subscribers AS s ON s.id = e.subscriber_id
       WHERE d.id = ${id}
         AND d.status = 'queued'
         AND e.id = d.enrollment_id
         AND NOT (${SENDABLE})
      RETURNING d.error`.execute(this.db);
    return rows[0]?.error;
  }

  /**
   * Sends a failed delivery again (TRANSITIONS.resend), in one statement that requires it to
   * be sendable now: the enrolment active or completed, the address there and not
   * suppressed. Returns what its job needs, or undefined when it did not move. The attempt
   * count goes on from where it was: it is the fencing token of the claims.
   */
  async resendFailed(id: string, enrollmentId: string): Promise<DeliveryJobRef | undefined> {
    const now = this.clock.now();
    const { rows } = await sql<DeliveryJobRef>`
      UPDATE deliveries AS d
         SET status = 'queued', updated_at = ${now}, check_at = ${after(now, 120_000)},
             error = NULL, resolution = 'sent again at the clinic''s request'
        FROM enrollments AS e
        JOIN subscribers AS s ON s.id = e.subscriber_id
       WHERE d.id = ${id}
         AND d.enrollment_id = ${enrollmentId}
         AND d.status IN (${sql.join([...TRANSITIONS.resend.from])})
         AND e.id = d.enrollment_id
         AND ${SENDABLE}
      RETURNING d.id, d.channel, e.clinic_id AS "clinicId"`.execute(this.db);
    return rows[0];
  }

  /** The provider confirmed the message reached the handset. Late or repeated reports are harmless. */
  markDelivered(providerId: string): Promise<boolean> {
    return this.transition({ providerId }, 'delivered');
  }

  /** The provider accepted the message but could not deliver it. */
  markUndelivered(providerId: string, error: string): Promise<boolean> {
    return this.transition({ providerId }, 'undelivered', { error });
  }

  /**
   * Takes the settling of an expired lease: only one reconciler (or worker) wins, and it
   * holds a new lease while it asks the provider. False when the lease is live or taken.
   */
  async takeExpiredLease(id: string, attempt: number, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.db
      .updateTable('deliveries')
      .set({ check_at: after(now, leaseMs), updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('attempts', '=', attempt)
      .where('check_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** An expired lease whose message the provider has no record of: queue it to send again. */
  requeue(id: string, attempt: number, resolution: string, checkAt: Date): Promise<boolean> {
    return this.transition({ id, attempt }, 'requeue', { resolution, check_at: checkAt });
  }

  /** Notes on a delivery still in `sending` why its outcome is not settled yet. */
  async noteUnresolved(id: string, attempt: number, resolution: string): Promise<void> {
    await this.db
      .updateTable('deliveries')
      .set({ resolution: resolution.slice(0, 500), updated_at: this.clock.now() })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('attempts', '=', attempt)
      .execute();
  }

  /** Open deliveries due a look by the reconciler, oldest first, with their clinic. */
  findDue(now: Date, limit: number): Promise<(DeliveryJobRef & { status: DeliveryStatus })[]> {
    return this.db
      .selectFrom('deliveries as d')
      .innerJoin('enrollments as e', 'e.id', 'd.enrollment_id')
      .select(['d.id', 'd.channel', 'd.status', 'e.clinic_id as clinicId'])
      .where('d.status', 'in', ['queued', 'sending'])
      .where('d.check_at', '<=', now)
      .orderBy('d.check_at')
      .limit(limit)
      .execute();
  }

  /** Puts queued deliveries to the back of the reconciler's line: their jobs were fine. */
  async pushBack(ids: string[], checkAt: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('deliveries')
      .set({ check_at: checkAt })
      .where('id', 'in', ids)
      .where('status', '=', 'queued')
      .execute();
  }

  /** Deliveries whose outcome is unknown and could not be settled yet (for /metrics). */
  async countUnresolved(): Promise<number> {
    const row = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'sending')
      .where('resolution', 'like', 'unresolved%')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Deliveries an operator must be able to explain, newest first: `failed` and `skipped`
   * (with their reasons), `unresolved` (outcome unknown, provider log unreachable) and
   * `settled` (an expired lease was settled: found in the log, or sent again).
   */
  async listProblems(q: {
    kind: 'failed' | 'skipped' | 'unresolved' | 'settled';
    since: Date;
    limit: number;
  }) {
    let query = this.db
      .selectFrom('deliveries as d')
      .innerJoin('enrollments as e', 'e.id', 'd.enrollment_id')
      .select([
        'd.id',
        'd.enrollment_id as enrollmentId',
        'e.campaign_id as campaign',
        'd.step',
        'd.step_key as stepKey',
        'd.channel',
        'd.status',
        'd.attempts',
        'd.error',
        'd.resolution',
        'd.updated_at as updatedAt',
      ])
      .where('d.updated_at', '>=', q.since)
      .orderBy('d.updated_at', 'desc')
      .limit(q.limit);
    if (q.kind === 'failed' || q.kind === 'skipped') query = query.where('d.status', '=', q.kind);
    else if (q.kind === 'unresolved')
      query = query.where('d.status', '=', 'sending').where('d.resolution', 'like', 'unresolved%');
    else query = query.where('d.resolution', 'like', 'lease expired%');
    return query.execute();
  }

  /**
   * Removes deliveries that never left (status queued); returns the first of them (its
   * number and step key), which the enrolment then waits on again, or null.
   */
  async withdrawQueued(
    trx: Executor,
    enrollmentId: string,
  ): Promise<{ step: number; stepKey: string } | null> {
    const rows = await trx
      .deleteFrom('deliveries')
      .where('enrollment_id', '=', enrollmentId)
      .where('status', '=', 'queued')
      .returning(['step', 'step_key'])
      .execute();
    const first = rows.reduce<(typeof rows)[number] | undefined>(
      (a, r) => (a && a.step <= r.step ? a : r),
      undefined,
    );
    return first ? { step: first.step, stepKey: first.step_key } : null;
  }

  /** The step keys each enrolment has a delivery of, whatever its status. */
  async keysHad(trx: Executor, enrollmentIds: string[]): Promise<Map<string, Set<string>>> {
    const had = new Map<string, Set<string>>();
    if (enrollmentIds.length === 0) return had;
    const rows = await trx
      .selectFrom('deliveries')
      .select(['enrollment_id', 'step_key'])
      .where('enrollment_id', 'in', enrollmentIds)
      .execute();
    for (const r of rows) {
      let keys = had.get(r.enrollment_id);
      if (!keys) had.set(r.enrollment_id, (keys = new Set()));
      keys.add(r.step_key);
    }
    return had;
  }

  /** Data rights: the deliveries of these enrolments (never a message body: none is stored). */
  forEnrollments(enrollmentIds: string[]) {
    if (enrollmentIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('deliveries')
      .select([
        'id',
        'enrollment_id',
        'step',
        'step_key',
        'channel',
        'status',
        'attempts',
        'error',
        'created_at',
        'updated_at',
        'sent_at',
      ])
      .where('enrollment_id', 'in', enrollmentIds)
      .orderBy('enrollment_id')
      .orderBy('step')
      .execute();
  }

  /**
   * Retention: deletes up to `limit` deliveries in a final state, last changed before
   * `before`, of enrolments that can never send again: completed, or cancelled for any
   * reason but STOP (START restarts those, and the scheduler reads which steps they had).
   * An open delivery, or one of a live enrolment, is never touched. Returns how many.
   */
  async purgeEnded(before: Date, limit: number): Promise<number> {
    const gone = await this.db
      .deleteFrom('deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('deliveries as d')
          .innerJoin('enrollments as e', 'e.id', 'd.enrollment_id')
          .select('d.id')
          .where('d.status', 'in', [...FINAL_DELIVERY_STATUSES])
          .where('d.updated_at', '<', before)
          .where((w) =>
            w.or([
              w('e.status', '=', 'completed'),
              w.and([
                w('e.status', '=', 'cancelled'),
                w(sql`coalesce(e.cancel_reason, '')`, '<>', 'stop'),
              ]),
            ]),
          )
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /**
   * Retention, for the deliveries it keeps (those of enrolments that may still send): the
   * provider's error text (it can quote the address) of final deliveries older than
   * `before` is replaced by a fixed note; status and step stay, so nothing is sent again.
   */
  async scrubOldErrors(before: Date, limit: number): Promise<number> {
    const done = await this.db
      .updateTable('deliveries')
      .set({ error: ERROR_PURGED })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('deliveries')
          .select('id')
          .where('status', 'in', [...FINAL_DELIVERY_STATUSES])
          .where('updated_at', '<', before)
          .where('error', 'is not', null)
          .where('error', '<>', ERROR_PURGED)
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(done.numUpdatedRows);
  }

  async skipQueued(trx: Executor, enrollmentId: string, reason: string): Promise<void> {
    await this.transition({ enrollmentId }, 'skip', { error: reason, check_at: null }, trx);
  }

  async listForEnrollment(enrollmentId: string): Promise<Delivery[]> {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('enrollment_id', '=', enrollmentId)
      .orderBy('step')
      .execute();
  }
}
