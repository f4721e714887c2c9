import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import twilio from 'twilio';
import { currentOutage, isConnectionError } from '../src/common/outage.js';
import { createDb, DB, type Db } from '../src/database/index.js';
import { SendError } from '../src/channels/index.js';
import { ChannelFaults, QueueName, QueuesService } from '../src/delivery/index.js';
import { EnrollmentsRepository } from '../src/enrollments/index.js';
import { SubscribersRepository } from '../src/subscribers/index.js';
import { HealthRegistry } from '../src/common/index.js';
import { TokensService } from '../src/tokens/tokens.service.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { countRows, createTestDatabase, type TestDatabase } from './support/db.js';
import { PG_ADMIN_URL, REDIS_URL } from './support/env.js';
import { freePort, startPrivateRedis, type PrivateRedis } from './support/private-redis.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);

/** What "answers fast" means here: a dependency being down must never make a request hang. */
const FAST_MS = 2_000;

const PUBLIC_URL = 'https://drip.example';
const TWILIO = {
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'outage-test-auth-token',
  TWILIO_FROM: '+15005550006',
  TWILIO_API_URL: 'http://127.0.0.1:9', // never called: no SMS is sent here
};

const signupJson = (email: string) => ({
  campaign: 'upper-back-relief-demo',
  channel: 'email',
  email,
  timezone: 'UTC',
  sendTime: '08:00',
  consent: true,
});

async function timed<T>(work: () => PromiseLike<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

/** Terminates every backend of a database (what the chaos runs did). */
async function terminateBackends(dbName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [dbName],
    );
    return rows[0]!.n;
  } finally {
    await admin.end();
  }
}

const dbNameOf = (url: string) => new URL(url).pathname.slice(1);

/**
 * The build the running-instance tests use: `npm run build` into a folder of their own inside
 * the project (so node_modules and package.json are found), not dist/, which another test (the
 * quick start's `npm start`) may be rewriting at the same moment. Started at once, so it
 * overlaps the in-process tests.
 */
const BUILD_DIR = join('var', 'outage-test-build');
let built: Promise<unknown>;
beforeAll(() => {
  built = run('npm', ['run', 'build', '--silent', '--', '--outDir', BUILD_DIR], {
    timeout: 120_000,
  });
  built.catch(() => undefined); // awaited (and reported) where it is needed
});

