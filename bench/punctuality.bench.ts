import { Queue, Worker } from 'bullmq';
import nodemailer from 'nodemailer';
import twilio from 'twilio';
import { TwilioRequestClient } from '../src/channels/twilio-sms.channel.js';
import type { Channel } from '../src/database/index.js';
import { createRedis } from '../src/delivery/redis.js';
import { startApp, type TestApp } from '../test/support/app.js';
import { deleteKeys, median, pollUntil, type BenchContext, type Figure } from './harness.js';
import { seedBurst, seedQueuedDeliveries, truncateAll } from './seed.js';
import {
  SMTP_POOL,
  TWILIO_FROM,
  sampleMessages,
  sparingly,
  statusCounts,
  zoneInSmsWindow,
} from './send.bench.js';
import { QueuesService } from '../src/delivery/index.js';
import { startSinks, type Arrival, type Sinks } from './sinks.js';

export interface PunctualityKnobs {
  burstSms: number;
  burstSmsRate: number;
  burstEmail: number;
  burstEmailRate: number;
  limiterRate: number;
  limiterSeconds: number;
}

/** Time for the first enrolment to fall due after the app and the baseline worker are up. */
const LEAD_MS = 3000;
const SMS_CONCURRENCY = 50;
const EMAIL_CONCURRENCY = 20;

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** Every recipient exactly once, or an error naming what was lost or doubled. */
function checkOnce(what: string, arrivals: Arrival[], k: number): void {
  const distinct = new Set(arrivals.map((a) => a.to)).size;
  if (arrivals.length !== k || distinct !== k)
    throw new Error(
      `${what}: ${arrivals.length} messages to ${distinct} recipients for ${k} (lost ${k - distinct}, doubled ${arrivals.length - distinct})`,
    );
}

/**
 * Punctuality and limiter fidelity.
 *
 * - A morning burst: K enrolments all due at one instant T, sent through the whole service
 *   (scheduler loop, queues, worker, provider client) with the provider rate set to a
 *   realistic limit (Twilio 100 MPS, SMTP 500/s). The lag of each message is its arrival at
 *   the provider minus T; the baseline is the same burst as raw BullMQ delayed jobs due at T,
 *   under the same limiter, each calling the provider client alone.
 * - Limiter fidelity: the Twilio fake accepts at most N messages a second and answers 429
 *   beyond; the worker's SMS rate is set to N. The achieved rate, over the whole seconds
 *   between the first second and the last, divided by N.
 */
export async function benchPunctuality(
  ctx: BenchContext,
  knobs: PunctualityKnobs,
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const smsZone = zoneInSmsWindow();
  const figures: Figure[] = [];
  const notes: Record<string, unknown> = {};

  for (const [channel, k, rate] of [
    ['sms', knobs.burstSms, knobs.burstSmsRate],
    ['email', knobs.burstEmail, knobs.burstEmailRate],
  ] as const) {
    const service = await burstThroughService(ctx, channel, k, rate, smsZone);
    const raw = await burstThroughRawBullmq(ctx, channel, k, rate);
    const ideal = (k / rate) * 1000;
    for (const p of [50, 99]) {
      figures.push({
        what: `punctuality: ${channel} p${p} lag from next_send_at to the provider, burst of ${k} at ${rate}/s`,
        figure: percentile(service, p),
        unit: 'ms',
        baseline: percentile(raw, p),
        baselineWhat: `the same burst as raw BullMQ delayed jobs, limiter ${rate}/s, provider client alone`,
        samples: [percentile(service, p)],
        baselineSamples: [percentile(raw, p)],
        note: `the rate alone makes the last message ${(ideal / 1000).toFixed(1)} s late; lower is better`,
      });
    }
    notes[`${channel}Burst`] = {
      k,
      rate,
      serviceMaxMs: Math.max(...service),
      rawMaxMs: Math.max(...raw),
      serviceFirstMs: Math.min(...service),
      rawFirstMs: Math.min(...raw),
    };
  }

  const limiter = await limiterFidelity(ctx, knobs.limiterRate, knobs.limiterSeconds, smsZone);
  figures.push({
    what: `limiter: SMS accepted/s with the Twilio fake enforcing ${knobs.limiterRate} MPS (429 beyond)`,
    figure: limiter.rate,
    unit: '/s',
    baseline: knobs.limiterRate,
    baselineWhat: "the fake's limit, N; the ratio is the fidelity (target 0.95-1.0)",
    samples: limiter.perSecond,
    baselineSamples: [knobs.limiterRate],
    note: `${limiter.sent} sent once each, 0 lost, 0 doubled; ${limiter.refused} answered 429`,
  });
  notes.limiter = {
    limit: knobs.limiterRate,
    achieved: limiter.rate,
    sent: limiter.sent,
    refused: limiter.refused,
    perSecond: limiter.perSecond.join(' '),
  };

  return {
    knobs: {
      burstSms: knobs.burstSms,
      burstSmsRate: knobs.burstSmsRate,
      burstEmail: knobs.burstEmail,
      burstEmailRate: knobs.burstEmailRate,
      smsTimeZone: smsZone,
      leadMs: LEAD_MS,
      ...notes,
    },
    figures,
  };
}

