import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/bootstrap.js';
import { Clock, ManualClock } from '../../src/common/clock.js';
import { loadConfig, type AppConfig } from '../../src/config/index.js';
import { REDIS_URL } from './env.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  clock?: ManualClock;
  get<T>(token: abstract new (...args: never[]) => T): T;
  close(): Promise<void>;
}

export function uniquePrefix(): string {
  return `sdtest-${randomBytes(5).toString('hex')}`;
}

/**
 * Boots the real application against the given database and a BullMQ prefix of its own.
 * Pass `clock` to move time by hand; otherwise the system clock runs.
 */
export async function startApp(opts: {
  databaseUrl: string;
  prefix: string;
  env?: Record<string, string>;
  clock?: ManualClock;
  outboxDir?: string;
  /** Extra controllers beside the app's own (a benchmark's bare endpoint, say). */
  controllers?: Type[];
}): Promise<TestApp> {
  const outboxDir = opts.outboxDir ?? mkdtempSync(join(tmpdir(), 'sd-outbox-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: opts.prefix,
    ADMIN_TOKEN,
    APP_SECRET: 'test-secret-0123456789-0123456789-0123',
    TEMPLATES_DIR: resolve('templates'),
    OUTBOX_DIR: outboxDir,
    SCHEDULER_INTERVAL_MS: '200',
    ...opts.env,
  });
  let builder = Test.createTestingModule({
    imports: [AppModule.forRoot(config)],
    controllers: opts.controllers,
  });
  if (opts.clock) builder = builder.overrideProvider(Clock).useValue(opts.clock);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
  configureApp(app, config);
  await app.init();
  return {
    app,
    config,
    clock: opts.clock,
    get: (token) => app.get(token as never),
    async close() {
      await app.close();
      if (!opts.outboxDir) rmSync(outboxDir, { recursive: true, force: true });
    },
  };
}

/** Deletes every key under a BullMQ prefix (never FLUSHALL on the shared Redis). */
export async function dropPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
