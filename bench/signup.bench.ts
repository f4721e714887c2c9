import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Controller, Post } from '@nestjs/common';
import { sql } from 'kysely';
import { QueueName, QueuesService } from '../src/delivery/index.js';
import { startApp } from '../test/support/app.js';
import { deleteKeys, type BenchContext, type Figure } from './harness.js';
import type { LoadReply, LoadResult, LoadRun } from './load.worker.js';
import { CAMPAIGN, truncateAll } from './seed.js';
import { replies } from './thread.js';

/** Connection counts searched, in order, for each endpoint. */
const LEVELS = [1, 2, 4, 8, 16, 32];
/** The latency bound of the figure. */
const P99_MS = 50;
/** An endpoint goes no higher once a level's p99 is over this: well past the bound. */
const GIVE_UP_MS = 2 * P99_MS;
const WARMUP = { connections: 4, seconds: 2 };
const SIGNUP_PATH = '/subscriptions';
const BARE_PATH = '/__bench/bare';

/**
 * The baseline: a route through the same Nest HTTP stack (Express adapter, global middleware,
 * pipes and filters of configureApp) that does no work. Only the bench mounts it.
 */
@Controller('__bench')
class BareController {
  @Post('bare')
  bare(): { ok: true } {
    return { ok: true };
  }
}

type Endpoint = 'signup' | 'bare';

interface LoadGenerator {
  run(r: Omit<LoadRun, 'type'>): Promise<LoadResult>;
  close(): Promise<void>;
}

