import { sql } from 'kysely';
import type { Channel, Db } from '../src/database/index.js';

export const CAMPAIGN = 'upper-back-relief';
export const SEED_ZONES = [
  'Europe/London',
  'America/New_York',
  'Asia/Tokyo',
  'America/Los_Angeles',
  'Australia/Sydney',
];

/** Rows a seeding statement writes at most: a million in one would pass the statement timeout. */
const SEED_CHUNK = 100_000;

/**
 * `n` subscribers, each with one active email enrolment at step 0 that fell due in the last
 * five minutes: set-based statements of at most SEED_CHUNK rows.
 */
export async function seedDueEnrollments(db: Db, n: number, tag: string): Promise<void> {
  for (let from = 1; from <= n; from += SEED_CHUNK) {
    const to = Math.min(n, from + SEED_CHUNK - 1);
    await sql`
      WITH s AS (
        INSERT INTO subscribers (email, name)
        SELECT 'bench-' || ${tag}::text || '-' || g || '@example.test', 'Bench ' || g
          FROM generate_series(${from}::int, ${to}::int) AS g
        RETURNING id
      ), numbered AS (
        SELECT id, ${from - 1}::int + row_number() OVER () AS i FROM s
      )
      INSERT INTO enrollments
        (subscriber_id, campaign_id, channel, timezone, send_time, status, step, next_send_at, source)
      SELECT id, ${CAMPAIGN}, 'email',
             (${sql.val(SEED_ZONES)}::text[])[1 + (i % ${SEED_ZONES.length})::int],
             '08:00', 'active', 0, now() - make_interval(secs => (i % 300)::int), ${tag}
        FROM numbered`.execute(db);
  }
}

/** Inserts `n` subscribers with an address on `channel` (numbered 1..n), returning their ids. */
const subscribersOn = (channel: Channel, n: number, tag: string) => sql`
  INSERT INTO subscribers (email, phone, name)
  SELECT CASE WHEN ${channel} = 'email'
              THEN 'bench-' || ${tag}::text || '-' || g || '@example.test' END,
         CASE WHEN ${channel} = 'sms'
              THEN '+1555' || lpad(g::text, 7, '0') END,
         'Bench ' || g
    FROM generate_series(1, ${n}::int) AS g
  RETURNING id`;

/**
 * `m` queued step-0 deliveries (with their subscribers and active enrolments, next step due
 * tomorrow) on `channel`: returns what the scheduler would hand to the queues.
 */
export async function seedQueuedDeliveries(
  db: Db,
  m: number,
  channel: Channel,
  timezone: string,
  tag: string,
): Promise<{ id: string; channel: Channel; clinicId: null }[]> {
  const { rows } = await sql<{ id: string; channel: Channel; clinicId: null }>`
    WITH s AS (${subscribersOn(channel, m, tag)}), e AS (
      INSERT INTO enrollments
        (subscriber_id, campaign_id, channel, timezone, send_time, status, step, next_send_at, source)
      SELECT id, ${CAMPAIGN}, ${channel}, ${timezone}, '08:00', 'active', 1,
             now() + interval '1 day', ${tag}
        FROM s
      RETURNING id
    )
    INSERT INTO deliveries (enrollment_id, step, step_key, channel, status)
    SELECT id, 0, 'welcome', ${channel}, 'queued' FROM e
    RETURNING id, channel, NULL::uuid AS "clinicId"`.execute(db);
  return rows;
}

/** Empties the tables between runs (and whatever references them), so each run starts alike. */
export async function truncateAll(db: Db): Promise<void> {
  await sql`TRUNCATE subscribers, enrollments, deliveries, suppressions CASCADE`.execute(db);
}

/**
 * `k` subscribers, each with one active step-0 enrolment on `channel` in `timezone`, all due
 * at `dueAt`: a morning burst.
 */
export async function seedBurst(
  db: Db,
  k: number,
  channel: Channel,
  timezone: string,
  dueAt: Date,
  tag: string,
): Promise<void> {
  await sql`
    WITH s AS (${subscribersOn(channel, k, tag)})
    INSERT INTO enrollments
      (subscriber_id, campaign_id, channel, timezone, send_time, status, step, next_send_at, source)
    SELECT id, ${CAMPAIGN}, ${channel}, ${timezone}, '08:00', 'active', 0, ${dueAt}, ${tag}
      FROM s`.execute(db);
}
