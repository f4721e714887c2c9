import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { dropPrefix, uniquePrefix } from './support/app.js';
import { PG_ADMIN_URL, REDIS_URL } from './support/env.js';
import { freePort } from './support/private-redis.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);

/** The default, which the quick start uses. */
const SCHEDULER_INTERVAL_MS = 2_000;

/** Where the one enrolment's journey stands, read from the service's database. */
async function journey(
  databaseUrl: string,
): Promise<{ enrollments: string[]; deliveries: number; final: number }> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const e = await c.query<{ status: string }>('SELECT status FROM enrollments');
    const d = await c.query<{ total: number; final: number }>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status IN ('sent', 'delivered', 'failed', 'skipped'))::int AS final
       FROM deliveries`,
    );
    return {
      enrollments: e.rows.map((r) => r.status),
      deliveries: d.rows[0]!.total,
      final: d.rows[0]!.final,
    };
  } finally {
    await c.end();
  }
}

/**
 * The README's quick start, for real: `npm start` with no credentials, then the CLI enrols
 * someone in the demo campaign, and its seven messages appear in the outbox.
 */
describe('quick start (npm start, then npm run cli -- enroll)', () => {
  const dbName = `sd_quickstart_${randomBytes(4).toString('hex')}`;
  const prefix = uniquePrefix();
  const outbox = mkdtempSync(join(tmpdir(), 'sd-quickstart-'));
  let server: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (server && server.exitCode === null) process.kill(-server.pid!, 'SIGKILL');
    rmSync(outbox, { recursive: true, force: true });
    await dropPrefix(prefix);
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
  });

  it('creates its database, sends the whole demo journey to the outbox, and shuts down cleanly', async () => {
    const port = await freePort();
    const db = new URL(PG_ADMIN_URL);
    db.pathname = `/${dbName}`; // does not exist yet: start-up creates it
    const env = {
      ...process.env,
      NODE_ENV: 'development',
      NODE_OPTIONS: '',
      PORT: String(port),
      DATABASE_URL: db.toString(),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      OUTBOX_DIR: outbox,
      LOG_LEVEL: 'info', // every line a real deployment logs, to check none is personal
    };
    server = spawn('npm', ['start'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    server.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200,
      'the service to answer /health',
      120_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });

    const { stdout, stderr } = await run(
      'npm',
      [
        'run',
        '--silent',
        'cli',
        '--',
        'enroll',
        '--campaign',
        'upper-back-relief-demo',
        '--channel',
        'email',
        '--email',
        'newcomer@example.com',
        '--name',
        'Nia',
        '--timezone',
        'Europe/London',
      ],
      { env, timeout: 120_000 },
    );
    output += stderr;
    expect(JSON.parse(stdout.slice(stdout.indexOf('{')))).toMatchObject({
      status: 'active',
      campaign: 'upper-back-relief-demo',
    });

    const emails = () =>
      readdirSync(outbox)
        .filter((f) => f.endsWith('.eml'))
        .sort();
    await waitFor(() => emails().length >= 1, 'the welcome in the outbox', 30_000, 250);
    // Counting as soon as seven files exist would miss an eighth that comes later: wait until
    // the journey is over (enrolment completed, every delivery final), then a few more
    // scheduler passes, in which nothing more may be sent.
    await waitFor(
      async () => {
        const j = await journey(db.toString());
        return (
          j.enrollments.every((status) => status === 'completed') &&
          j.deliveries >= 7 &&
          j.final === j.deliveries
        );
      },
      'the enrolment to complete with every delivery final',
      120_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 3 * SCHEDULER_INTERVAL_MS + 1_000));
    expect(await journey(db.toString())).toEqual({
      enrollments: ['completed'],
      deliveries: 7,
      final: 7,
    });
    const files = emails();
    expect(files).toHaveLength(7);
    const subjects = files.map(
      (f) => /^Subject: (.*)$/m.exec(readFileSync(join(outbox, f), 'utf8'))?.[1],
    );
    expect(new Set(subjects).size).toBe(7);
    expect(readFileSync(join(outbox, files[0]!), 'utf8')).toMatch(/^To: newcomer@example\.com$/m);

    // SIGTERM to the service itself, as a process manager sends it. (npm 11 does not pass a
    // signal on: signalled itself, it dies at once and leaves the service running.) npm waits
    // for the service and exits with its code: 0 when it closed and exited by itself, 143 when
    // it died by the signal.
    const pid = Number(/"pid":(\d+)/.exec(output)?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGTERM');
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      server!.once('exit', (c, s) => resolve([c, s])),
    );
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/SIGTERM: closing/);
    expect(output).toMatch(/closed in \d+ ms/);
    expect(output).not.toMatch(/"level":(50|60)|Error:/);
    // Nothing personal in the logs.
    expect(output).toMatch(/"msg":"sent"/); // the info lines were there to check
    expect(output).not.toContain('newcomer@example.com');
    expect(output).not.toMatch(/newcomer|"Nia"/);
  }, 300_000);
});
