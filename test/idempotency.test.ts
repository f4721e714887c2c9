import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../src/common/clock.js';
import { DeliveriesRepository, QueuesService } from '../src/delivery/index.js';
import { EnrollmentsRepository, EnrollmentsService } from '../src/enrollments/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { SCHEDULER_LOCK } from '../src/scheduler/scheduler.service.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { DEMO_STEPS } from './support/journey.js';
import { startPrivateRedis, type PrivateRedis } from './support/private-redis.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

const recipients = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `${tag}${i}@example.com`);

function perRecipient(smtp: SmtpSink): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of smtp.messages) {
    const addr = !Array.isArray(m.to) ? m.to?.value[0]?.address : undefined;
    if (!addr) continue;
    out.set(addr, [...(out.get(addr) ?? []), m.subject ?? '']);
  }
  return out;
}

async function enrolAll(t: TestApp, emails: string[]): Promise<void> {
  const service = t.get(EnrollmentsService);
  for (const email of emails) {
    await service.enroll(
      {
        campaign: 'upper-back-relief-demo',
        channel: 'email',
        email,
        timezone: 'UTC',
        sendTime: '08:00',
      },
      'test',
    );
  }
}

/** Enrols `n` new people with their welcome due at once, and returns their enrolment ids. */
async function enrolFresh(t: TestApp, n: number, tag: string): Promise<string[]> {
  const service = t.get(EnrollmentsService);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = await service.enroll(
      {
        campaign: 'upper-back-relief-demo',
        channel: 'email',
        email: `${tag}${i}-${Date.now()}@example.com`,
        timezone: 'UTC',
        sendTime: '08:00',
      },
      'test',
    );
    ids.push(e.id);
  }
  return ids;
}

async function cancelAll(t: TestApp, ids: string[]): Promise<void> {
  for (const id of ids) await t.get(EnrollmentsService).cancel(id);
}

/** Every recipient got exactly one message per step, in the same order as everyone else. */
function expectExactlyOncePerStep(smtp: SmtpSink, emails: string[]): void {
  const got = perRecipient(smtp);
  const reference = got.get(emails[0]!);
  expect(reference).toHaveLength(DEMO_STEPS.length);
  expect(new Set(reference).size).toBe(DEMO_STEPS.length);
  for (const e of emails) expect(got.get(e)).toEqual(reference);
}

describe('exactly one delivery per step', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  const apps: TestApp[] = [];
  const prefix = uniquePrefix();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await smtp.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  it('racing scheduler passes and two worker processes send each step once', async () => {
    const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
    const env = { SMTP_URL: smtp.url, SEND_BACKOFF_MS: '100', SCHEDULER_BATCH: '7' };
    // Two full instances (scheduler loop + workers) and one more worker process, all on one queue.
    for (const role of ['all', 'all', 'worker']) {
      apps.push(
        await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ...env, ROLE: role } }),
      );
    }
    const emails = recipients(25, 'race');
    await enrolAll(apps[0]!, emails);
    const schedulers = apps.slice(0, 2).map((a) => a.get(SchedulerService));

    for (let step = 1; step <= DEMO_STEPS.length; step++) {
      // On top of the two running loops, fire extra passes from both instances at once.
      // (When a background loop holds the pass lock, these find it taken and do nothing.)
      await Promise.all([...schedulers, ...schedulers].map((s) => s.runPass()));
      await waitFor(
        () => smtp.messages.length >= emails.length * step,
        `step ${step} for everyone`,
      );
      clock.advance(10_000);
    }
    clock.advance(3600_000);
    expect((await schedulers[0]!.runPass()).claimed).toBe(0);

    // Re-adding every job (as a sweeper would after a crash) sends nothing again.
    const all = await tdb.db.selectFrom('deliveries').select(['id', 'channel']).execute();
    expect(all).toHaveLength(emails.length * DEMO_STEPS.length);
    await apps[0]!.get(QueuesService).enqueueDeliveries(all.map((d) => ({ ...d, clinicId: null })));
    const rows = all.map((d) => d.id);
    expect(rows.length).toBe(new Set(rows).size);
    await waitFor(async () => {
      const c = await apps[0]!.get(QueuesService).counts();
      return (c.email.waiting ?? 0) + (c.email.active ?? 0) + (c.email.delayed ?? 0) === 0;
    }, 'the re-added jobs to drain');
    expectExactlyOncePerStep(smtp, emails);
    expect(smtp.messages).toHaveLength(emails.length * DEMO_STEPS.length);
  });

  it('the unique key refuses a second delivery for a step', async () => {
    const repo = apps[0]!.get(DeliveriesRepository);
    const e = await tdb.db.selectFrom('enrollments').select('id').executeTakeFirstOrThrow();
    const again = await repo.insertQueued(tdb.db, [
      { enrollment_id: e.id, step: 0, step_key: 'welcome', channel: 'email' },
    ]);
    expect(again).toEqual([]);
    await expect(
      tdb.db
        .insertInto('deliveries')
        .values({
          enrollment_id: e.id,
          step: 0,
          step_key: 'welcome',
          channel: 'email',
          status: 'queued',
        })
        .execute(),
    ).rejects.toThrow(/deliveries_once_per_step/);
  });
});

