import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { loadConfig } from '../src/config/index.js';
import {
  JobName,
  QueueName,
  QueuesService,
  WORKER_KEEP,
  type DeliveryJobRef,
} from '../src/delivery/index.js';
import { createRedis } from '../src/delivery/redis.js';
import { deleteKeys, median, usedMemory, type BenchContext, type Figure } from './harness.js';

/**
 * Redis memory per waiting delivery job: K jobs enqueued by the app's QueuesService (its job
 * options included) with no worker on the prefix, against bare BullMQ jobs: the delivery id
 * as job id, no data and no options (the least a queue of deliveries can hold). Then a
 * worker with the app's keep settings drains each queue, and what is left over is noted.
 */
export async function benchMemory(
  ctx: BenchContext,
  k: number,
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const deliveries = () =>
    Array.from({ length: k }, (): DeliveryJobRef => ({
      id: randomUUID(),
      channel: 'email',
      clinicId: null,
    }));

  const appJobs = async (prefix: string): Promise<Sample> => {
    const queues = new QueuesService(
      loadConfig({ NODE_ENV: 'test', REDIS_URL: ctx.redisUrl, QUEUE_PREFIX: prefix }),
    );
    return measure(ctx, prefix, k, queues.queue(QueueName.Email), deliveries(), {
      add: (list) => queues.enqueueDeliveries(list),
      close: () => queues.onApplicationShutdown(),
    });
  };

  const bareJobs = async (prefix: string): Promise<Sample> => {
    const connection = createRedis(ctx.redisUrl);
    const queue = new Queue(QueueName.Email, { connection, prefix });
    return measure(ctx, prefix, k, queue, deliveries(), {
      add: async (list) => {
        for (let i = 0; i < list.length; i += 1000) {
          await queue.addBulk(
            list.slice(i, i + 1000).map((d) => ({
              name: JobName.SendDelivery,
              data: {},
              opts: { jobId: d.id },
            })),
          );
        }
      },
      close: async () => {
        await queue.close();
        connection.disconnect();
      },
    });
  };

  const app: Sample[] = [];
  const bare: Sample[] = [];
  for (let r = 0; r < ctx.runs; r++) {
    app.push(await appJobs(`${ctx.root}-mem${r}`));
    bare.push(await bareJobs(`${ctx.root}-membare${r}`));
  }
  // A job hash whose fields all fit hash-max-listpack-value stays a compact listpack.
  const limit = (await ctx.redis.config('GET', 'hash-max-listpack-value'))[1];
  ctx.notes.push(
    `redis: after a drain (worker keep settings: ${JSON.stringify(WORKER_KEEP)}), used_memory is ` +
      `${median(app.map((x) => x.leftAfterDrain))} B above where it started for the app's jobs ` +
      `(bare: ${median(bare.map((x) => x.leftAfterDrain))} B), against ` +
      `${Math.round(median(app.map((x) => x.perJob)) * k)} B while the ${k} jobs waited`,
  );
  ctx.notes.push(
    `redis: one app job hash is ${app[0]!.encoding}, ${app[0]!.usage} B (longest field ${app[0]!.longestField} B); ` +
      `a bare one is ${bare[0]!.encoding}, ${bare[0]!.usage} B (longest field ${bare[0]!.longestField} B); ` +
      `hash-max-listpack-value is ${limit}`,
  );
  return {
    knobs: { waitingJobs: k },
    figures: [
      {
        what: `redis: bytes per waiting delivery job (K=${k})`,
        figure: median(app.map((x) => x.perJob)),
        unit: 'B',
        baseline: median(bare.map((x) => x.perJob)),
        baselineWhat: 'bare BullMQ job: the delivery id as job id, no data, no options',
        samples: app.map((x) => x.perJob),
        baselineSamples: bare.map((x) => x.perJob),
        note: 'INFO memory used_memory delta / K',
      },
    ],
  };
}

interface Sample {
  perJob: number;
  /** OBJECT ENCODING, MEMORY USAGE and longest field of the first job's hash. */
  encoding: string;
  usage: number;
  longestField: number;
  /** used_memory after a worker drained the queue, minus before the jobs were added. */
  leftAfterDrain: number;
}

async function measure(
  ctx: BenchContext,
  prefix: string,
  k: number,
  queue: Queue,
  list: DeliveryJobRef[],
  how: { add(list: DeliveryJobRef[]): Promise<void>; close(): Promise<void> },
): Promise<Sample> {
  const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
    deleteKeys(ctx.redis, `${prefix}:*`),
  );
  const close = ctx.cleanup.add(`close the ${prefix} queues`, () => how.close());
  await queue.waitUntilReady();
  const before = await usedMemory(ctx.redis);
  await how.add(list);
  const after = await usedMemory(ctx.redis);
  const { waiting } = await queue.getJobCounts('waiting');
  if (waiting !== k) throw new Error(`${prefix}: ${waiting} waiting jobs, not ${k}`);
  const key = `${prefix}:${QueueName.Email}:${list[0]!.id}`;
  const encoding = String(await ctx.redis.object('ENCODING', key));
  const usage = Number(await ctx.redis.memory('USAGE', key));
  const fields = Object.values(await ctx.redis.hgetall(key));
  // Drain with a do-nothing worker that keeps what the app's workers keep.
  const connection = createRedis(ctx.redisUrl);
  const worker = new Worker(queue.name, async () => undefined, {
    connection,
    prefix: queue.opts.prefix,
    concurrency: 100,
    ...WORKER_KEEP,
  });
  const closeWorker = ctx.cleanup.add(`close the ${prefix} drain worker`, async () => {
    await worker.close();
    connection.disconnect();
  });
  for (;;) {
    const c = await queue.getJobCounts('waiting', 'active', 'completed');
    if (c.waiting === 0 && c.active === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await closeWorker();
  const drained = await usedMemory(ctx.redis);
  await close();
  await dropKeys();
  return {
    perJob: (after - before) / k,
    encoding,
    usage,
    longestField: Math.max(...fields.map((v) => Buffer.byteLength(v))),
    leftAfterDrain: drained - before,
  };
}
