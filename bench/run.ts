/**
 * `npm run bench`: throughput and cost figures of selfcare-drip, each beside a baseline
 * measured in the same run. Uses a database and BullMQ prefix of its own and removes both.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { PG_ADMIN_URL, REDIS_URL } from '../test/support/env.js';
import {
  assertLocal,
  Cleanup,
  createBenchDatabase,
  deleteKeys,
  intFromEnv,
  type BenchContext,
  type Figure,
} from './harness.js';
import { benchImport } from './import.bench.js';
import { benchMemory } from './memory.bench.js';
import { benchProcesses } from './processes.bench.js';
import { renderTable, withRatio, writeJson, type Report } from './report.js';
import { benchScheduler } from './scheduler.bench.js';
import { benchSend } from './send.bench.js';
import { benchSignup } from './signup.bench.js';
import { StatementProfile } from './statements.js';
import { benchPunctuality } from './punctuality.bench.js';

const OUTPUT = resolve('var/bench/latest.json');

// The app under test must not log (NODE_ENV=test reads this), and every request stays local.
process.env.LOG_LEVEL = 'silent';
for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete process.env[k];

const knobs = {
  enrollments: intFromEnv('BENCH_ENROLLMENTS', 100_000, 1000, 2_000_000),
  deliveries: intFromEnv('BENCH_DELIVERIES', 5000, 100, 200_000),
  waitingJobs: intFromEnv('BENCH_JOBS', 20_000, 1000, 1_000_000),
  runs: intFromEnv('BENCH_RUNS', 3, 1, 9),
  emailConcurrency: intFromEnv('BENCH_EMAIL_CONCURRENCY', 20, 1, 500),
  emailRatePerSecond: intFromEnv('BENCH_EMAIL_RATE', 100_000, 1, 100_000),
  smsConcurrency: intFromEnv('BENCH_SMS_CONCURRENCY', 50, 1, 500),
  // The config caps SMS_RATE_PER_SECOND at 10,000.
  smsRatePerSecond: intFromEnv('BENCH_SMS_RATE', 10_000, 1, 10_000),
  importRows: intFromEnv('BENCH_IMPORT_ROWS', 100_000, 1000, 1_000_000),
  signupSeconds: intFromEnv('BENCH_SIGNUP_SECONDS', 5, 1, 60),
  // Punctuality bursts at realistic provider rates, and the limiter against a strict fake.
  burstSms: intFromEnv('BENCH_BURST_SMS', 2000, 100, 1_000_000),
  burstSmsRate: intFromEnv('BENCH_BURST_SMS_RATE', 100, 1, 10_000),
  burstEmail: intFromEnv('BENCH_BURST_EMAIL', 5000, 100, 1_000_000),
  burstEmailRate: intFromEnv('BENCH_BURST_EMAIL_RATE', 500, 1, 10_000),
  limiterRate: intFromEnv('BENCH_LIMITER_RATE', 100, 1, 10_000),
  limiterSeconds: intFromEnv('BENCH_LIMITER_SECONDS', 15, 5, 600),
  // BENCH_ONLY=processes: send figures with this many worker processes (comma list).
  processes: (process.env.BENCH_PROCESSES ?? '1,2,4')
    .split(',')
    .map((v) => Number(v.trim()))
    .filter((n) => Number.isInteger(n) && n >= 1 && n <= 16),
  // The import phase alone takes about 3 minutes (100,000 + 25,000 rows on 2 busy cores).
  // The whole default run takes about 8 minutes, BENCH_ENROLLMENTS=1000000 about 12.
  budgetSeconds: intFromEnv('BENCH_BUDGET_SECONDS', 900, 30, 3600),
};

async function main(): Promise<number> {
  const started = new Date();
  const t0 = performance.now();
  const cleanup = new Cleanup();
  const stop = (why: string, code: number) => {
    console.error(`bench: ${why}; cleaning up`);
    void cleanup.run().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(
    () => stop(`over its ${knobs.budgetSeconds} s budget`, 2),
    knobs.budgetSeconds * 1000,
  );
  process.once('SIGINT', () => stop('interrupted', 130));
  process.once('SIGTERM', () => stop('terminated', 143));

  const redisUrl = assertLocal(REDIS_URL);
  const redis = new Redis(redisUrl);
  cleanup.add('disconnect from redis', async () => redis.disconnect());
  const root = `sdbench-${randomBytes(5).toString('hex')}`;
  // Safety net: every key this run wrote starts with the random root.
  cleanup.add(`delete ${root}* keys`, () => deleteKeys(redis, `${root}*`));
  const database = await createBenchDatabase(assertLocal(PG_ADMIN_URL));
  cleanup.add('drop the bench database', () => database.drop());

  const ctx: BenchContext = {
    root,
    redisUrl,
    redis,
    database,
    cleanup,
    runs: knobs.runs,
    notes: [],
  };
  const figures: Figure[] = [];
  const profile: Record<string, unknown> = {};
  const usedKnobs: Record<string, unknown> = {
    runs: `${knobs.runs} (medians; the N-enrolment claim runs once)`,
  };
  let error: string | undefined;
  const machine: Record<string, unknown> = { cpus: cpus().length, node: process.version };
  try {
    machine.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    machine.postgres = (
      await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(database.db)
    ).rows[0]?.v;
    // With pg_stat_statements loaded (scripts/bench-profile.sh), each phase's costliest statements.
    const statements = await StatementProfile.open(database.db);
    machine.pgStatStatements = statements.available;
    const only = process.env.BENCH_ONLY?.split(',');
    const phases = [
      ['memory', () => benchMemory(ctx, knobs.waitingJobs)],
      ['scheduler', () => benchScheduler(ctx, knobs.enrollments)],
      ['send', () => benchSend(ctx, knobs)],
      ['punctuality', () => benchPunctuality(ctx, knobs)],
      ['signup', () => benchSignup(ctx, { seconds: knobs.signupSeconds })],
      ['import', () => benchImport(ctx, knobs.importRows)],
      // Only when named in BENCH_ONLY: it starts a dozen processes and takes minutes.
      [
        'processes',
        () =>
          benchProcesses(ctx, {
            deliveries: knobs.deliveries,
            processes: knobs.processes,
            emailConcurrency: knobs.emailConcurrency,
            smsConcurrency: knobs.smsConcurrency,
          }),
      ],
    ] as const;
    for (const [name, phase] of phases) {
      if (only ? !only.includes(name) : name === 'processes') continue;
      const p0 = performance.now();
      console.log(`bench: ${name}...`);
      await statements.reset();
      const result = await phase();
      if (statements.available) profile[name] = await statements.top();
      figures.push(...result.figures);
      usedKnobs[name] = result.knobs;
      ctx.notes.push(`${name} phase took ${((performance.now() - p0) / 1000).toFixed(1)} s`);
    }
  } catch (err) {
    error = (err as Error).stack ?? String(err);
  } finally {
    await cleanup.run();
    clearTimeout(watchdog);
  }

  const report: Report = {
    startedAt: started.toISOString(),
    durationSeconds: (performance.now() - t0) / 1000,
    machine,
    knobs: usedKnobs,
    figures: figures.map(withRatio),
    notes: ctx.notes,
    ...(Object.keys(profile).length ? { statements: profile } : {}),
    ...(error ? { error } : {}),
  };
  console.log(`\n${renderTable(report)}`);
  writeJson(OUTPUT, report);
  console.log(`\nwrote ${OUTPUT}`);
  return error ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Anything still holding the event loop open now is a leak, not work: do not wait for it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