describe('Redis wiped mid-campaign', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let redis: PrivateRedis;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await smtp.close();
    await redis.stop();
    await tdb.drop();
  });

  it('completes the campaign with nothing lost or doubled', async () => {
    const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
    const env = { SMTP_URL: smtp.url, SEND_BACKOFF_MS: '100', REDIS_URL: redis.url };
    const scheduler = await startApp({
      databaseUrl: tdb.url,
      prefix: 'wipe',
      clock,
      env: { ...env, ROLE: 'scheduler' },
    });
    apps.push(scheduler);
    let worker = await startApp({
      databaseUrl: tdb.url,
      prefix: 'wipe',
      clock,
      env: { ...env, ROLE: 'worker' },
    });
    const emails = recipients(5, 'wipe');
    await enrolAll(scheduler, emails);

    for (let step = 1; step <= 3; step++) {
      await waitFor(() => smtp.messages.length >= emails.length * step, `step ${step}`);
      clock.advance(10_000);
    }
    // Stop the workers, let step 4 be claimed and queued, then wipe Redis: its jobs are gone.
    await worker.close();
    const queued = async () =>
      (await tdb.db.selectFrom('deliveries').select('id').where('status', '=', 'queued').execute())
        .length;
    await waitFor(async () => (await queued()) === emails.length, 'step 4 to be queued');
    await redis.client.flushall();
    expect(await redis.client.dbsize()).toBe(0);

    worker = await startApp({
      databaseUrl: tdb.url,
      prefix: 'wipe',
      clock,
      env: { ...env, ROLE: 'worker' },
    });
    apps.push(worker);
    // The sweeper re-enqueues deliveries left queued for over two minutes with no job.
    clock.advance(3 * 60_000);
    await scheduler.get(SchedulerService).sweep();
    for (let step = 4; step <= DEMO_STEPS.length; step++) {
      await waitFor(
        () => smtp.messages.length >= emails.length * step,
        `step ${step} after the wipe`,
      );
      clock.advance(10_000);
    }
    clock.advance(3600_000);
    expect((await scheduler.get(SchedulerService).runPass()).claimed).toBe(0);
    expect(await queued()).toBe(0);
    expectExactlyOncePerStep(smtp, emails);
    expect(smtp.messages).toHaveLength(emails.length * DEMO_STEPS.length);
  });
});

/**
 * The guards themselves, raced directly: API-only instances, so no background loop or worker
 * touches these rows, each with its own connection pool (as separate processes would have).
 */
describe('claims under contention', () => {
  let tdb: TestDatabase;
  const api: TestApp[] = [];
  const prefix = uniquePrefix();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    for (let i = 0; i < 3; i++)
      api.push(await startApp({ databaseUrl: tdb.url, prefix, env: { ROLE: 'api' } }));
  });
  afterAll(async () => {
    for (const a of api) await a.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  it('two scheduler transactions claim disjoint rows without waiting for each other (SKIP LOCKED)', async () => {
    const repo = api[0]!.get(EnrollmentsRepository);
    const ids = await enrolFresh(api[0]!, 6, 'skip');
    const now = new Date('2030-01-01T00:00:00Z'); // everyone enrolled above is due by then
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let firstClaim: string[] = [];
    const first = repo.transaction(async (trx) => {
      firstClaim = (await repo.claimDue(trx, now, 3)).map((e) => e.id);
      await held; // keeps its row locks until the second claim is done
    });
    await waitFor(() => firstClaim.length === 3, 'the first claim');
    const started = Date.now();
    const second = await repo.transaction(async (trx) =>
      (await repo.claimDue(trx, now, 10)).map((e) => e.id),
    );
    const waited = Date.now() - started;
    release();
    await first;
    expect(waited).toBeLessThan(1_000); // did not block on the first transaction's locks
    expect(second.filter((id) => firstClaim.includes(id))).toEqual([]);
    expect(new Set([...firstClaim, ...second])).toEqual(new Set(ids));
    await cancelAll(api[0]!, ids);
  });

  it('a pass does nothing while another instance holds the pass lock', async () => {
    const repo = api[0]!.get(EnrollmentsRepository);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked = false;
    const holder = repo.transaction(async (trx) => {
      locked = await repo.tryAdvisoryLock(trx, SCHEDULER_LOCK);
      await held;
    });
    await waitFor(() => locked, 'the other instance to hold the lock');
    const ids = await enrolFresh(api[0]!, 2, 'locked');
    const result = await api[0]!.get(SchedulerService).runPass();
    release();
    await holder;
    expect(result).toEqual({ ran: false, claimed: 0, enqueued: 0 });
    await cancelAll(api[0]!, ids);
  });

  it('many workers claiming one delivery at once: exactly one wins', async () => {
    const [id] = await enrolFresh(api[0]!, 1, 'claim');
    const repo = api[0]!.get(DeliveriesRepository);
    const e = await tdb.db
      .selectFrom('enrollments')
      .select('id')
      .where('id', '=', id!)
      .executeTakeFirstOrThrow();
    const [d] = await repo.insertQueued(tdb.db, [
      { enrollment_id: e.id, step: 0, step_key: 'welcome', channel: 'email' },
    ]);
    // Separate connections, as separate worker processes would have.
    const repos = api.map((a) => a.get(DeliveriesRepository));
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) => repos[i % repos.length]!.claim(d!.id, 60_000)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const row = await tdb.db
      .selectFrom('deliveries')
      .selectAll()
      .where('id', '=', d!.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sending', attempts: 1 });
    await cancelAll(api[0]!, [id!]);
  });
});
