import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { ManualClock } from '../src/common/clock.js';
import type { DeliveryStatus } from '../src/database/index.js';
import { DeliveriesRepository, TRANSITIONS } from '../src/delivery/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

/** A person with an active email enrolment, straight into the tables; returns its id. */
async function activeEnrolment(tdb: TestDatabase, email: string): Promise<string> {
  const s = await tdb.db
    .insertInto('subscribers')
    .values({ email })
    .returning('id')
    .executeTakeFirstOrThrow();
  const e = await tdb.db
    .insertInto('enrollments')
    .values({
      subscriber_id: s.id,
      campaign_id: 'upper-back-relief',
      channel: 'email',
      timezone: 'UTC',
      send_time: '08:00',
      status: 'active',
      step: 0,
      source: 'test',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return e.id;
}

/**
 * The delivery state machine, statement by statement, against PostgreSQL: every transition
 * from every state, the fencing token, and the lease. No queue, no worker: these are the
 * guards the rest relies on.
 */
describe('delivery states', () => {
  let tdb: TestDatabase;
  let repo: DeliveriesRepository;
  const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
  let enrollmentId: string;
  let step = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    repo = new DeliveriesRepository(tdb.db, clock);
    enrollmentId = await activeEnrolment(tdb, 'states@example.com');
  });
  afterAll(async () => {
    await tdb.drop();
  });
  beforeEach(() => clock.set('2026-06-01T12:00:00Z'));

  const row = (id: string) =>
    tdb.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  /** A delivery in `status` with `attempts` claims so far. */
  async function make(status: DeliveryStatus, attempts = 0): Promise<string> {
    const [d] = await repo.insertQueued(
      tdb.db,
      [{ enrollment_id: enrollmentId, step, step_key: `k${step++}`, channel: 'email' }],
      60_000,
    );
    await tdb.db
      .updateTable('deliveries')
      .set({ status, attempts })
      .where('id', '=', d!.id)
      .execute();
    return d!.id;
  }

  /**
   * Locks one delivery row in a transaction of its own, as another worker or an opt-out
   * would; the returned function commits it and waits for that.
   */
  async function holdRow(id: string): Promise<() => Promise<void>> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = tdb.db.transaction().execute(async (trx) => {
      await sql`SELECT id FROM deliveries WHERE id = ${id} FOR UPDATE`.execute(trx);
      locked();
      await released;
    });
    await isLocked;
    return async () => {
      release();
      await holder;
    };
  }

  const ALL: DeliveryStatus[] = ['queued', 'sending', 'sent', 'delivered', 'failed', 'skipped'];

  it('inserts queued, due a job check after the given time, once per step', async () => {
    const [d] = await repo.insertQueued(
      tdb.db,
      [{ enrollment_id: enrollmentId, step: 500, step_key: 'x', channel: 'email' }],
      90_000,
    );
    expect(await row(d!.id)).toMatchObject({
      status: 'queued',
      attempts: 0,
      check_at: new Date('2026-06-01T12:01:30Z'),
    });
    expect(
      await repo.insertQueued(tdb.db, [
        { enrollment_id: enrollmentId, step: 500, step_key: 'x', channel: 'email' },
      ]),
    ).toEqual([]);
  });

  it('claims only a queued delivery, as a lease, counting the attempt', async () => {
    for (const status of ALL) {
      const id = await make(status, 2);
      const claimed = await repo.claim(id, 30_000);
      if (status === 'queued') {
        expect(claimed).toMatchObject({ id, status: 'sending', attempts: 3 });
        expect(await row(id)).toMatchObject({
          status: 'sending',
          attempts: 3,
          claimed_at: clock.now(),
          check_at: new Date('2026-06-01T12:00:30Z'),
        });
      } else {
        expect(claimed).toBeUndefined();
        expect((await row(id)).status).toBe(status);
      }
    }
  });

  describe('claims and send records made together go in one statement', () => {
    // Two calls go at once (two batches in flight); every call made meanwhile waits and goes
    // in the next batch together. So the third call on is batched.

    it('claims a delivery named twice in one batch once', async () => {
      const [a, b, x] = [await make('queued'), await make('queued'), await make('queued')];
      const claims = await Promise.all([
        repo.claim(a, 30_000),
        repo.claim(b, 30_000),
        repo.claim(x, 30_000),
        repo.claim(x, 30_000),
        repo.claim(x, 30_000),
      ]);
      expect(claims.slice(0, 2).map((c) => c?.id)).toEqual([a, b]);
      expect(claims.slice(2).filter((c) => c !== undefined)).toHaveLength(1);
      expect(await row(x)).toMatchObject({ status: 'sending', attempts: 1 });
    });

    it('one bad item fails alone: the rest of its batch is claimed', async () => {
      const ids = [await make('queued'), await make('queued'), await make('queued')];
      const results = await Promise.allSettled([
        repo.claim(ids[0]!, 30_000),
        repo.claim(ids[1]!, 30_000),
        repo.claim('not-a-delivery-id', 30_000),
        repo.claim(ids[2]!, 30_000),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      for (const id of ids) expect((await row(id)).status).toBe('sending');
    });

    it('a batch never waits for a row another transaction holds (so it cannot deadlock)', async () => {
      // An opt-out withdrawing a person's queued deliveries locks several rows; a batch that
      // waited for one of them while holding another could close a cycle with it.
      const [a, b, held, free] = [
        await make('queued'),
        await make('queued'),
        await make('queued'),
        await make('queued'),
      ];
      const release = await holdRow(held);
      const claims = [a, b, held, free].map((id) => repo.claim(id, 30_000));
      // `held` and `free` share a batch: `free` is claimed while `held` is still locked.
      const freeClaim = await Promise.race([
        claims[3]!,
        new Promise<'waited'>((r) => setTimeout(() => r('waited'), 3000)),
      ]);
      await release();
      expect(freeClaim).toMatchObject({ id: free, status: 'sending' });
      // The held one went again on its own, waited for the lock, and was claimed after it.
      expect(await claims[2]).toMatchObject({ id: held, status: 'sending' });
      expect((await Promise.all(claims)).every((c) => c !== undefined)).toBe(true);
    });

    it('a record never waits for a row another transaction holds', async () => {
      const [a, b, held, free] = [
        await make('sending', 1),
        await make('sending', 1),
        await make('sending', 1),
        await make('sending', 1),
      ];
      const release = await holdRow(held);
      const records = [a, b, held, free].map((id) => repo.markSent(id, 1, `SM-${id}`));
      const freeRecord = await Promise.race([
        records[3]!,
        new Promise<'waited'>((r) => setTimeout(() => r('waited'), 3000)),
      ]);
      await release();
      expect(freeRecord).toBe(true);
      expect(await Promise.all(records)).toEqual([true, true, true, true]);
      expect((await row(held)).provider_id).toBe(`SM-${held}`);
    });

    it('records a send named twice in one batch once, the first record winning', async () => {
      const [a, b, x] = [
        await make('sending', 1),
        await make('sending', 1),
        await make('sending', 1),
      ];
      const moved = await Promise.all([
        repo.markSent(a, 1, 'SM-a'),
        repo.markSent(b, 1, 'SM-b'),
        repo.markSent(x, 1, 'SM-first'),
        repo.markSent(x, 1, 'SM-second'),
      ]);
      expect(moved).toEqual([true, true, true, false]);
      expect(await row(x)).toMatchObject({ status: 'sent', provider_id: 'SM-first' });
    });

    it('fences each record of a batch on its own attempt', async () => {
      const ids = [
        await make('sending', 1),
        await make('sending', 1),
        await make('sending', 2),
        await make('sending', 1),
      ];
      const moved = await Promise.all([
        repo.markSent(ids[0]!, 1, 'SM-f0'),
        repo.markSent(ids[1]!, 1, 'SM-f1'),
        repo.markSent(ids[2]!, 1, 'SM-stale'), // attempt 2 holds the claim
        repo.markSent(ids[3]!, 1, 'SM-f3'),
      ]);
      expect(moved).toEqual([true, true, false, true]);
      expect((await row(ids[2]!)).status).toBe('sending');
      expect((await row(ids[3]!)).provider_id).toBe('SM-f3');
    });
  });

  it('records a send with its provider id and time, fenced by the attempt', async () => {
    const id = await make('sending', 1);
    await tdb.db
      .updateTable('deliveries')
      .set({ error: 'earlier try' })
      .where('id', '=', id)
      .execute();
    expect(await repo.markSent(id, 2, 'stale')).toBe(false); // not the current attempt
    clock.advance(5_000);
    expect(await repo.markSent(id, 1, 'SM1')).toBe(true);
    expect(await row(id)).toMatchObject({
      status: 'sent',
      provider_id: 'SM1',
      error: null,
      check_at: null,
      sent_at: new Date('2026-06-01T12:00:05Z'),
    });
    expect(await repo.markSent(id, 1, 'SM2')).toBe(false); // recorded once
    expect((await row(id)).provider_id).toBe('SM1');
  });

  it('lets a late record win over a requeue of the same attempt, but not over a new claim', async () => {
    const id = await make('sending', 1);
    expect(await repo.requeue(id, 1, 'lease expired', clock.now())).toBe(true);
    expect(await repo.markSent(id, 1, 'SM-late', { resolution: 'late record' })).toBe(true);
    expect(await row(id)).toMatchObject({ status: 'sent', resolution: 'late record' });

    const other = await make('sending', 1);
    await repo.requeue(other, 1, 'lease expired', clock.now());
    await repo.claim(other, 30_000); // attempt 2 started
    expect(await repo.markSent(other, 1, 'SM-stale')).toBe(false);
    expect(await row(other)).toMatchObject({ status: 'sending', attempts: 2 });
  });

  it('the sent time can come from the provider', async () => {
    const id = await make('sending', 1);
    const at = new Date('2026-06-01T11:59:58Z');
    await repo.markSent(id, 1, 'SM3', { sentAt: at });
    expect((await row(id)).sent_at).toEqual(at);
  });

  it.each(ALL)('fail from %s', async (status) => {
    const id = await make(status, 1);
    const moved = await repo.markFailed(id, 'reason');
    expect(moved).toBe(status === 'queued' || status === 'sending');
    expect((await row(id)).status).toBe(moved ? 'failed' : status);
    if (moved) expect(await row(id)).toMatchObject({ error: 'reason', check_at: null });
  });

  it('fail is fenced when given the attempt', async () => {
    const id = await make('sending', 3);
    expect(await repo.markFailed(id, 'stale', 2)).toBe(false);
    expect(await repo.markFailed(id, 'current', 3)).toBe(true);
  });

  it.each(ALL)(
    'skip from %s: only what never left, and only when it cannot be sent',
    async (status) => {
      const id = await make(status, 1);
      // Sendable (a live enrolment, an address): never skipped, whatever its state.
      expect(await repo.skipUnsendable(id)).toBeUndefined();
      expect((await row(id)).status).toBe(status);
      const stopped = await activeEnrolment(tdb, `stopped-${status}@example.com`);
      await tdb.db
        .updateTable('enrollments')
        .set({ status: 'cancelled' })
        .where('id', '=', stopped)
        .execute();
      await tdb.db
        .updateTable('deliveries')
        .set({ enrollment_id: stopped })
        .where('id', '=', id)
        .execute();
      expect(await repo.skipUnsendable(id)).toBe(
        status === 'queued'
          ? 'not sendable: opted out, suppressed or enrolment stopped'
          : undefined,
      );
      expect(await row(id)).toMatchObject({
        status: status === 'queued' ? 'skipped' : status,
        ...(status === 'queued' ? { check_at: null } : {}),
      });
    },
  );

  it('skips for a suppressed address, or none, naming which', async () => {
    const suppressed = await activeEnrolment(tdb, 'suppressed-skip@example.com');
    await tdb.db
      .insertInto('suppressions')
      .values({ address: 'suppressed-skip@example.com', channel: 'email', reason: 'STOP' })
      .execute();
    const [a] = await repo.insertQueued(tdb.db, [
      { enrollment_id: suppressed, step: 0, step_key: 'a', channel: 'email' },
    ]);
    expect(await repo.skipUnsendable(a!.id)).toBe(
      'not sendable: opted out, suppressed or enrolment stopped',
    );
    // An SMS delivery for a person with only an email address.
    const [b] = await repo.insertQueued(tdb.db, [
      { enrollment_id: enrollmentId, step: 900, step_key: 'b', channel: 'sms' },
    ]);
    expect(await repo.skipUnsendable(b!.id)).toBe('no address for channel');
    expect((await row(b!.id)).status).toBe('skipped');
  });

  it.each(ALL)('release from %s gives the attempt back', async (status) => {
    const id = await make(status, 2);
    const at = new Date('2026-06-02T08:00:00Z');
    expect(await repo.release(id, 2, at)).toBe(status === 'sending');
    if (status === 'sending')
      expect(await row(id)).toMatchObject({ status: 'queued', attempts: 1, check_at: at });
    else expect(await row(id)).toMatchObject({ status, attempts: 2 });
  });

  it.each(ALL)('retry from %s keeps the attempt and the error', async (status) => {
    const id = await make(status, 2);
    const at = new Date('2026-06-01T12:05:00Z');
    expect(await repo.markRetrying(id, 2, 'SMTP 451', at)).toBe(status === 'sending');
    if (status === 'sending')
      expect(await row(id)).toMatchObject({
        status: 'queued',
        attempts: 2,
        error: 'SMTP 451',
        check_at: at,
      });
    else expect((await row(id)).status).toBe(status);
    expect(await repo.markRetrying(id, 1, 'stale', at)).toBe(false);
  });

  it.each(ALL)('delivered and undelivered only after sent (from %s)', async (status) => {
    const id = await make(status, 1);
    await tdb.db
      .updateTable('deliveries')
      .set({ provider_id: `P-${id}` })
      .where('id', '=', id)
      .execute();
    expect(await repo.markDelivered(`P-${id}`)).toBe(status === 'sent');
    const other = await make(status, 1);
    await tdb.db
      .updateTable('deliveries')
      .set({ provider_id: `Q-${other}` })
      .where('id', '=', other)
      .execute();
    expect(await repo.markUndelivered(`Q-${other}`, 'Twilio undelivered (30003)')).toBe(
      status === 'sent',
    );
    if (status === 'sent') expect((await row(other)).error).toBe('Twilio undelivered (30003)');
  });

  it('a status callback moves only the delivery with that provider id', async () => {
    const [a, b] = [await make('sent', 1), await make('sent', 1)];
    for (const id of [a, b])
      await tdb.db
        .updateTable('deliveries')
        .set({ provider_id: `SM-${id}` })
        .where('id', '=', id)
        .execute();
    expect(await repo.markDelivered(`SM-${a}`)).toBe(true);
    expect(await repo.markUndelivered('SM-nobody', 'Twilio undelivered (30003)')).toBe(false);
    expect((await row(a)).status).toBe('delivered');
    expect(await row(b)).toMatchObject({ status: 'sent', error: null });
  });

  it('lists what an operator must explain, by kind, newest first, since a time, up to a limit', async () => {
    const e = await activeEnrolment(tdb, 'problems@example.com');
    const at = (minutes: number) => new Date(Date.UTC(2026, 5, 1, 12, minutes));
    const rows = await repo.insertQueued(
      tdb.db,
      [0, 1, 2, 3, 4, 5].map((n) => ({
        enrollment_id: e,
        step: n,
        step_key: `p${n}`,
        channel: 'email' as const,
      })),
    );
    const set: { status: DeliveryStatus; error?: string; resolution?: string; minute: number }[] = [
      { status: 'failed', error: 'SMTP 550 5.1.1', minute: 1 },
      { status: 'failed', error: 'old failure', minute: 0 },
      { status: 'skipped', error: 'cancelled: operator', minute: 2 },
      { status: 'sending', resolution: 'unresolved since then: log unreachable', minute: 3 },
      { status: 'sent', resolution: 'lease expired; found in the provider log', minute: 4 },
      { status: 'failed', error: 'newest failure', minute: 5 },
    ];
    for (const [i, d] of rows.entries()) {
      const { minute, ...values } = set[i]!;
      await tdb.db
        .updateTable('deliveries')
        .set({ ...values, attempts: 1, updated_at: at(minute) })
        .where('id', '=', d.id)
        .execute();
    }
    const ids = (list: { id: string }[]) => list.map((d) => d.id);
    const since = at(1);
    const failed = await repo.listProblems({ kind: 'failed', since, limit: 10 });
    expect(ids(failed)).toEqual([rows[5]!.id, rows[0]!.id]); // newest first; the old one left out
    expect(failed[1]).toEqual({
      id: rows[0]!.id,
      enrollmentId: e,
      campaign: 'upper-back-relief',
      step: 0,
      stepKey: 'p0',
      channel: 'email',
      status: 'failed',
      attempts: 1,
      error: 'SMTP 550 5.1.1',
      resolution: null,
      updatedAt: at(1),
    });
    expect(ids(await repo.listProblems({ kind: 'failed', since, limit: 1 }))).toEqual([
      rows[5]!.id,
    ]);
    expect(ids(await repo.listProblems({ kind: 'skipped', since, limit: 10 }))).toEqual([
      rows[2]!.id,
    ]);
    expect(ids(await repo.listProblems({ kind: 'unresolved', since, limit: 10 }))).toEqual([
      rows[3]!.id,
    ]);
    expect(ids(await repo.listProblems({ kind: 'settled', since, limit: 10 }))).toEqual([
      rows[4]!.id,
    ]);
  });

  it('an expired lease is taken once, only when expired, only for its attempt', async () => {
    const id = await make('sending', 1);
    await tdb.db
      .updateTable('deliveries')
      .set({ check_at: new Date('2026-06-01T12:00:10Z') })
      .where('id', '=', id)
      .execute();
    expect(await repo.takeExpiredLease(id, 1, 30_000)).toBe(false); // still live
    clock.advance(10_000); // exactly at the deadline: expired
    expect(await repo.takeExpiredLease(id, 2, 30_000)).toBe(false); // not its attempt
    expect(await repo.takeExpiredLease(id, 1, 30_000)).toBe(true);
    expect((await row(id)).check_at).toEqual(new Date('2026-06-01T12:00:40Z'));
    expect(await repo.takeExpiredLease(id, 1, 30_000)).toBe(false); // taken
    const queued = await make('queued', 1);
    await tdb.db
      .updateTable('deliveries')
      .set({ check_at: new Date(0) })
      .where('id', '=', queued)
      .execute();
    expect(await repo.takeExpiredLease(queued, 1, 30_000)).toBe(false); // not sending
  });

  it('notes an unresolved outcome on a delivery in flight only, and counts it', async () => {
    const before = await repo.countUnresolved();
    const id = await make('sending', 1);
    await repo.noteUnresolved(id, 1, 'unresolved since …: provider log unreachable');
    await repo.noteUnresolved(id, 2, 'stale attempt: ignored');
    const sent = await make('sent', 1);
    await repo.noteUnresolved(sent, 1, 'unresolved: ignored, it is final');
    expect((await row(id)).resolution).toBe('unresolved since …: provider log unreachable');
    expect((await row(sent)).resolution).toBeNull();
    expect(await repo.countUnresolved()).toBe(before + 1);
    await repo.markSent(id, 1, 'SM9');
    expect(await repo.countUnresolved()).toBe(before);
  });

  it('finds open deliveries due a look, oldest first, and pushes back only queued ones', async () => {
    await tdb.db.updateTable('deliveries').set({ check_at: null }).execute();
    const a = await make('queued');
    const b = await make('sending', 1);
    const c = await make('queued');
    const done = await make('sent', 1);
    const set = (id: string, iso: string) =>
      tdb.db
        .updateTable('deliveries')
        .set({ check_at: new Date(iso) })
        .where('id', '=', id)
        .execute();
    await set(a, '2026-06-01T11:00:00Z');
    await set(b, '2026-06-01T10:00:00Z');
    await set(c, '2026-06-01T13:00:00Z'); // not due yet
    await set(done, '2026-06-01T09:00:00Z'); // final: never due
    expect((await repo.findDue(clock.now(), 10)).map((d) => d.id)).toEqual([b, a]);
    expect((await repo.findDue(clock.now(), 1)).map((d) => d.id)).toEqual([b]);
    await repo.pushBack([a, b], new Date('2026-06-01T14:00:00Z'));
    expect((await row(a)).check_at).toEqual(new Date('2026-06-01T14:00:00Z'));
    expect((await row(b)).check_at).toEqual(new Date('2026-06-01T10:00:00Z')); // a lease: kept
  });

  it('withdraws only what never left; the lowest withdrawn step comes back', async () => {
    const e = { id: await activeEnrolment(tdb, 'withdraw@example.com') };
    const rows = await repo.insertQueued(
      tdb.db,
      [0, 1, 2, 3].map((n) => ({
        enrollment_id: e.id,
        step: n,
        step_key: `s${n}`,
        channel: 'email' as const,
      })),
    );
    const statuses: DeliveryStatus[] = ['sent', 'sending', 'queued', 'queued'];
    for (const [i, d] of rows.entries())
      await tdb.db
        .updateTable('deliveries')
        .set({ status: statuses[i]! })
        .where('id', '=', d.id)
        .execute();
    expect(await repo.withdrawQueued(tdb.db, e.id)).toEqual({ step: 2, stepKey: 's2' });
    const left = await repo.listForEnrollment(e.id);
    expect(left.map((d) => [d.step, d.status])).toEqual([
      [0, 'sent'],
      [1, 'sending'],
    ]);
    expect(await repo.withdrawQueued(tdb.db, e.id)).toBeNull();
    await repo.skipQueued(tdb.db, e.id, 'cancelled: operator');
    expect((await repo.listForEnrollment(e.id)).map((d) => d.status)).toEqual(['sent', 'sending']);
  });

  it('gives back the lowest withdrawn step whatever order the rows come in', async () => {
    const e = await activeEnrolment(tdb, 'withdraw-order@example.com');
    // Inserted highest first, so PostgreSQL returns them in that order.
    await repo.insertQueued(
      tdb.db,
      [5, 3, 4].map((n) => ({
        enrollment_id: e,
        step: n,
        step_key: `w${n}`,
        channel: 'email' as const,
      })),
    );
    expect(await repo.withdrawQueued(tdb.db, e)).toEqual({ step: 3, stepKey: 'w3' });
  });

  it('the transition table is the only way statuses move', () => {
    const reachable = new Set(Object.values(TRANSITIONS).flatMap((t) => [...t.from, t.to]));
    expect([...reachable].sort()).toEqual([...ALL].sort());
    // Nothing leaves a final state except the provider's report on a sent message, and a
    // failed one that clinic staff ask to send again (the dashboard's "Send again").
    for (const [name, t] of Object.entries(TRANSITIONS))
      for (const from of t.from)
        expect(name === 'resend' ? ['failed'] : ['queued', 'sending', 'sent']).toContain(from);
  });
});
