import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp, prepareDatabase } from './bootstrap.js';
import { loadCampaigns, TemplateError, type Campaign } from './campaigns/index.js';
import { currentOutage } from './common/index.js';
import { ConfigError, loadConfig, type AppConfig } from './config/index.js';
import { QueuesService, waitForRedis } from './delivery/index.js';

/** How long to wait for Redis at start-up before saying that we are waiting for it. */
const REDIS_START_WAIT_MS = 2_000;
/** A signal repeated within this is the same request, not "exit now". */
const REPEAT_WINDOW_MS = 1_000;

async function main(): Promise<void> {
  let config: AppConfig;
  let shutdownTimeoutMs: number;
  try {
    config = loadConfig();
    shutdownTimeoutMs = shutdownTimeout(process.env.SHUTDOWN_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  // Templates first: a broken one is one line naming file, line and field (TemplateError,
  // printed by the catch at the end), before anything else is touched.
  const campaigns: Campaign[] = loadCampaigns(config.templatesDir);
  try {
    await prepareDatabase(config, campaigns);
  } catch (err) {
    if (err instanceof TemplateError) throw err; // templates that would strand people
    console.error(`Cannot prepare the database at DATABASE_URL: ${(err as Error).message}`);
    process.exit(1);
  }
  // A provider that fails while the app is built (a template the renderer refuses) is
  // rethrown to the catch below instead of Nest logging its stack and exiting; Nest's own
  // lines wait in the buffer until the app exists and are then written by its logger.
  const app = await NestFactory.create(AppModule.forRoot(config), {
    bufferLogs: true,
    autoFlushLogs: false,
    abortOnError: false,
    bodyParser: false,
  });
  configureApp(app, config);
  app.flushLogs();
  closeOnSignals(app, shutdownTimeoutMs);
  await app.listen(config.port);
  const what = `selfcare-drip (${config.role})`;
  const where =
    `on ${config.publicUrl}` +
    (config.smtpUrl ? '' : ` · email outbox: ${config.outboxDir}`) +
    (config.twilio ? '' : ` · SMS outbox: ${config.outboxDir}`);
  const redis = app.get(QueuesService).connection;
  if (await waitForRedis(redis, REDIS_START_WAIT_MS)) {
    console.warn(`${what} listening ${where}`);
    return;
  }
  // Up, but unable to do its work: say so, rather than "listening" as if all were well.
  const why = currentOutage('redis')?.lastError ?? redis.status;
  console.warn(
    `${what} waiting for Redis at ${hostOf(config.redisUrl)} (${why}) ${where}; ` +
      '/health answers 503 until Redis is reachable',
  );
  redis.once('ready', () => console.warn(`Redis reachable: ${what} listening ${where}`));
}

/** SHUTDOWN_TIMEOUT_MS: how long a signal may take to close the app (default 15 s). */
function shutdownTimeout(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 15_000;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100 || ms > 600_000) {
    throw new ConfigError(
      'Invalid configuration: SHUTDOWN_TIMEOUT_MS must be a whole number of ms from 100 to 600000',
    );
  }
  return ms;
}

/**
 * SIGTERM or SIGINT closes the app (workers finish the sends in flight, then connections
 * close) and exits 0; if closing takes longer than `timeoutMs`, it says what was still open
 * and exits 1. A second signal (a second or more after the first) exits at once. Nest's own
 * shutdown hooks are not used: they wait without bound, then re-raise the signal, so the
 * process died by SIGTERM instead of exiting 0.
 */
function closeOnSignals(app: INestApplication, timeoutMs: number): void {
  let started: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started !== undefined) {
      // One request often arrives twice at once: sent to the whole process group (a terminal's
      // Ctrl-C, systemd) and passed on by a wrapper. Only a later one means "now".
      if (Date.now() - started < REPEAT_WINDOW_MS) return;
      console.warn(`${signal} again while closing: exiting now`);
      process.exit(1);
    }
    started = Date.now();
    console.warn(`${signal}: closing (finishing sends in flight; at most ${timeoutMs} ms)`);
    const timer = setTimeout(() => {
      console.error(`still closing after ${timeoutMs} ms, exiting anyway; open: ${stillOpen()}`);
      process.exit(1);
    }, timeoutMs);
    app.close().then(
      () => {
        clearTimeout(timer);
        console.warn(`closed in ${Date.now() - started!} ms`);
        process.exit(0);
      },
      (err: unknown) => {
        clearTimeout(timer);
        console.error(`closing failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** What keeps the process busy, e.g. "3 TCPSocketWrap, 2 Timeout; redis: reconnecting". */
function stillOpen(): string {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  const resources = [...counts].map(([r, n]) => `${n} ${r}`).join(', ') || 'nothing';
  const redis = currentOutage('redis');
  const postgres = currentOutage('postgres');
  return (
    resources +
    (redis ? `; redis unreachable (${redis.lastError})` : '') +
    (postgres ? `; postgres unreachable (${postgres.lastError})` : '')
  );
}

/** host:port of a Redis URL, without any password. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'REDIS_URL';
  }
}

main().catch((err: unknown) => {
  if (err instanceof TemplateError) console.error(`Invalid template: ${err.message}`);
  else console.error(err instanceof Error ? `Start-up failed: ${err.stack ?? err.message}` : err);
  process.exit(1);
});