describe('PostgreSQL or Redis out of reach (an app behind proxies of its own)', () => {
  let tdb: TestDatabase;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let t: TestApp;
  const prefix = uniquePrefix();
  const outbox = mkdtempSync(join(tmpdir(), 'sd-outage-'));
  let seq = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    pgProxy = await startTcpProxy(Number(new URL(PG_ADMIN_URL).port || 5432));
    redisProxy = await startTcpProxy(Number(new URL(REDIS_URL).port || 6379));
    t = await startApp({
      databaseUrl: pgProxy.via(tdb.url),
      prefix,
      outboxDir: outbox,
      env: {
        REDIS_URL: redisProxy.via(REDIS_URL),
        PUBLIC_URL,
        SIGNUP_RATE_PER_MINUTE: '100000',
        ...TWILIO,
      },
    });
  });
  afterAll(async () => {
    await pgProxy?.restore();
    await redisProxy?.restore();
    await t?.close();
    await pgProxy?.close();
    await redisProxy?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
    rmSync(outbox, { recursive: true, force: true });
  });

  const server = () => t.app.getHttpServer();
  const nextEmail = () => `person${++seq}@example.com`;
  const stored = async () => ({
    subscribers: await countRows(tdb.db, 'subscribers'),
    consent: await countRows(tdb.db, 'consent_events'),
    enrollments: await countRows(tdb.db, 'enrollments'),
  });
  const redisReady = () =>
    waitFor(() => t.get(QueuesService).connection.status === 'ready', 'Redis connected');
  /**
   * Restores the Redis proxy (which drops the connections it held) and waits for the app's
   * connection to be ready again: a fresh 'ready', since a stalled connection still reads
   * `ready` until the drop reaches it.
   */
  const restoreRedis = async () => {
    let back = false;
    t.get(QueuesService).connection.once('ready', () => (back = true));
    await redisProxy.restore();
    await waitFor(() => back, 'Redis connected again');
  };
  const healthy = () =>
    waitFor(
      async () => (await request(server()).get('/health')).status === 200,
      '/health to answer 200',
    );
  const emails = () => readdirSync(outbox).filter((f) => f.endsWith('.eml'));
  const emailsTo = (address: string) =>
    emails().filter((f) => readFileSync(join(outbox, f), 'utf8').includes(`To: ${address}`));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Refused while Redis is down, then sent again once it is back. */
  const refusedSignup = signupJson('refused-then-taken@example.com');

  it('answers /health 200 naming both dependencies when all is well', async () => {
    await healthy(); // the Redis connection is still coming up right after start-up
    const res = await request(server()).get('/health').expect(200);
    const up = { status: 'up' };
    const all = { postgres: up, redis: up, email: up, sms: up }; // and each channel sending
    expect(res.body).toEqual({ status: 'ok', info: all, error: {}, details: all });
  });

  describe('Redis unreachable', () => {
    beforeAll(async () => {
      await redisProxy.cut();
      await waitFor(
        () => t.get(QueuesService).connection.status !== 'ready' && currentOutage('redis'),
        'the app to notice Redis is gone (a reconnection refused)',
      );
    });
    afterAll(() => restoreRedis());

    it('answers /health 503 within 2 s, naming Redis and why, with PostgreSQL up', async () => {
      const { value: res, ms } = await timed(() => request(server()).get('/health'));
      expect(ms).toBeLessThan(FAST_MS);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        status: 'error',
        info: { postgres: { status: 'up' } },
        error: {
          redis: {
            status: 'down',
            message: expect.stringMatching(/^not reachable \((reconnecting|connecting)\)$/),
          },
        },
      });
      expect(res.body.details.redis.lastError).toMatch(/127\.0\.0\.1/); // not masked as a phone
      expect(currentOutage('redis')?.errors).toBeGreaterThan(0);
    });

    it('answers a JSON signup 503 within 2 s, naming Redis, and stores nothing', async () => {
      const before = await stored();
      const { value: res, ms } = await timed(() =>
        request(server()).post('/subscriptions').send(refusedSignup),
      );
      expect(ms).toBeLessThan(FAST_MS);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Redis is unreachable; nothing was changed, try again shortly',
      });
      expect(await stored()).toEqual(before);
    });

    it('answers a form signup with a friendly 503 page, and stores nothing', async () => {
      const before = await stored();
      const { value: res, ms } = await timed(() =>
        request(server())
          .post('/subscriptions')
          .type('form')
          .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
          .send({ ...signupJson(nextEmail()), consent: 'on' }),
      );
      expect(ms).toBeLessThan(FAST_MS);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toMatch(/nothing was changed/);
      expect(res.text).toMatch(/try again in a minute/);
      expect(await stored()).toEqual(before);
    });
  });

  it('takes the same signup once Redis is back, and sends its confirmation', async () => {
    await redisReady();
    await request(server()).post('/subscriptions').send(refusedSignup).expect(202);
    await waitFor(
      () => emailsTo(refusedSignup.email).length === 1,
      'the confirmation email in the outbox',
    );
    expect(currentOutage('redis')).toBeUndefined();
  });

  it('answers a signup 503 within 2 s when Redis hangs, and stores nothing', async () => {
    await redisReady();
    redisProxy.stall();
    try {
      // Connected as far as the app can tell: only the job's add, inside the transaction, fails.
      expect(t.get(QueuesService).connection.status).toBe('ready');
      const before = await stored();
      const [signup, health] = await Promise.all([
        timed(() => request(server()).post('/subscriptions').send(signupJson(nextEmail()))),
        timed(() => request(server()).get('/health')),
      ]);
      expect(signup.ms).toBeLessThan(FAST_MS);
      expect(signup.value.status).toBe(503);
      expect(signup.value.body.message).toBe(
        'Redis is unreachable; nothing was changed, try again shortly',
      );
      expect(await stored()).toEqual(before);
      expect(health.ms).toBeLessThan(FAST_MS);
      expect(health.value.body.error.redis).toEqual({
        status: 'down',
        message: 'no answer within 1500 ms',
      });
    } finally {
      await restoreRedis();
    }
  }, 10_000);

  it('sends the confirmation of a signup whose job ran before the signup committed', async () => {
    await redisReady();
    const email = nextEmail();
    await t.app
      .get<Db>(DB)
      .transaction()
      .execute(async (trx) => {
        const person = await t
          .get(SubscribersRepository)
          .findOrCreate(trx, { email, phone: null, name: null }, 'email');
        const enrollment = await t.get(EnrollmentsRepository).insert(trx, {
          subscriber_id: person.id,
          campaign_id: 'upper-back-relief-demo',
          channel: 'email',
          timezone: 'UTC',
          send_time: '08:00',
          status: 'pending',
          step: 0,
          next_send_at: null,
          source: 'web-form',
          confirm_sent_at: new Date(),
          confirm_count: 1,
        });
        // As SignupService does: the job first, the commit after. A worker takes the job
        // meanwhile and finds no enrolment yet.
        await t.get(QueuesService).enqueueConfirmation(enrollment.id, 'email', 1, null);
        await sleep(600);
      });
    await waitFor(() => emailsTo(email).length === 1, 'the confirmation email', 10_000);
  });

  describe('PostgreSQL unreachable', () => {
    beforeAll(async () => {
      await redisReady();
      await pgProxy.cut();
    });
    afterAll(async () => {
      await pgProxy.restore();
      await healthy();
    });

    it('answers /health 503 within 2 s, naming PostgreSQL and why, with Redis up', async () => {
      const { value: res, ms } = await timed(() => request(server()).get('/health'));
      expect(ms).toBeLessThan(FAST_MS);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        status: 'error',
        info: { redis: { status: 'up' } },
        error: {
          postgres: {
            status: 'down',
            message: expect.stringMatching(/^not reachable \(ECONNREFUSED 127\.0\.0\.1:\d+\)$/),
          },
        },
      });
    });

    const unavailable = {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'PostgreSQL is unreachable; nothing was changed, try again shortly',
    };

    it('answers a signup 503 within 2 s, naming PostgreSQL', async () => {
      const { value: res, ms } = await timed(() =>
        request(server()).post('/subscriptions').send(signupJson(nextEmail())),
      );
      expect(ms).toBeLessThan(FAST_MS);
      expect(res.status).toBe(503);
      expect(res.body).toEqual(unavailable);
    });

    it('answers an admin enrolment, an unsubscribe and a Twilio webhook 503 within 2 s', async () => {
      const admin = await timed(() =>
        request(server())
          .post('/api/v1/admin/enrollments')
          .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
          .send({ ...signupJson(nextEmail()), consent: undefined }),
      );
      expect(admin.ms).toBeLessThan(FAST_MS);
      expect([admin.value.status, admin.value.body]).toEqual([503, unavailable]);

      const token = t.get(TokensService).issue('unsubscribe', `${randomUUID()}.email`, 3600);
      const unsubscribe = await timed(() =>
        request(server())
          .post(`/unsubscribe/${token}`)
          .type('form')
          .set('Accept', 'text/html')
          .send('List-Unsubscribe=One-Click'),
      );
      expect(unsubscribe.ms).toBeLessThan(FAST_MS);
      expect(unsubscribe.value.status).toBe(503);
      expect(unsubscribe.value.text).toMatch(/nothing was changed/);

      const params = { MessageSid: `SM${'1'.repeat(32)}`, From: '+12133734253', Body: 'STOP' };
      const path = '/webhooks/twilio/inbound';
      const signature = twilio.getExpectedTwilioSignature(
        TWILIO.TWILIO_AUTH_TOKEN,
        PUBLIC_URL + path,
        params,
      );
      const webhook = await timed(() =>
        request(server())
          .post(path)
          .type('form')
          .set('X-Twilio-Signature', signature)
          .send(new URLSearchParams(params).toString()),
      );
      expect(webhook.ms).toBeLessThan(FAST_MS);
      expect(webhook.value.status).toBe(503); // Twilio retries on 5xx
    });
  });

  it('takes signups again once PostgreSQL is back', async () => {
    await healthy();
    await request(server()).post('/subscriptions').send(signupJson(nextEmail())).expect(202);
    expect(currentOutage('postgres')).toBeUndefined();
  });

  it('answers /health 503 within 2 s, and gives up connecting, when PostgreSQL hangs', async () => {
    pgProxy.stall();
    const fresh = createDb(pgProxy.via(tdb.url), 1); // no connection yet: it must make one
    try {
      const [health, connect] = await Promise.all([
        timed(() => request(server()).get('/health')),
        timed(() =>
          sql`SELECT 1`.execute(fresh).then(
            () => null,
            (err: unknown) => err,
          ),
        ),
      ]);
      expect(health.ms).toBeLessThan(FAST_MS);
      expect(health.value.status).toBe(503);
      expect(health.value.body.error.postgres).toMatchObject({
        status: 'down',
        message: 'no answer within 1500 ms',
      });
      expect(connect.ms).toBeLessThan(3_000);
      expect(isConnectionError(connect.value)).toBe(true);
    } finally {
      await pgProxy.restore();
      await fresh.destroy();
    }
    await healthy();
  }, 10_000);

  it('reports a registered entry as degraded without answering 503', async () => {
    await healthy();
    const registry = t.get(HealthRegistry);
    registry.register({
      name: 'probe-a',
      check: () => ({ status: 'degraded', message: 'paused because SMTP 535' }),
    });
    registry.register({
      name: 'probe-b',
      check: async () => {
        throw new Error('Connection is closed.');
      },
    });
    const res = await request(server()).get('/health').expect(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      info: {
        postgres: { status: 'up' },
        redis: { status: 'up' },
        'probe-a': { status: 'degraded', message: 'paused because SMTP 535' },
        'probe-b': { status: 'degraded', message: 'check failed: Connection is closed.' },
      },
      error: {},
    });
  });

  it('shows a channel paused for a configuration fault as degraded, naming the error', async () => {
    await healthy();
    const faults = t.get(ChannelFaults);
    await faults.trip(
      QueueName.Email,
      new SendError('SMTP 535 5.7.8 at AUTH PLAIN', 'config', 535),
    );
    try {
      const res = await request(server()).get('/health').expect(200);
      expect(res.body.info.email).toMatchObject({
        status: 'degraded',
        message: 'paused because SMTP 535 5.7.8 at AUTH PLAIN',
        code: 535,
      });
      expect(res.body.info.sms).toEqual({ status: 'up' });
    } finally {
      await faults.clear(QueueName.Email, (await faults.get(QueueName.Email))!);
    }
  });

  it('survives its PostgreSQL connection being terminated between two queries of a transaction', async () => {
    const db = t.app.get<Db>(DB);
    const outcome = db.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx);
      // The client is lent out and idle: pg-pool has taken its own 'error' listener off it.
      expect(await terminateBackends(dbNameOf(tdb.url))).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 300)); // the server's FATAL and close arrive
      await sql`SELECT 1`.execute(trx);
    });
    await expect(outcome).rejects.toThrow(/not queryable|terminat/i);
    await healthy();
    await request(server()).post('/subscriptions').send(signupJson(nextEmail())).expect(202);
  });
});

