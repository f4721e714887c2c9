import { Logger } from '@nestjs/common';
import { maskText } from './mask.js';

/**
 * Outages of the services we depend on (PostgreSQL, Redis): logged once each, with a count.
 *
 * While a dependency is down every client keeps failing (each reconnect attempt, each query,
 * each BullMQ poll): logging every failure buries the log, logging none hides the outage. So
 * the first connection error of an outage logs one line, later ones are only counted, and the
 * first sign of recovery logs one more:
 *
 *   redis unreachable: ECONNREFUSED 127.0.0.1:6379; further errors are counted, not logged
 *   redis reachable again after 12.3 s; 245 errors during the outage
 *
 * Plain functions, no Nest DI, so connection factories and event handlers can use them.
 * `createRedis` (every ioredis connection it makes) and `createDb` (the pg pool and its
 * clients) are already hooked up. Elsewhere:
 *
 *   reportOutage('redis', err)        an error you know is a connection failure of Redis or
 *                                     PostgreSQL (e.g. in a BullMQ Worker's or Queue's 'error'
 *                                     handler, whose errors are all connection errors)
 *   reportIfConnectionError(err)      for a catch that sees all kinds of errors (the scheduler
 *                                     loop): counts a connection error against the dependency
 *                                     it names and returns true; returns false for anything
 *                                     else, which the caller logs as usual:
 *                                       if (!reportIfConnectionError(err)) logger.error(...)
 *   reportRecovery('postgres')        something worked again (a pass ran, a query answered);
 *                                     logs the recovery line if an outage was open
 *   isConnectionError(err)            network or connection failure of either service
 *   dependencyOf(err)                 which service such an error is about, when it can tell
 *   currentOutage('redis')            { since, errors, lastError } while an outage lasts
 *   DependencyDownError               throw it to answer 503 naming the dependency (the HTTP
 *                                     error filter maps it, and every connection error, to 503)
 */

export type Dependency = 'postgres' | 'redis';

/** How people call them in messages. */
export const DEPENDENCY_LABEL: Record<Dependency, string> = {
  postgres: 'PostgreSQL',
  redis: 'Redis',
};

/** A dependency we know is down, raised before trying (e.g. Redis not connected). */
export class DependencyDownError extends Error {
  constructor(
    readonly dependency: Dependency,
    readonly reason: string,
  ) {
    super(`${DEPENDENCY_LABEL[dependency]} is unreachable (${reason})`);
    this.name = 'DependencyDownError';
  }
}