/** autocannon in a worker thread (see load.worker.ts). */
async function startLoad(): Promise<LoadGenerator> {
  const worker = new Worker(new URL('./load.worker.js', import.meta.url));
  const next = replies<LoadRun | { type: 'close' }, LoadReply>(worker);
  await next(['ready']);
  return {
    async run(r) {
      const reply = await next(['result', 'failed'], { type: 'run', ...r });
      if (reply.type === 'failed') throw new Error(`autocannon failed: ${reply.message}`);
      return reply.result;
    },
    async close() {
      await Promise.race([next(['closed'], { type: 'close' }), sleep(2000)]);
      await worker.terminate();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

const fmt = (r: LoadResult) => `${Math.round(r.rps)}/s p50 ${r.p50} p99 ${r.p99} ms`;

/**
 * Signup throughput under a latency bound: the most `POST /subscriptions` a second with p99 at
 * most 50 ms, searching 1..32 connections (autocannon, each request a new address), against
 * the same search on a bare endpoint of the same app. ROLE=api app listening on 127.0.0.1.
 */
export async function benchSignup(
  ctx: BenchContext,
  knobs: { seconds: number },
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const { db } = ctx.database;
  const prefix = `${ctx.root}-signup`;
  const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
    deleteKeys(ctx.redis, `${prefix}:*`),
  );
  const t = await startApp({
    databaseUrl: ctx.database.url,
    prefix,
    // At its maximum the per-address limit still runs (a Redis round trip a signup) but does
    // not answer 429; its counts are also cleared before each run.
    env: { ROLE: 'api', SIGNUP_RATE_PER_MINUTE: '100000' },
    controllers: [BareController],
  });
  const closeApp = ctx.cleanup.add('close the signup app', () => t.close());
  await t.app.listen(0, '127.0.0.1');
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const load = await startLoad();
  const stopLoad = ctx.cleanup.add('stop the load generator', () => load.close());

  const MARK = 'ADDRESS';
  const [head, tail] = JSON.stringify({
    campaign: CAMPAIGN,
    name: 'Bench',
    channel: 'email',
    email: MARK,
    timezone: 'Europe/London',
    sendTime: '08:00',
    consent: true,
  }).split(MARK) as [string, string];
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const paths: Record<Endpoint, string> = { signup: SIGNUP_PATH, bare: BARE_PATH };

  // One request each first, so that a wrong body or route fails with what the app said.
  for (const [endpoint, want] of [
    ['signup', 202],
    ['bare', 201],
  ] as const) {
    const res = await fetch(`${base}${paths[endpoint]}`, {
      method: 'POST',
      headers,
      body: `${head}probe-${endpoint}@bench.example.com${tail}`,
    });
    const text = await res.text();
    if (res.status !== want)
      throw new Error(
        `signup: POST ${paths[endpoint]} answered ${res.status}, not ${want}: ${text.slice(0, 500)}`,
      );
  }

  let stored = 1; // the probe
  const cutOff = { requests: 0, stored: 0 };
  let runNo = 0;
  const measure = async (
    endpoint: Endpoint,
    connections: number,
    seconds: number,
    warmup = false,
  ): Promise<LoadResult> => {
    // Same length for both endpoints and every level, so the bodies are the same size.
    const tag = `${endpoint === 'signup' ? 's' : 'b'}${String(runNo++).padStart(2, '0')}`;
    await deleteKeys(ctx.redis, `${prefix}:signup-rate:*`);
    const r = await load.run({
      url: `${base}${paths[endpoint]}`,
      connections,
      seconds,
      tag,
      body: { head, tail },
      headers,
    });
    const what = `POST ${paths[endpoint]} at ${connections} connections${warmup ? ' (warm-up)' : ''}`;
    if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
      throw new Error(
        `signup: ${what}: ${r.non2xx} non-2xx answers (${JSON.stringify(r.statusCodes)}), ` +
          `${r.errors} errors, ${r.timeouts} timeouts in ${r.completed} requests`,
      );
    if (r.answered.length !== r.ok)
      throw new Error(`signup: ${what}: ${r.ok} 2xx counted but ${r.answered.length} seen`);
    if (endpoint === 'signup') {
      const extra = await checkStored(tag, r, what);
      stored += r.ok + extra;
      cutOff.requests += r.made - r.completed;
      cutOff.stored += extra;
    }
    return r;
  };

  /**
   * What the database holds for one run's addresses: every 2xx a subscriber with one pending
   * enrolment and one consent record, nothing lost or doubled. Requests that the end of the
   * run cut off in flight may still have signed up (the server finished them); those, and
   * only those, are the extra subscribers allowed. Answers how many there were.
   */
  const checkStored = async (tag: string, r: LoadResult, what: string): Promise<number> => {
    type Row = { email: string; enrollments: number; consents: number };
    const read = async () =>
      (
        await sql<Row>`
          SELECT s.email,
                 (SELECT count(*) FROM enrollments e WHERE e.subscriber_id = s.id)::int AS enrollments,
                 (SELECT count(*) FROM consent_events c WHERE c.subscriber_id = s.id)::int AS consents
            FROM subscribers s
           WHERE s.email LIKE ${`${tag}-%`}`.execute(db)
      ).rows;
    // The cut-off requests finish on the server after autocannon has stopped: wait until the
    // count holds still.
    let rows = await read();
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      const again = await read();
      if (again.length === rows.length) break;
      rows = again;
    }
    const got = new Map(rows.map((row) => [Number(/-(\d+)@/.exec(row.email)?.[1]), row]));
    const answered = new Set(r.answered);
    const lost = r.answered.filter((n) => !got.has(n));
    const doubled = rows.filter((row) => row.enrollments !== 1 || row.consents !== 1);
    const strays = [...got.keys()].filter((n) => !answered.has(n) && !(n >= 0 && n < r.made));
    const extra = got.size - r.answered.filter((n) => got.has(n)).length;
    const cutOff = r.made - r.completed;
    if (
      lost.length ||
      doubled.length ||
      strays.length ||
      extra > cutOff ||
      rows.length !== got.size
    )
      throw new Error(
        `signup: ${what}: ${r.ok} answered 2xx but the database holds ${rows.length} subscribers ` +
          `for them: ${lost.length} lost, ${doubled.length} with other than one enrolment and ` +
          `one consent record (${JSON.stringify(doubled.slice(0, 3))}), ${strays.length} never ` +
          `sent, ${extra} beyond the 2xx with ${cutOff} cut off in flight`,
      );
    return extra;
  };

  const results: Record<Endpoint, LoadResult[]> = { signup: [], bare: [] };
  const warmSeconds = Math.min(WARMUP.seconds, knobs.seconds);
  await measure('signup', WARMUP.connections, warmSeconds, true);
  await measure('bare', WARMUP.connections, warmSeconds, true);
  // Level by level, the two endpoints in turn, so drift on the machine touches both alike.
  for (const connections of LEVELS) {
    for (const endpoint of ['signup', 'bare'] as const) {
      const done = results[endpoint];
      if (done.length > 0 && done[done.length - 1]!.p99 > GIVE_UP_MS) continue;
      done.push(await measure(endpoint, connections, knobs.seconds));
    }
  }

  // Every signup that committed queued its confirmation (nothing works the queue in ROLE=api).
  const { count } = await db
    .selectFrom('subscribers')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  const jobs = await t
    .get(QueuesService)
    .queue(QueueName.Email)
    .getJobCounts('waiting', 'prioritized', 'delayed', 'active');
  const queued = Object.values(jobs).reduce((a, b) => a + b, 0);
  if (Number(count) !== stored || queued !== stored)
    throw new Error(
      `signup: ${stored} signups counted, ${count} subscribers in the database, ${queued} confirmation jobs queued`,
    );

  const best = (endpoint: Endpoint) => {
    const within = results[endpoint].filter((r) => r.p99 <= P99_MS);
    const top = within.length
      ? within.reduce((a, b) => (b.rps > a.rps ? b : a))
      : results[endpoint][0]!;
    return { r: top, met: within.length > 0 };
  };
  const signup = best('signup');
  const bare = best('bare');
  const at = (b: { r: LoadResult; met: boolean }) =>
    b.met
      ? `best at ${b.r.connections} connections (p50 ${b.r.p50} ms, p99 ${b.r.p99} ms)`
      : `NO level met p99 <= ${P99_MS} ms: the 1-connection figure (p50 ${b.r.p50} ms, p99 ${b.r.p99} ms)`;
  const levelsOf = (endpoint: Endpoint) =>
    results[endpoint].map((r) => `c${r.connections} ${fmt(r)}`).join('; ');
  ctx.notes.push(
    `signup: POST /subscriptions by connections: ${levelsOf('signup')}`,
    `signup: bare POST ${BARE_PATH} by connections: ${levelsOf('bare')}`,
    `signup: ${stored} subscribers stored, each with one enrolment, one consent record and one ` +
      `queued confirmation; every 2xx is among them, and so are ${cutOff.stored} of the ` +
      `${cutOff.requests} requests cut off in flight when a run ended (the server finished them)`,
  );

  await stopLoad();
  await closeApp();
  await dropKeys();
  await truncateAll(db);

  return {
    knobs: {
      seconds: knobs.seconds,
      warmup: WARMUP,
      connections: LEVELS,
      p99LimitMs: P99_MS,
      stopAboveP99Ms: GIVE_UP_MS,
      role: 'api',
      signupRatePerMinute: 100_000,
      loadGenerator: 'autocannon in a worker thread of the bench process',
      bodyBytes: head.length + tail.length + 'sNN-NNNN@bench.example.com'.length,
    },
    figures: [
      {
        what: `signup: POST /subscriptions requests/s with p99 <= ${P99_MS} ms (autocannon)`,
        figure: signup.r.rps,
        unit: '/s',
        baseline: bare.r.rps,
        baselineWhat: `bare POST ${BARE_PATH} of the same app (same stack, no work), same body, same search`,
        samples: results.signup.map((r) => r.rps),
        baselineSamples: results.bare.map((r) => r.rps),
        note:
          `signup ${at(signup)}; bare ${at(bare)}; samples are requests/s at ` +
          `${results.signup.map((r) => r.connections).join('/')} connections (bare ` +
          `${results.bare.map((r) => r.connections).join('/')}), ${knobs.seconds} s each`,
      },
    ],
  };
}
