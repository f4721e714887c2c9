import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createDb, migrate, type Db } from '../src/database/index.js';

/** One line of the report: a figure and the baseline measured beside it in the same run. */
export interface Figure {
  what: string;
  figure: number;
  baseline: number;
  unit: string;
  baselineWhat: string;
  samples: number[];
  baselineSamples: number[];
  note?: string;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export function intFromEnv(name: string, fallback: number, min = 1, max = 10_000_000): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** The benchmark talks to services on this machine only. */
export function assertLocal(url: string): string {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]')
    throw new Error(`refusing to benchmark against ${host}: only 127.0.0.1 is allowed`);
  return url;
}

/** Polls until `done` returns true (it may throw to stop early), within a deadline. */
export async function pollUntil(
  done: () => Promise<boolean>,
  what: () => string,
  timeoutMs: number,
  everyMs = 20,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `fn(0..n-1)` with at most `concurrency` calls in flight. */
export async function inFlight(
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
}

/**
 * Cleanups run last-in first-out; each one's failure is reported and the rest still run.
 * `add` returns a function that runs that one step now (at most once).
 */
export class Cleanup {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  add(what: string, fn: () => Promise<unknown>): () => Promise<void> {
    const step = { what, fn };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await step.fn();
    };
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        try {
          await step.fn();
        } catch (err) {
          console.error(`cleanup "${step.what}" failed: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}

export interface BenchDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/** A fresh, migrated database `sd_bench_<random>` of this run's own. */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `sd_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 4);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await db.destroy();
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
  try {
    await migrate(db as never);
  } catch (err) {
    await drop();
    throw err;
  }
  return { url: url.toString(), db, drop };
}

/** Deletes the keys matching `pattern` with SCAN + DEL (never FLUSHALL): returns how many. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

/** What every part of the benchmark shares. */
export interface BenchContext {
  /** Every Redis key this run writes starts with this (a random BullMQ prefix root). */
  root: string;
  redisUrl: string;
  redis: Redis;
  database: BenchDatabase;
  cleanup: Cleanup;
  /** Repetitions for the cheap measurements (the median is reported). */
  runs: number;
  /** Observations worth printing under the table. */
  notes: string[];
}
