import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import type { Channel } from '../src/database/index.js';
import { QueuesService } from '../src/delivery/index.js';
import {
  deleteKeys,
  median,
  pollUntil,
  timeMs,
  type BenchContext,
  type Figure,
} from './harness.js';
import { seedQueuedDeliveries, truncateAll } from './seed.js';
import { statusCounts, zoneInSmsWindow } from './send.bench.js';
import { startSinks, type Sinks } from './sinks.js';

export interface ProcessKnobs {
  deliveries: number;
  /** Worker process counts to compare, such as [1, 2, 4]. */
  processes: number[];
  emailConcurrency: number;
  smsConcurrency: number;
}

const TWILIO_FROM = '+15005550006';
/** The compiled service's entry point (dist-bench/src/main.js, beside this file's folder). */
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** Starts one `ROLE=worker` process of the built service and waits until it listens. */
function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`a worker process did not start in 60 s: ${err.slice(-500)}`));
    }, 60_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
      if (/listening on/.test(err)) {
        clearTimeout(timer);
        resolveStart(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`a worker process exited with ${code} before it listened: ${err.slice(-500)}`),
      );
    });
  });
}

function stopWorker(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

/**
 * How send throughput grows with worker processes: the same M deliveries per channel, sent
 * end to end by 1, 2 and 4 `ROLE=worker` processes of the built service (separate Node
 * processes, as in production), to the local SMTP sink and Twilio fake. Each count's rate
 * is shown against one process in the same run: the ratio is the speed-up.
 */
export async function benchProcesses(
  ctx: BenchContext,
  knobs: ProcessKnobs,
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const { db } = ctx.database;
  const m = knobs.deliveries;
  const sinks: Sinks = await startSinks();
  const stopSinks = ctx.cleanup.add('stop the sinks (processes)', () => sinks.close());
  const prefix = `${ctx.root}-procs`;
  const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
    deleteKeys(ctx.redis, `${prefix}:*`),
  );
  const env = {
    NODE_ENV: 'test',
    ROLE: 'worker',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: ctx.database.url,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: prefix,
    TEMPLATES_DIR: resolve('templates'),
    SMTP_URL: sinks.smtpUrl,
    TWILIO_ACCOUNT_SID: sinks.twilio.accountSid,
    TWILIO_AUTH_TOKEN: sinks.twilio.authToken,
    TWILIO_FROM,
    TWILIO_API_URL: sinks.twilio.url,
    EMAIL_CONCURRENCY: String(knobs.emailConcurrency),
    SMS_CONCURRENCY: String(knobs.smsConcurrency),
    // No provider limit: the figure is what the processes can do.
    EMAIL_RATE_PER_SECOND: '100000',
    SMS_RATE_PER_SECOND: '100000',
  };
  const queues = new QueuesService(
    loadConfig({ NODE_ENV: 'test', REDIS_URL: ctx.redisUrl, QUEUE_PREFIX: prefix }),
  );
  const closeQueues = ctx.cleanup.add('close the bench queues', () =>
    queues.onApplicationShutdown(),
  );
  const smsZone = zoneInSmsWindow();

  const run = async (channel: Channel, processes: number): Promise<number> => {
    await truncateAll(db);
    const rows = await seedQueuedDeliveries(db, m, channel, smsZone, `procs-${channel}`);
    const children = await Promise.all(Array.from({ length: processes }, () => startWorker(env)));
    try {
      let counts: Record<string, number> = {};
      return await timeMs(async () => {
        await queues.enqueueDeliveries(rows);
        await pollUntil(
          async () => {
            counts = await statusCounts(db);
            const bad = (counts.failed ?? 0) + (counts.skipped ?? 0);
            if (bad > 0) throw new Error(`${channel}: ${bad} failed or skipped`);
            return counts.sent === m;
          },
          () =>
            `${m} ${channel} deliveries sent by ${processes} processes (now ${counts.sent ?? 0})`,
          Math.max(120_000, m * 40),
        );
      });
    } finally {
      await Promise.all(children.map(stopWorker));
    }
  };

  const samples = new Map<string, number[]>();
  for (let r = 0; r < ctx.runs; r++)
    for (const channel of ['email', 'sms'] as const)
      for (const p of knobs.processes) {
        const key = `${channel}:${p}`;
        samples.set(key, [...(samples.get(key) ?? []), await run(channel, p)]);
      }

  await closeQueues();
  await dropKeys();
  await stopSinks();
  await truncateAll(db);

  const rate = (ms: number[]) => median(ms.map((x) => (m / x) * 1000));
  const one = Math.min(...knobs.processes);
  const figures: Figure[] = [];
  for (const channel of ['email', 'sms'] as const)
    for (const p of knobs.processes) {
      const mine = samples.get(`${channel}:${p}`)!;
      const base = samples.get(`${channel}:${one}`)!;
      figures.push({
        what: `scale: ${channel} sent/s with ${p} worker process${p === 1 ? '' : 'es'} (M=${m})`,
        figure: rate(mine),
        unit: '/s',
        baseline: rate(base),
        baselineWhat: `${one} worker process, same run (the ratio is the speed-up)`,
        samples: mine,
        baselineSamples: base,
        note: 'samples are ms for all M; separate Node processes of the built service',
      });
    }
  return {
    knobs: {
      deliveries: m,
      processes: knobs.processes,
      emailConcurrency: knobs.emailConcurrency,
      smsConcurrency: knobs.smsConcurrency,
      cpus: (await import('node:os')).cpus().length,
    },
    figures,
  };
}