function appEnv(sinks: Sinks, channel: Channel, rate: number): Record<string, string> {
  return {
    ROLE: 'all',
    SCHEDULER_INTERVAL_MS: '200',
    SMTP_URL: sinks.smtpUrl,
    TWILIO_ACCOUNT_SID: sinks.twilio.accountSid,
    TWILIO_AUTH_TOKEN: sinks.twilio.authToken,
    TWILIO_FROM,
    TWILIO_API_URL: sinks.twilio.url,
    EMAIL_CONCURRENCY: String(EMAIL_CONCURRENCY),
    SMS_CONCURRENCY: String(SMS_CONCURRENCY),
    ...(channel === 'sms'
      ? { SMS_RATE_PER_SECOND: String(rate) }
      : { EMAIL_RATE_PER_SECOND: String(rate) }),
  };
}

/** Starts the sinks and a ROLE=all app on a prefix of its own; returns both and a closer. */
async function withApp<T>(
  ctx: BenchContext,
  name: string,
  sinkOptions: Parameters<typeof startSinks>[0],
  env: (sinks: Sinks) => Record<string, string>,
  body: (t: TestApp, sinks: Sinks) => Promise<T>,
): Promise<T> {
  const sinks = await startSinks(sinkOptions);
  const stopSinks = ctx.cleanup.add('stop the sinks', () => sinks.close());
  const prefix = `${ctx.root}-${name}`;
  const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
    deleteKeys(ctx.redis, `${prefix}:*`),
  );
  const t = await startApp({ databaseUrl: ctx.database.url, prefix, env: env(sinks) });
  const closeApp = ctx.cleanup.add(`close the ${name} app`, () => t.close());
  try {
    return await body(t, sinks);
  } finally {
    await closeApp();
    await dropKeys();
    await stopSinks();
    await truncateAll(ctx.database.db);
  }
}

/** Lags (ms) of a burst of `k` due at one instant, sent by the whole service. */
async function burstThroughService(
  ctx: BenchContext,
  channel: Channel,
  k: number,
  rate: number,
  smsZone: string,
): Promise<number[]> {
  const { db } = ctx.database;
  await truncateAll(db);
  return withApp(
    ctx,
    `punct-${channel}`,
    { record: true },
    (sinks) => appEnv(sinks, channel, rate),
    async (_t, sinks) => {
      // Seeded after the app is up, so its start is not in the lag.
      const dueAt = new Date(Date.now() + LEAD_MS);
      await seedBurst(db, k, channel, smsZone, dueAt, `punct-${channel}`);
      let counts: Record<string, number> = {};
      await pollUntil(
        sparingly(
          async () => (await sinks.stats())[channel === 'sms' ? 'sms' : 'emails'] >= k,
          async () => {
            counts = await statusCounts(db);
            const bad = (counts.failed ?? 0) + (counts.skipped ?? 0);
            if (bad > 0) throw new Error(`${channel} burst: ${bad} deliveries failed or skipped`);
            return counts.sent === k;
          },
        ),
        () => `${k} ${channel} burst deliveries sent (now ${JSON.stringify(counts)})`,
        LEAD_MS + (k / rate) * 3000 + 60_000,
        100,
      );
      const arrivals = (await sinks.arrivals())[channel];
      checkOnce(`${channel} burst through the service`, arrivals, k);
      return arrivals.map((a) => a.at - dueAt.getTime());
    },
  );
}

