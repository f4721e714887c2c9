import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../support/wait.js';

/** One app process of the chaos cluster: `node dist/main.js` with its own ROLE and port. */
export interface Instance {
  name: string;
  role: 'all' | 'api' | 'worker' | 'scheduler';
  port: number;
  proc?: ChildProcess;
  /** Starts (or restarts) the process and waits for its /health to answer. */
  start(env?: Record<string, string>): Promise<void>;
  /** SIGKILL: no shutdown hooks, sends in flight cut off. */
  kill(): Promise<void>;
  /** SIGTERM; resolves with the exit code and how long it took. */
  stop(): Promise<{ code: number | null; signal: string | null; ms: number }>;
  running(): boolean;
}

export interface Cluster {
  instances: Instance[];
  /** Exits nobody asked for: a process that died by itself. */
  unexpectedExits: { name: string; code: number | null; signal: string | null }[];
  logDir: string;
  setEnv(env: Record<string, string>): void;
  stopAll(): Promise<{ name: string; code: number | null; signal: string | null; ms: number }[]>;
}

export function startCluster(opts: {
  env: Record<string, string>;
  instances: { name: string; role: Instance['role']; port: number }[];
  logDir: string;
  /** Where the built app lives (default: this checkout); CHAOS_APP_DIR runs another build. */
  appDir?: string;
}): Cluster {
  mkdirSync(opts.logDir, { recursive: true });
  let env = { ...opts.env };
  const unexpectedExits: Cluster['unexpectedExits'] = [];
  const instances = opts.instances.map((spec): Instance => {
    let proc: ChildProcess | undefined;
    let expected = false;
    let runs = 0;
    let log: WriteStream | undefined;
    const self: Instance = {
      ...spec,
      get proc() {
        return proc;
      },
      running: () => proc !== undefined && proc.exitCode === null && proc.signalCode === null,
      async start(extra = {}) {
        runs++;
        expected = false;
        log = createWriteStream(join(opts.logDir, `${spec.name}-${runs}.log`));
        const child = spawn(process.execPath, [join(opts.appDir ?? '.', 'dist/main.js')], {
          cwd: opts.appDir,
          env: { ...process.env, ...env, ...extra, ROLE: spec.role, PORT: String(spec.port) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        proc = child;
        child.stdout!.pipe(log);
        child.stderr!.pipe(log);
        child.once('exit', (code, signal) => {
          if (!expected) unexpectedExits.push({ name: spec.name, code, signal });
        });
        await waitFor(
          async () =>
            child.exitCode === null &&
            (await fetch(`http://127.0.0.1:${spec.port}/health`)).status === 200,
          `${spec.name} to answer /health`,
          60_000,
          200,
        );
      },
      async kill() {
        if (!proc || !self.running()) return;
        expected = true;
        const exited = new Promise((r) => proc!.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      },
      async stop() {
        const started = Date.now();
        if (!proc || !self.running())
          return { code: proc?.exitCode ?? null, signal: proc?.signalCode ?? null, ms: 0 };
        expected = true;
        const exited = new Promise<[number | null, string | null]>((r) =>
          proc!.once('exit', (c, s) => r([c, s])),
        );
        proc.kill('SIGTERM');
        const bound = setTimeout(() => proc?.kill('SIGKILL'), 30_000);
        const [code, signal] = await exited;
        clearTimeout(bound);
        return { code, signal, ms: Date.now() - started };
      },
    };
    return self;
  });
  return {
    instances,
    unexpectedExits,
    logDir: opts.logDir,
    setEnv(next) {
      env = { ...env, ...next };
    },
    async stopAll() {
      return Promise.all(instances.map(async (i) => ({ name: i.name, ...(await i.stop()) })));
    },
  };
}

/** A redis-server of the suite's own on a fixed port, which it may restart or flush. */
export async function startRedisServer(port: number): Promise<{
  url: string;
  restart(downMs: number): Promise<void>;
  flush(): Promise<void>;
  stop(): Promise<void>;
}> {
  let proc: ChildProcess;
  const url = `redis://127.0.0.1:${port}`;
  const launch = async () => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor(async () => {
      const c = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    }, `redis-server on ${port}`);
  };
  const halt = async () => {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url,
    async restart(downMs) {
      await halt(); // nothing is saved: it comes back empty
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async flush() {
      const c = new Redis(url);
      await c.flushall();
      c.disconnect();
    },
    stop: halt,
  };
}
