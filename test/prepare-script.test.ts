import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PG_ADMIN_URL, REDIS_URL } from './support/env.js';
import { freePort } from './support/private-redis.js';

/**
 * scripts/prepare.sh, run for real with a PATH of our making: every tool on this machine's
 * PATH except those a test hides, and fakes that record their calls in place of the ones that
 * would change the machine (apt-get, redis-server, pg_ctlcluster, runuser).
 */
const SCRIPT = join(process.cwd(), 'scripts', 'prepare.sh');
const scratch: string[] = [];

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

interface Machine {
  /** Run the script in this mode with these variables (nothing else from our environment). */
  run(
    mode: 'service' | 'test',
    env?: Record<string, string>,
  ): { code: number | null; output: string; ms: number };
  /** Each call a fake received, as "name args...". */
  calls(): string[];
}

function machine(opts: { hide?: string[]; uid?: number; fakes?: Record<string, string> }): Machine {
  const dir = mkdtempSync(join(tmpdir(), 'sd-prepare-'));
  scratch.push(dir);
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  mkdirSync(bin);
  const fake = (name: string, body: string, record = true) => {
    const note = record ? `echo "${name} $*" >> '${log}'\n` : '';
    writeFileSync(join(bin, name), `#!/bin/bash\n${note}${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake('id', `echo ${opts.uid ?? 1000}`, false); // who the script thinks it runs as
  for (const [name, body] of Object.entries(opts.fakes ?? {})) fake(name, body);
  // The first of each name wins, as on a PATH.
  const taken = new Set([...(opts.hide ?? []), 'id', ...Object.keys(opts.fakes ?? {})]);
  for (const from of (process.env.PATH ?? '').split(delimiter)) {
    if (!from || !existsSync(from)) continue;
    for (const name of readdirSync(from)) {
      if (taken.has(name)) continue;
      taken.add(name);
      symlinkSync(join(from, name), join(bin, name));
    }
  }
  return {
    run(mode, env = {}) {
      const started = performance.now();
      const r = spawnSync('/bin/bash', [SCRIPT, mode], {
        env: { PATH: bin, HOME: dir, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
      return {
        code: r.status,
        output: `${r.stdout}${r.stderr}`,
        ms: performance.now() - started,
      };
    },
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}

/** Fakes for every tool that would install, start or reconfigure something. */
const RECORD_ONLY = {
  'apt-get': 'exit 100',
  'redis-server': 'exit 1',
  pg_ctlcluster: 'exit 1',
  pg_createcluster: 'exit 1',
  runuser: 'exit 1',
};
const SERVER_TOOLS = ['redis-server', 'redis-cli', 'pg_ctlcluster', 'pg_createcluster'];
const PG_TOOLS = ['psql', 'pg_isready'];

describe('scripts/prepare.sh', () => {
  it('with nothing installed and no root, prints one line naming what is missing and exits 1', async () => {
    const m = machine({ hide: [...SERVER_TOOLS, ...PG_TOOLS, 'apt-get', 'sudo'] });
    const env = {
      TEST_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      TEST_PG_URL: `postgres://postgres@localhost:${await freePort()}/postgres`,
      CHROMIUM_PATH: '/nonexistent/chromium',
    };
    const r = m.run('test', env);
    expect(r.code).toBe(1);
    expect(r.output.trimEnd().split('\n')).toHaveLength(1);
    expect(r.output).toBe(
      'prepare (test): missing Redis (redis-server), PostgreSQL; install them with your ' +
        'package manager (or set TEST_PG_URL to a running server); ' +
        'CHROMIUM_PATH=/nonexistent/chromium is not an executable file\n',
    );
  });

  it('names the apt-get command when apt-get exists but it is not root, and installs nothing', async () => {
    const m = machine({ hide: [...SERVER_TOOLS, 'sudo'], fakes: { 'apt-get': 'exit 100' } });
    const r = m.run('service', {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/selfcare_drip`,
    });
    expect(r.code).toBe(1);
    expect(r.output.trimEnd().split('\n')).toHaveLength(1);
    expect(r.output).toContain('run: sudo apt-get install -y redis-server postgresql');
    expect(m.calls()).toEqual([]);
  });

  it('as root, installs what is missing with one apt-get update and one install', () => {
    // This apt-get "installs" redis-server by putting a harmless one on the PATH.
    const m = machine({
      uid: 0,
      hide: ['redis-server', 'sudo'],
      fakes: {
        'apt-get':
          '[ "$1" = install ] && ln -s "$(command -v true)" "$(dirname "$0")/redis-server"; exit 0',
      },
    });
    const r = m.run('test', {
      TEST_REDIS_URL: REDIS_URL,
      TEST_PG_URL: PG_ADMIN_URL,
      CHROMIUM_PATH: process.execPath,
    });
    expect(r.code).toBe(0);
    expect(m.calls()).toEqual(['apt-get update -qq', 'apt-get install -y -qq redis-server']);
    expect(r.output).toContain('installing redis-server with apt-get');
  });

  it('starts a local Redis that is installed but stopped, as any user', async () => {
    const port = await freePort();
    const m = machine({ uid: 1000 });
    const r = m.run('service', {
      REDIS_URL: `redis://localhost:${port}`,
      DATABASE_URL: PG_ADMIN_URL,
    });
    const redis = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true });
    try {
      expect({ code: r.code, output: r.output }).toEqual({
        code: 0,
        output: `prepare: starting Redis on 127.0.0.1:${port}\n`,
      });
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      // Our own server on a free port: stop it by its pid, never the shared one.
      const info = await redis.info('server').catch(() => '');
      const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
      redis.disconnect();
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
  });

  it('only checks servers elsewhere: one line naming each that is down and its variable', () => {
    const m = machine({ uid: 0, fakes: RECORD_ONLY });
    const r = m.run('service', {
      REDIS_URL: 'redis://cache.invalid:6379',
      DATABASE_URL: 'postgres://app:pw@db.invalid:5433/selfcare_drip',
    });
    expect(r.code).toBe(1);
    expect(r.output).toBe(
      'prepare (service): Redis at cache.invalid:6379 (REDIS_URL) does not answer; start it there; ' +
        'PostgreSQL at db.invalid:5433 (DATABASE_URL) does not answer; start it there\n',
    );
    expect(m.calls()).toEqual([]);
  });

  it('the service does not need Chromium; the tests do', () => {
    const m = machine({ uid: 0, fakes: RECORD_ONLY });
    const env = {
      REDIS_URL,
      DATABASE_URL: PG_ADMIN_URL,
      TEST_REDIS_URL: REDIS_URL,
      TEST_PG_URL: PG_ADMIN_URL,
      CHROMIUM_PATH: '/nonexistent/chromium',
    };
    expect(m.run('service', env)).toMatchObject({ code: 0, output: '' });
    expect(m.run('test', env)).toMatchObject({ code: 1 });
    expect(m.calls()).toEqual([]);
  });

  it('when everything is there, is quiet and quick and changes nothing', async () => {
    const m = machine({ uid: 0, fakes: RECORD_ONLY });
    const env = {
      TEST_REDIS_URL: REDIS_URL,
      TEST_PG_URL: PG_ADMIN_URL,
      CHROMIUM_PATH: process.execPath, // any executable: this test is not about Chromium
    };
    const state = async () => {
      const redis = new Redis(REDIS_URL, { lazyConnect: true });
      await redis.connect();
      const redisPid = /process_id:(\d+)/.exec(await redis.info('server'))?.[1];
      redis.disconnect();
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      const { rows } = await c.query<{ started: Date; hba: string; dbs: string }>(
        `SELECT pg_postmaster_start_time() AS started, current_setting('hba_file') AS hba,
                (SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database
                 WHERE datname IN ('test', 'root')) AS dbs`,
      );
      await c.end();
      const row = rows[0]!;
      return {
        redisPid,
        started: row.started.toISOString(),
        hbaChanged: statSync(row.hba).mtimeMs,
        dbs: row.dbs,
      };
    };
    const before = await state();
    expect(before.dbs).toBe('root test'); // what the script itself ensures
    const runs = [m.run('test', env), m.run('test', env)];
    for (const r of runs)
      expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: '' });
    expect(Math.max(...runs.map((r) => r.ms))).toBeLessThan(2_000);
    expect(m.calls()).toEqual([]);
    expect(await state()).toEqual(before);
  });
});