/** Lags (ms) of the same burst as raw BullMQ delayed jobs, each calling the client alone. */
async function burstThroughRawBullmq(
  ctx: BenchContext,
  channel: Channel,
  k: number,
  rate: number,
): Promise<number[]> {
  // The app is only here to render one real message of the channel's kind.
  return withApp(
    ctx,
    `punct-raw-${channel}`,
    { record: true },
    (sinks) => ({ ...appEnv(sinks, channel, rate), ROLE: 'api' }),
    async (t, sinks) => {
      const message = sampleMessages(t);
      const prefix = `${ctx.root}-raw-${channel}`;
      const connection = createRedis(ctx.redisUrl);
      const queue = new Queue('burst', { connection, prefix });
      const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
        deleteKeys(ctx.redis, `${prefix}:*`),
      );
      const smtpUrl = new URL(sinks.smtpUrl);
      smtpUrl.searchParams.set('pool', 'true');
      for (const [key, v] of Object.entries(SMTP_POOL)) smtpUrl.searchParams.set(key, v);
      const transport = nodemailer.createTransport(smtpUrl.toString());
      const client = twilio(sinks.twilio.accountSid, sinks.twilio.authToken, {
        httpClient: new TwilioRequestClient(new URL(sinks.twilio.url), 20_000),
      });
      const worker = new Worker<{ to: string }>(
        'burst',
        async (job) => {
          if (channel === 'sms')
            await client.messages.create({
              to: job.data.to,
              from: TWILIO_FROM,
              body: message.sms.body,
            });
          else
            await transport.sendMail({
              from: t.config.mailFrom,
              to: job.data.to,
              subject: message.email.subject,
              html: message.email.html,
              text: message.email.text,
            });
        },
        {
          connection: createRedis(ctx.redisUrl),
          prefix,
          concurrency: channel === 'sms' ? SMS_CONCURRENCY : EMAIL_CONCURRENCY,
          limiter: { max: rate, duration: 1000 },
          removeOnComplete: { count: 0 },
        },
      );
      const close = ctx.cleanup.add(`close the raw ${channel} queue`, async () => {
        await worker.close();
        await queue.close();
        connection.disconnect();
        transport.close();
      });
      try {
        await worker.waitUntilReady();
        const dueAt = Date.now() + LEAD_MS;
        const jobs = Array.from({ length: k }, (_, i) => ({
          name: 'send',
          data: {
            to:
              channel === 'sms'
                ? `+1555${String(i + 1).padStart(7, '0')}`
                : `bench-raw-${i + 1}@example.test`,
          },
          opts: { delay: Math.max(0, dueAt - Date.now()) },
        }));
        for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
        let got = 0;
        await pollUntil(
          async () => {
            const s = await sinks.stats();
            got = channel === 'sms' ? s.sms : s.emails;
            return got >= k;
          },
          () => `raw ${channel} burst: ${got} of ${k} arrived`,
          LEAD_MS + (k / rate) * 3000 + 60_000,
          100,
        );
        const arrivals = (await sinks.arrivals())[channel];
        checkOnce(`raw ${channel} burst`, arrivals, k);
        return arrivals.map((a) => a.at - dueAt);
      } finally {
        await close();
        await dropKeys();
      }
    },
  );
}

/** Sends `rate × seconds` SMS to a fake allowing `rate` a second; the achieved rate. */
async function limiterFidelity(
  ctx: BenchContext,
  rate: number,
  seconds: number,
  smsZone: string,
): Promise<{ rate: number; sent: number; refused: number; perSecond: number[] }> {
  const { db } = ctx.database;
  const m = rate * seconds;
  await truncateAll(db);
  return withApp(
    ctx,
    'limiter',
    { record: true, smsPerSecond: rate },
    (sinks) => ({ ...appEnv(sinks, 'sms', rate), ROLE: 'worker' }),
    async (t, sinks) => {
      const rows = await seedQueuedDeliveries(db, m, 'sms', smsZone, 'limiter');
      await t.get(QueuesService).enqueueDeliveries(rows);
      let counts: Record<string, number> = {};
      await pollUntil(
        sparingly(
          async () => (await sinks.stats()).sms >= m,
          async () => {
            counts = await statusCounts(db);
            const bad = (counts.failed ?? 0) + (counts.skipped ?? 0);
            if (bad > 0) throw new Error(`limiter: ${bad} deliveries failed or skipped`);
            return counts.sent === m;
          },
        ),
        () => `${m} limited SMS sent (now ${JSON.stringify(counts)})`,
        seconds * 4000 + 60_000,
        100,
      );
      const arrivals = (await sinks.arrivals()).sms;
      checkOnce('limited SMS', arrivals, m);
      const { smsRefused } = await sinks.stats();
      // Whole seconds from the first arrival; the first and the last are partial.
      const t0 = Math.min(...arrivals.map((a) => a.at));
      const buckets = new Map<number, number>();
      for (const a of arrivals) {
        const s = Math.floor((a.at - t0) / 1000);
        buckets.set(s, (buckets.get(s) ?? 0) + 1);
      }
      const last = Math.max(...buckets.keys());
      const perSecond = Array.from({ length: last + 1 }, (_, s) => buckets.get(s) ?? 0);
      const inner = perSecond.slice(1, -1);
      const achieved = inner.length
        ? inner.reduce((a, b) => a + b, 0) / inner.length
        : median(perSecond);
      return { rate: achieved, sent: m, refused: smsRefused, perSecond };
    },
  );
}
