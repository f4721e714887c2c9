import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { SchedulerService } from '../src/scheduler/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

const DUE = 20_000;
const BATCH = 5_000;

/** Sequential scans of the two tables the scheduler's batches touch, as the server counts them. */
async function seqScans(tdb: TestDatabase): Promise<Record<string, number>> {
  // Other backends report their counts when idle, at most a second late.
  await new Promise((r) => setTimeout(r, 1500));
  await sql`SELECT pg_stat_clear_snapshot()`.execute(tdb.db);
  const { rows } = await sql<{ relname: string; seq_scan: string }>`
    SELECT relname, seq_scan FROM pg_stat_user_tables
     WHERE relname IN ('enrollments', 'deliveries')`.execute(tdb.db);
  return Object.fromEntries(rows.map((r) => [r.relname, Number(r.seq_scan)]));
}

/**
 * The scheduler's batch statements reach their rows through indexes at any table size. Left
 * to itself, the planner joins a batch of a few thousand keys to a sequential scan of the
 * whole table once the batch is a fair share of it, a cost that grows with every enrolment
 * there is (docs: README, "Where the time goes"). No timing here: the plan is the guard.
 */
describe('scheduler plans', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      env: { ROLE: 'api', SCHEDULER_BATCH: String(BATCH) },
    });
    await sql`
      WITH s AS (
        INSERT INTO subscribers (email)
        SELECT 'plan-' || g || '@example.test' FROM generate_series(1, ${DUE}::int) AS g
        RETURNING id
      )
      INSERT INTO enrollments
        (subscriber_id, campaign_id, channel, timezone, send_time, status, step, next_send_at, source)
      SELECT id, 'upper-back-relief', 'email', 'Europe/London', '08:00', 'active', 0,
             now() - interval '1 minute', 'test'
        FROM s`.execute(tdb.db);
    await sql`ANALYZE subscribers, enrollments, deliveries`.execute(tdb.db);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  it('claims, records and advances a burst with no sequential scan of either table', async () => {
    const before = await seqScans(tdb);
    let claimed = 0;
    for (let r = await t.get(SchedulerService).runPass(); r.claimed > 0;) {
      claimed += r.claimed;
      r = await t.get(SchedulerService).runPass();
    }
    expect(claimed).toBe(DUE);
    const after = await seqScans(tdb);
    expect(after).toEqual(before);
    const { count } = await tdb.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(DUE);
  }, 120_000);
});
