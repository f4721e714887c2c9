import { Redis, type RedisOptions } from 'ioredis';
import {
  DependencyDownError,
  registerEndpoint,
  reportOutage,
  reportRecovery,
  withDeadline,
} from '../common/index.js';

/**
 * What a connection is for, which decides how it behaves while Redis is unreachable:
 * - `worker`: BullMQ Workers (and anything that blocks, like QueueEvents). Commands wait for
 *   Redis to come back (BullMQ requires `maxRetriesPerRequest: null` here).
 * - `producer`: Queues that add jobs, and other short commands on a request's path. Commands
 *   fail at once while Redis is not connected, and a command in flight when it drops fails
 *   after one retry, so the caller can answer 503 instead of hanging.
 */
export type RedisPurpose = 'worker' | 'producer';

const PURPOSE_OPTIONS: Record<RedisPurpose, RedisOptions> = {
  worker: { maxRetriesPerRequest: null },
  producer: { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5_000 },
};

/**
 * A Redis connection whose errors are counted as an outage (one log line per outage, see
 * common/outage.ts) rather than logged each time, and whose 'ready' ends the outage.
 * Reconnects every second at most, so service resumes within a second of Redis returning.
 */
export function createRedis(url: string, opts: { purpose?: RedisPurpose } = {}): Redis {
  const redis = new Redis(url, {
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    ...PURPOSE_OPTIONS[opts.purpose ?? 'worker'],
  });
  registerEndpoint('redis', url);
  redis.on('error', (err) => reportOutage('redis', err));
  redis.on('ready', () => reportRecovery('redis'));
  return redis;
}

/** Connection states on the way to `ready`; any other (reconnecting, close, end) is down. */
const COMING_UP = new Set(['wait', 'connecting', 'connect']);

/** Resolves true once the connection is ready, false if it is not within `ms`. */
export function waitForRedis(connection: Redis, ms: number): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      resolve(ok);
    };
    connection.once('ready', onReady);
  });
}

/**
 * Resolves when the connection is ready; throws a DependencyDownError at once when it is
 * known to be down (reconnecting after an error), or after `ms` when it is still on its way
 * up (just started). Check before a command that must not wait: BullMQ's Queue.add waits,
 * however the connection is set up, until its connection has been ready once, so with Redis
 * down since start-up it would hang.
 */
export async function redisReady(connection: Redis, ms = 1_000): Promise<void> {
  if (connection.status === 'ready') return;
  if (COMING_UP.has(connection.status) && (await waitForRedis(connection, ms))) return;
  throw new DependencyDownError('redis', `not reachable (${connection.status})`);
}

/**
 * Runs a Redis operation that must answer promptly (on a request's path): ready or not,
 * answered or not, it settles within about `timeoutMs`, with a DependencyDownError (503)
 * when Redis is not there. A late operation still completes in the background: use it only
 * where that is harmless (adding a job with a fixed id, which the worker checks against
 * PostgreSQL).
 */
export async function promptly<T>(
  connection: Redis,
  operation: () => Promise<T>,
  timeoutMs = 1_500,
): Promise<T> {
  const started = Date.now();
  await redisReady(connection, timeoutMs);
  const left = Math.max(timeoutMs - (Date.now() - started), 100);
  return withDeadline(
    operation(),
    left,
    () => new DependencyDownError('redis', `no answer within ${timeoutMs} ms`),
  );
}