// Socket errors: the server is not there, or the path to it broke.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// PostgreSQL SQLSTATEs of a lost or refused connection (class 08 is matched by prefix):
// admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now, too_many_connections.
const PG_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
// Messages of node-postgres and pg-pool when the connection is gone or never came.
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'Query read timeout',
  'Cannot use a pool after calling end on the pool',
];
// Messages of ioredis and BullMQ when a command cannot reach Redis.
const REDIS_MESSAGES = [
  'Connection is closed',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'Command timed out',
];

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and what it wraps (`cause`, an AggregateError's `errors`), a few levels deep. */
function* chain(err: unknown, depth = 0): Generator<ErrorLike> {
  if (typeof err !== 'object' || err === null || depth > 3) return;
  const e = err as ErrorLike;
  yield e;
  yield* chain(e.cause, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function kindOf(e: ErrorLike): Dependency | 'network' | undefined {
  if (e instanceof DependencyDownError) return e.dependency;
  const code = text(e.code);
  const message = text(e.message);
  if (e.name === 'MaxRetriesPerRequestError') return 'redis';
  if (REDIS_MESSAGES.some((m) => message.includes(m))) return 'redis';
  if (PG_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return 'postgres';
  if (PG_MESSAGES.some((m) => message.includes(m))) return 'postgres';
  if (NETWORK_CODES.has(code)) return 'network';
  return undefined;
}

/** True for a failure to reach PostgreSQL or Redis (refused, reset, timed out, terminated). */
export function isConnectionError(err: unknown): boolean {
  for (const e of chain(err)) if (kindOf(e)) return true;
  return false;
}

// host:port of each dependency, so a bare socket error (ECONNREFUSED 127.0.0.1:5432) can be
// told apart. Filled by createDb and createRedis.
const endpoints = new Map<string, Dependency>();
const LOCAL_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Records where a dependency lives (from its URL), for `dependencyOf`. */
export function registerEndpoint(dependency: Dependency, url: string): void {
  try {
    const u = new URL(url);
    const port = u.port || (dependency === 'redis' ? '6379' : '5432');
    const host = u.hostname.replace(/^\[|\]$/g, '');
    for (const h of LOCAL_NAMES.includes(host) ? LOCAL_NAMES : [host]) {
      endpoints.set(`${h}:${port}`, dependency);
    }
  } catch {
    // not a URL: bare socket errors for it stay unattributed
  }
}

/** Which dependency a connection error is about, or undefined when it cannot tell. */
export function dependencyOf(err: unknown): Dependency | undefined {
  for (const e of chain(err)) {
    const kind = kindOf(e);
    if (kind === 'postgres' || kind === 'redis') return kind;
    if (kind === 'network' && (typeof e.port === 'number' || typeof e.port === 'string')) {
      const found = endpoints.get(`${text(e.address)}:${String(e.port)}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** A short, masked description: "ECONNREFUSED 127.0.0.1:6379", "57P01 terminating ...". */
export function describeConnectionError(err: unknown): string {
  for (const e of chain(err)) {
    const code = text(e.code);
    if (NETWORK_CODES.has(code) && e.address !== undefined) {
      const port = e.port === undefined ? '' : `:${String(e.port)}`;
      return maskText(`${code} ${text(e.address)}${port}`);
    }
  }
  const first = [...chain(err)][0];
  const message = first ? text(first.message) || String(first.name ?? 'error') : String(err);
  const code = first ? text(first.code) : '';
  const described = code && !message.includes(code) ? `${code} ${message}` : message;
  return maskText(described.split('\n')[0]!.slice(0, 200));
}

export interface Outage {
  /** When the first error of this outage was seen (ms since the epoch). */
  since: number;
  /** Errors seen during it, the first included. */
  errors: number;
  /** The latest error, described. */
  lastError: string;
}

export type OutageLog = (
  level: 'error' | 'log',
  message: string,
  fields: Record<string, unknown>,
) => void;

const nestLogger = new Logger('Outage');
const logToNest: OutageLog = (level, message, fields) =>
  level === 'error' ? nestLogger.error(fields, message) : nestLogger.log(fields, message);

/** The state behind the functions above; make one of your own to test with. */
export class OutageTracker {
  private readonly open = new Map<Dependency, Outage>();
  /** Errors already counted: one failure reported from two places counts once. */
  private readonly counted = new WeakSet<object>();

  constructor(
    private readonly log: OutageLog = logToNest,
    private readonly now: () => number = Date.now,
  ) {}

  report(dependency: Dependency, err: unknown): void {
    if (typeof err === 'object' && err !== null) {
      if (this.counted.has(err)) return;
      this.counted.add(err);
    }
    const described = describeConnectionError(err);
    const outage = this.open.get(dependency);
    if (outage) {
      outage.errors++;
      outage.lastError = described;
      return;
    }
    this.open.set(dependency, { since: this.now(), errors: 1, lastError: described });
    this.log(
      'error',
      `${dependency} unreachable: ${described}; further errors are counted, not logged`,
      { dependency, outage: 'started' },
    );
  }

  recover(dependency: Dependency): void {
    const outage = this.open.get(dependency);
    if (!outage) return;
    this.open.delete(dependency);
    const ms = this.now() - outage.since;
    this.log(
      'log',
      `${dependency} reachable again after ${(ms / 1000).toFixed(1)} s; ` +
        `${outage.errors} error${outage.errors === 1 ? '' : 's'} during the outage`,
      { dependency, outage: 'ended', outageMs: ms, errors: outage.errors },
    );
  }

  current(dependency: Dependency): Readonly<Outage> | undefined {
    const outage = this.open.get(dependency);
    return outage && { ...outage };
  }
}

/** The process's one tracker. */
export const outages = new OutageTracker();

export const reportOutage = (dependency: Dependency, err: unknown): void =>
  outages.report(dependency, err);
export const reportRecovery = (dependency: Dependency): void => outages.recover(dependency);
export const currentOutage = (dependency: Dependency): Readonly<Outage> | undefined =>
  outages.current(dependency);

/**
 * Counts a connection error against the dependency it names (or `fallback`) and returns true;
 * returns false, doing nothing, for any other error. A DependencyDownError is a consequence
 * of an outage already counted: true, not counted again.
 */
export function reportIfConnectionError(err: unknown, fallback?: Dependency): boolean {
  if (err instanceof DependencyDownError) return true;
  if (!isConnectionError(err)) return false;
  const dependency = dependencyOf(err) ?? fallback;
  if (!dependency) return false;
  outages.report(dependency, err);
  return true;
}

/**
 * Settles with `work`, or rejects with `onTimeout()` after `ms`. The work itself goes on (a
 * promise cannot be cancelled): use it where a late result is harmless.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // When the timer fires late (this process was busy), an answer may be waiting in the
    // socket: setImmediate lets the I/O phase deliver it first. A stalled event loop is not a
    // dependency outage.
    timer = setTimeout(() => setImmediate(() => reject(onTimeout())), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