/** Starts the built service (`node <build>/main.js`); what it prints goes to `log.text`. */
function startService(env: Record<string, string>, log: { text: string }): ChildProcess {
  const child = spawn('node', [join(BUILD_DIR, 'main.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      NODE_OPTIONS: '',
      ROLE: 'all',
      ADMIN_TOKEN,
      LOG_LEVEL: 'info',
      SCHEDULER_INTERVAL_MS: '200',
      SIGNUP_RATE_PER_MINUTE: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (log.text += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log.text += b.toString()));
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
    } else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const running = (child: ChildProcess | undefined): child is ChildProcess =>
  Boolean(child) && child!.exitCode === null && child!.signalCode === null;

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * The built service as it runs in production, with a database and a redis-server of its own:
 * chaos on PostgreSQL, then Redis stopped, then SIGTERM. Beside it, an instance started with
 * no Redis at all.
 */
describe('running instances of the built service (node main.js)', () => {
  const a = { log: { text: '' }, outbox: mkdtempSync(join(tmpdir(), 'sd-outage-a-')), port: 0 };
  const b = { log: { text: '' }, outbox: mkdtempSync(join(tmpdir(), 'sd-outage-b-')), port: 0 };
  let tdbA: TestDatabase;
  let tdbB: TestDatabase;
  let redis: PrivateRedis;
  let redisStopped = false;
  let procA: ChildProcess | undefined;
  let procB: ChildProcess | undefined;
  let deadRedisPort: number;
  const prefix = uniquePrefix();
  const urlA = (path: string) => `http://127.0.0.1:${a.port}${path}`;
  const emailsA = () => readdirSync(a.outbox).filter((f) => f.endsWith('.eml'));

  beforeAll(async () => {
    await built;
    [tdbA, tdbB, redis, a.port, b.port, deadRedisPort] = await Promise.all([
      createTestDatabase(),
      createTestDatabase(),
      startPrivateRedis(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    procA = startService(
      {
        PORT: String(a.port),
        DATABASE_URL: tdbA.url,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: prefix,
        OUTBOX_DIR: a.outbox,
      },
      a.log,
    );
    // Nothing listens on deadRedisPort. A short bound: closing waits for Redis until it passes.
    procB = startService(
      {
        PORT: String(b.port),
        DATABASE_URL: tdbB.url,
        REDIS_URL: `redis://127.0.0.1:${deadRedisPort}`,
        QUEUE_PREFIX: uniquePrefix(),
        OUTBOX_DIR: b.outbox,
        SHUTDOWN_TIMEOUT_MS: '3000',
      },
      b.log,
    );
    await waitFor(
      async () => (await fetch(urlA('/health'))).status === 200,
      'the service to answer /health',
      30_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${a.log.text}`);
    });
  }, 120_000);
  afterAll(async () => {
    for (const p of [procA, procB]) if (running(p)) p.kill('SIGKILL');
    if (!redisStopped) await redis?.stop();
    await tdbA?.drop();
    await tdbB?.drop();
    for (const dir of [a.outbox, b.outbox]) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps serving and sending while its PostgreSQL connections are terminated under load', async () => {
    expect(a.log.text).toMatch(/selfcare-drip \(all\) listening on /);
    // Demo enrolments keep the scheduler and the workers busy...
    for (let i = 0; i < 10; i++) {
      const res = await postJson(
        urlA('/api/v1/admin/enrollments'),
        { ...signupJson(`chaos${i}@example.com`), consent: undefined },
        { Authorization: `Bearer ${ADMIN_TOKEN}` },
      );
      expect(res.status).toBe(201);
    }
    // ...and signups keep transactions open while the backends go.
    let loading = true;
    const load = (async () => {
      for (let n = 0; loading; n++) {
        await Promise.all(
          [0, 1, 2, 3].map((k) =>
            postJson(urlA('/subscriptions'), signupJson(`load${n}-${k}@example.com`)).catch(
              () => undefined,
            ),
          ),
        );
      }
    })();
    for (let round = 0; round < 8 && running(procA); round++) {
      await new Promise((r) => setTimeout(r, 400));
      await terminateBackends(dbNameOf(tdbA.url));
    }
    loading = false;
    await load;
    expect({ exitCode: procA!.exitCode, signal: procA!.signalCode }).toEqual({
      exitCode: null,
      signal: null,
    });
    expect(a.log.text).not.toMatch(/Unhandled 'error' event/);
    await waitFor(
      async () => (await fetch(urlA('/health'))).status === 200,
      '/health 200 after the terminations',
      5_000,
      100,
    );
    const before = emailsA().length;
    expect((await postJson(urlA('/subscriptions'), signupJson('after@example.com'))).status).toBe(
      202,
    );
    await waitFor(() => emailsA().length > before, 'its confirmation in the outbox', 5_000);
    expect(a.log.text).toMatch(/postgres unreachable: .*; further errors are counted, not logged/);
    expect(a.log.text).toMatch(/postgres reachable again after \d+\.\d s; \d+ errors? during/);
  }, 30_000);

  it('with its Redis stopped: /health says so within 2 s, and the outage is logged once', async () => {
    const before = a.log.text.length;
    redisStopped = true;
    await redis.stop();
    await waitFor(
      async () => (await fetch(urlA('/health'))).status === 503,
      '/health to answer 503',
      5_000,
      100,
    );
    const health = await timed(() => fetch(urlA('/health')));
    expect(health.ms).toBeLessThan(FAST_MS);
    const body = (await health.value.json()) as { error: { redis?: { message?: string } } };
    expect(body.error.redis?.message).toMatch(/^not reachable \((reconnecting|connecting)\)$/);
    const signup = await timed(() => postJson(urlA('/subscriptions'), signupJson('r@example.com')));
    expect(signup.value.status).toBe(503);
    expect(signup.ms).toBeLessThan(FAST_MS);
    await new Promise((r) => setTimeout(r, 1_500)); // several reconnection attempts
    const during = a.log.text.slice(before);
    expect(during.match(/redis unreachable: /g)).toHaveLength(1);
    expect(during).toMatch(
      // The first error is a refused connection, or the reset of (or a write to) one open when
      // Redis stopped.
      /redis unreachable: (ECONNREFUSED 127\.0\.0\.1:\d+|(read|write) (ECONNRESET|EPIPE)); further errors are counted, not logged/,
    );
    console.log(
      `Redis down: /health ${health.ms} ms, POST /subscriptions ${signup.ms} ms; ` +
        `${during.split('\n').length - 1} lines logged in its first ~2 s`,
    );
  }, 20_000);

  it('exits by itself on SIGTERM within 15 s, with Redis still down', async () => {
    const started = Date.now();
    procA!.kill('SIGTERM');
    // While it closes, /health tells load balancers to go elsewhere.
    // Redis is down, so /health already answers 503 ('error'); the signal turns it into
    // 'shutting_down' once the process has handled it.
    await waitFor(
      async () => {
        const res = await fetch(urlA('/health'));
        return (
          res.status === 503 &&
          ((await res.json()) as { status: string }).status === 'shutting_down'
        );
      },
      "/health to answer 503 'shutting_down'",
      2_000,
      50,
    );
    const value = await exited(procA!);
    const ms = Date.now() - started;
    console.log(`SIGTERM with Redis down: exit code ${value.code} after ${ms} ms`);
    expect(value.signal).toBeNull(); // not killed by the signal: it exited
    expect(ms).toBeLessThan(15_500);
    expect(a.log.text).toMatch(/SIGTERM: closing/);
  }, 20_000);

  it('started with no Redis: says it is waiting for Redis, /health says why, SIGTERM is bounded', async () => {
    await waitFor(() => /waiting for Redis/.test(b.log.text), 'the start-up line', 20_000);
    expect(b.log.text).toMatch(
      new RegExp(
        `selfcare-drip \\(all\\) waiting for Redis at 127\\.0\\.0\\.1:${deadRedisPort} ` +
          `\\(ECONNREFUSED 127\\.0\\.0\\.1:${deadRedisPort}\\) on .*/health answers 503`,
      ),
    );
    expect(b.log.text).not.toMatch(/listening/);
    const res = await fetch(`http://127.0.0.1:${b.port}/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { redis?: { message?: string } } };
    expect(body.error.redis?.message).toMatch(/^not reachable \((reconnecting|connecting)\)$/);

    const { value, ms } = await timed(() => {
      procB!.kill('SIGTERM');
      return exited(procB!);
    });
    console.log(`SIGTERM while waiting for Redis: exit code ${value.code} after ${ms} ms`);
    expect(value.signal).toBeNull();
    expect(ms).toBeLessThan(3_500);
    if (value.code !== 0)
      expect(b.log.text).toMatch(/still closing after 3000 ms, exiting anyway; open: /);
  }, 20_000);
});
