import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { JobName, QueueName, QueuesService } from '../src/delivery/index.js';
import { createRedis } from '../src/delivery/redis.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { startApp } from '../test/support/app.js';
import { deleteKeys, median, timeMs, type BenchContext, type Figure } from './harness.js';
import { CAMPAIGN, SEED_ZONES, seedDueEnrollments, truncateAll } from './seed.js';

const EMPTY_PASSES = 15;
const ADD_BULK_BATCH = 1000;

/**
 * Scheduler claim throughput over `n` due enrolments (ROLE=api app, SchedulerService called
 * directly), and the cost of a pass with nothing due, against raw BullMQ addBulk.
 */
export async function benchScheduler(
  ctx: BenchContext,
  n: number,
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const { db } = ctx.database;
  const prefix = `${ctx.root}-sched`;
  const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
    deleteKeys(ctx.redis, `${prefix}:*`),
  );
  const t = await startApp({
    databaseUrl: ctx.database.url,
    prefix,
    env: {
      ROLE: 'api',
      ...(process.env.BENCH_SCHEDULER_BATCH
        ? { SCHEDULER_BATCH: process.env.BENCH_SCHEDULER_BATCH }
        : {}),
    },
  });
  const closeApp = ctx.cleanup.add('close the scheduler app', () => t.close());
  const scheduler = t.get(SchedulerService);
  const batchSize = t.config.scheduler.batchSize;

  const emptyPasses = async () => {
    const samples: number[] = [];
    for (let i = 0; i < EMPTY_PASSES; i++) {
      let claimed = 0;
      samples.push(await timeMs(async () => ({ claimed } = await scheduler.runPass())));
      if (claimed !== 0) throw new Error(`an empty pass claimed ${claimed}`);
    }
    return samples;
  };

  // Baseline for the empty pass: the same call with no enrolments at all.
  for (let i = 0; i < 20; i++) await scheduler.runPass(); // warm-up: JIT, pool connections
  const emptyWithNone = await emptyPasses();

  const seedMs = await timeMs(() => seedDueEnrollments(db, n, 'sched'));
  await sql`ANALYZE subscribers, enrollments`.execute(db);
  const { rows: plan } = await sql<{ 'QUERY PLAN': string }>`
    EXPLAIN SELECT * FROM enrollments WHERE status = 'active' AND next_send_at <= now()
     ORDER BY next_send_at LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`.execute(db);
  const planText = plan.map((r) => r['QUERY PLAN']).join(' | ');
  ctx.notes.push(
    `scheduler: seeded ${n} due enrolments (${SEED_ZONES.join(', ')}; campaign ${CAMPAIGN}) ` +
      `in ${(seedMs / 1000).toFixed(1)} s; claim plan uses the partial index enrollments_due: ` +
      `${planText.includes('enrollments_due') ? 'yes' : `NO (${planText})`}`,
  );

  const passes: number[] = [];
  let enqueued = 0;
  const maxPasses = Math.ceil(n / batchSize) + 2;
  const claimMs = await timeMs(async () => {
    for (;;) {
      const r = await scheduler.runPass();
      if (!r.ran) throw new Error('the scheduler pass did not get its advisory lock');
      passes.push(r.claimed);
      enqueued += r.enqueued;
      if (r.claimed === 0) break;
      if (passes.length > maxPasses) throw new Error(`still claiming after ${maxPasses} passes`);
    }
  });
  const claimed = passes.reduce((a, b) => a + b, 0);
  const { count: deliveries } = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  const { waiting } = await t.get(QueuesService).queue(QueueName.Email).getJobCounts('waiting');
  if (claimed !== n || enqueued !== n || Number(deliveries) !== n || waiting !== n)
    throw new Error(
      `claimed ${claimed}, enqueued ${enqueued}, ${deliveries} delivery rows and ${waiting} waiting jobs for ${n} due enrolments`,
    );
  ctx.notes.push(
    `scheduler: ${passes.length} passes claimed ${passes.join(' + ')} ` +
      `(batch ${batchSize}; a pass takes at most 50 batches, then the loop starts the next at once)`,
  );

  // Right after the claim the partial index still holds an entry for every old, now dead, row.
  const firstEmpty = await timeMs(() => scheduler.runPass());
  await sql`VACUUM ANALYZE enrollments`.execute(db);
  const emptyWithAllTomorrow = await emptyPasses();

  await closeApp();
  await dropKeys();
  await truncateAll(db);

  const addBulk: number[] = [];
  for (let r = 0; r < ctx.runs; r++) addBulk.push(await rawAddBulk(ctx, `${ctx.root}-raw${r}`, n));
  const addBulkRate = median(addBulk.map((ms) => (n / ms) * 1000));

  const baselineWhat = `raw BullMQ addBulk of ${n} jobs, batches of ${ADD_BULK_BATCH}`;
  return {
    knobs: { enrollments: n, schedulerBatch: batchSize, role: 'api' },
    figures: [
      {
        // Each claimed enrolment gets its delivery row and job in the same pass, so one rate.
        what: `scheduler: enrolments claimed, delivery rows written and jobs enqueued/s (N=${n})`,
        figure: (enqueued / claimMs) * 1000,
        unit: '/s',
        baseline: addBulkRate,
        baselineWhat,
        samples: [claimMs],
        baselineSamples: addBulk,
        note: `samples are ms for all N; ${claimed} claimed`,
      },
      {
        what: `scheduler: empty pass, N=${n} all due tomorrow`,
        figure: median(emptyWithAllTomorrow),
        unit: 'ms',
        baseline: median(emptyWithNone),
        baselineWhat: 'empty pass with no enrolments at all',
        samples: emptyWithAllTomorrow,
        baselineSamples: emptyWithNone,
        note: 'after VACUUM ANALYZE',
      },
      {
        what: `scheduler: first empty pass right after the claim`,
        figure: firstEmpty,
        unit: 'ms',
        baseline: median(emptyWithNone),
        baselineWhat: 'empty pass with no enrolments at all',
        samples: [firstEmpty],
        baselineSamples: emptyWithNone,
        note: 'before vacuum: the partial index still points at the N dead row versions',
      },
    ],
  };
}

/** The baseline: the same number of id-only jobs straight into BullMQ on a prefix of its own. */
async function rawAddBulk(ctx: BenchContext, prefix: string, n: number): Promise<number> {
  const connection = createRedis(ctx.redisUrl);
  const queue = new Queue(QueueName.Email, { connection, prefix });
  const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
    deleteKeys(ctx.redis, `${prefix}:*`),
  );
  const close = ctx.cleanup.add(`close the ${prefix} queue`, async () => {
    await queue.close();
    connection.disconnect();
  });
  const jobs = Array.from({ length: n }, () => {
    const id = randomUUID();
    return {
      name: JobName.SendDelivery,
      data: { clinicId: null },
      opts: { jobId: id },
    };
  });
  await queue.waitUntilReady();
  const ms = await timeMs(async () => {
    for (let i = 0; i < jobs.length; i += ADD_BULK_BATCH)
      await queue.addBulk(jobs.slice(i, i + ADD_BULK_BATCH));
  });
  const { waiting } = await queue.getJobCounts('waiting');
  if (waiting !== n) throw new Error(`raw addBulk left ${waiting} waiting jobs, not ${n}`);
  await close();
  await dropKeys();
  return ms;
}
