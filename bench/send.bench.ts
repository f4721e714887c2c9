import { randomUUID } from 'node:crypto';
import { TwilioRequestClient } from '../src/channels/twilio-sms.channel.js';
import { DateTime } from 'luxon';
import nodemailer from 'nodemailer';
import twilio from 'twilio';
import { CampaignsService } from '../src/campaigns/index.js';
import type { Channel, Db } from '../src/database/index.js';
import { QueuesService } from '../src/delivery/index.js';
import { SMS_WINDOW } from '../src/enrollments/index.js';
import { MessageComposer, SenderResolver } from '../src/links/index.js';
import { Renderer } from '../src/rendering/index.js';
import { startApp, type TestApp } from '../test/support/app.js';
import {
  deleteKeys,
  inFlight,
  median,
  pollUntil,
  timeMs,
  type BenchContext,
  type Figure,
} from './harness.js';
import { CAMPAIGN, seedQueuedDeliveries, truncateAll } from './seed.js';
import { startSinks } from './sinks.js';

export interface SendKnobs {
  deliveries: number;
  emailConcurrency: number;
  emailRatePerSecond: number;
  smsConcurrency: number;
  smsRatePerSecond: number;
}

export const TWILIO_FROM = '+15005550006';
/** What the app's SmtpEmailChannel sets on its pool unless SMTP_URL says otherwise. */
export const SMTP_POOL = { maxConnections: '5', maxMessages: '1000' };

/** A zone where it is now well inside the SMS window, so quiet hours defer nothing. */
export function zoneInSmsWindow(): string {
  const zones = [
    'America/New_York',
    'Europe/London',
    'Asia/Tokyo',
    'America/Los_Angeles',
    'Asia/Kolkata',
    'Australia/Sydney',
    'Pacific/Honolulu',
    'America/Sao_Paulo',
    'Asia/Dubai',
    'Europe/Berlin',
  ];
  const zone = zones.find((z) => {
    const hour = DateTime.now().setZone(z).hour;
    return hour >= SMS_WINDOW.startHour + 1 && hour < SMS_WINDOW.endHour - 2;
  });
  if (!zone) throw new Error('no candidate time zone is inside the SMS window now');
  return zone;
}

/**
 * A poll that keeps its load off the database being measured: it asks the sink (another
 * thread) each time, and PostgreSQL only every 25th time (to stop early on a failure) or once
 * the sink has everything. Polling a GROUP BY every 20 ms was measured as the costliest
 * statement of the send phase (45 % of its statement time, pg_stat_statements).
 */
export function sparingly(
  cheap: () => Promise<boolean>,
  costly: () => Promise<boolean>,
): () => Promise<boolean> {
  let tick = 0;
  return async () => ((await cheap()) || ++tick % 25 === 0 ? costly() : false);
}

export async function statusCounts(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** One real rendered message of each kind, for the baselines to send M times. */
export function sampleMessages(t: TestApp) {
  const campaign = t.get(CampaignsService).get(CAMPAIGN);
  if (!campaign) throw new Error(`campaign ${CAMPAIGN} not found in templates/`);
  const composer = t.get(MessageComposer);
  const sender = t.get(SenderResolver).own();
  const to = (channel: Channel) => ({ subscriberId: randomUUID(), name: 'Bench', channel });
  // Renderer's constructor is private, which TestApp.get's signature does not accept.
  const renderer = t.app.get<Renderer>(Renderer);
  return {
    email: renderer.renderEmail(CAMPAIGN, 0, composer.context(campaign, 0, to('email'), sender)),
    sms: renderer.renderSms(CAMPAIGN, 0, composer.context(campaign, 0, to('sms'), sender)),
  };
}

/**
 * Worker send throughput end to end (ROLE=worker app, enqueue -> all `sent` in PostgreSQL),
 * by email to a local SMTP sink and by SMS to a local Twilio fake, each against its client
 * library alone sending to the same server.
 */
export async function benchSend(
  ctx: BenchContext,
  knobs: SendKnobs,
): Promise<{ figures: Figure[]; knobs: Record<string, unknown> }> {
  const { db } = ctx.database;
  const m = knobs.deliveries;
  const sinks = await startSinks();
  const stopSinks = ctx.cleanup.add('stop the sinks', () => sinks.close());
  const prefix = `${ctx.root}-send`;
  const dropKeys = ctx.cleanup.add(`delete ${prefix} keys`, () =>
    deleteKeys(ctx.redis, `${prefix}:*`),
  );
  const t = await startApp({
    databaseUrl: ctx.database.url,
    prefix,
    env: {
      ROLE: 'worker',
      SMTP_URL: sinks.smtpUrl,
      TWILIO_ACCOUNT_SID: sinks.twilio.accountSid,
      TWILIO_AUTH_TOKEN: sinks.twilio.authToken,
      TWILIO_FROM,
      TWILIO_API_URL: sinks.twilio.url,
      EMAIL_CONCURRENCY: String(knobs.emailConcurrency),
      EMAIL_RATE_PER_SECOND: String(knobs.emailRatePerSecond),
      SMS_CONCURRENCY: String(knobs.smsConcurrency),
      SMS_RATE_PER_SECOND: String(knobs.smsRatePerSecond),
    },
  });
  const closeApp = ctx.cleanup.add('close the worker app', () => t.close());
  const queues = t.get(QueuesService);
  const smsZone = zoneInSmsWindow();
  const timeoutMs = Math.max(60_000, m * 20);

  const { email, sms } = sampleMessages(t);

  const endToEnd = async (channel: Channel): Promise<number> => {
    await truncateAll(db);
    const rows = await seedQueuedDeliveries(db, m, channel, smsZone, `send-${channel}`);
    let counts: Record<string, number> = {};
    const before = await sinks.stats();
    const arrived = async () => {
      const now = await sinks.stats();
      return channel === 'email' ? now.emails - before.emails : now.sms - before.sms;
    };
    return timeMs(async () => {
      await queues.enqueueDeliveries(rows);
      await pollUntil(
        sparingly(
          async () => (await arrived()) >= m,
          async () => {
            counts = await statusCounts(db);
            const bad = (counts.failed ?? 0) + (counts.skipped ?? 0);
            if (bad > 0) throw new Error(`${channel}: ${bad} deliveries failed or were skipped`);
            return counts.sent === m;
          },
        ),
        () => `${m} ${channel} deliveries sent (now ${JSON.stringify(counts)})`,
        timeoutMs,
      );
    });
  };

  const rawEmail = async (): Promise<number> => {
    const url = new URL(sinks.smtpUrl);
    url.searchParams.set('pool', 'true');
    for (const [k, v] of Object.entries(SMTP_POOL)) url.searchParams.set(k, v);
    const transport = nodemailer.createTransport(url.toString());
    try {
      return await timeMs(() =>
        inFlight(m, knobs.emailConcurrency, (i) =>
          transport.sendMail({
            from: t.config.mailFrom,
            to: `bench-raw-${i}@example.test`,
            subject: email.subject,
            html: email.html,
            text: email.text,
            headers: { 'X-Delivery-Id': randomUUID() },
          }),
        ),
      );
    } finally {
      transport.close();
    }
  };

  const rawSms = async (): Promise<number> => {
    const client = twilio(sinks.twilio.accountSid, sinks.twilio.authToken, {
      httpClient: new TwilioRequestClient(new URL(sinks.twilio.url), 20_000),
    });
    return timeMs(() =>
      inFlight(m, knobs.smsConcurrency, (i) =>
        client.messages.create({
          to: `+1555${String(i + 1).padStart(7, '0')}`,
          from: TWILIO_FROM,
          body: sms.body,
        }),
      ),
    );
  };

  /** Runs one measurement, checks the sink got all M, and notes the connections it took. */
  const connections: Record<string, number[]> = {};
  const checked = async (what: string, channel: Channel, run: () => Promise<number>) => {
    const before = await sinks.stats();
    const ms = await run();
    const after = await sinks.stats();
    const [got, opened] =
      channel === 'email'
        ? [after.emails - before.emails, after.smtpConnections - before.smtpConnections]
        : [after.sms - before.sms, after.httpConnections - before.httpConnections];
    if (got !== m) throw new Error(`${what}: the ${channel} sink received ${got}, not ${m}`);
    (connections[what] ??= []).push(opened);
    return ms;
  };

  // Figure and baseline alternate, so drift on the machine touches both alike.
  const samples = { email: [] as number[], rawEmail: [] as number[], sms: [] as number[] };
  const rawSmsSamples: number[] = [];
  for (let r = 0; r < ctx.runs; r++) {
    samples.email.push(await checked('email end to end', 'email', () => endToEnd('email')));
    samples.rawEmail.push(await checked('nodemailer alone', 'email', rawEmail));
  }
  for (let r = 0; r < ctx.runs; r++) {
    samples.sms.push(await checked('SMS end to end', 'sms', () => endToEnd('sms')));
    rawSmsSamples.push(await checked('twilio client alone', 'sms', rawSms));
  }
  ctx.notes.push(
    `send: connections opened to the sinks per run of ${m}: ` +
      Object.entries(connections)
        .map(([what, n]) => `${what} ${n.join('/')}`)
        .join(', '),
  );
  const rate = (ms: number[]) => median(ms.map((x) => (m / x) * 1000));

  await closeApp();
  await dropKeys();
  await stopSinks();
  await truncateAll(db);

  return {
    knobs: {
      deliveries: m,
      emailConcurrency: knobs.emailConcurrency,
      emailRatePerSecond: knobs.emailRatePerSecond,
      smsConcurrency: knobs.smsConcurrency,
      smsRatePerSecond: knobs.smsRatePerSecond,
      role: 'worker',
      smtpPool: SMTP_POOL,
      smsTimeZone: smsZone,
      emailBytes: email.html.length + email.text.length,
      smsSegments: sms.segments,
    },
    figures: [
      {
        what: `worker: email sent/s end to end (M=${m}, concurrency ${knobs.emailConcurrency})`,
        figure: rate(samples.email),
        unit: '/s',
        baseline: rate(samples.rawEmail),
        baselineWhat: `nodemailer pool (${SMTP_POOL.maxConnections} connections, maxMessages ${SMTP_POOL.maxMessages}) to the same sink, ${knobs.emailConcurrency} in flight`,
        samples: samples.email,
        baselineSamples: samples.rawEmail,
        note: 'samples are ms for all M',
      },
      {
        what: `worker: SMS sent/s end to end (M=${m}, concurrency ${knobs.smsConcurrency})`,
        figure: rate(samples.sms),
        unit: '/s',
        baseline: rate(rawSmsSamples),
        baselineWhat: `raw twilio client to the same fake, ${knobs.smsConcurrency} in flight`,
        samples: samples.sms,
        baselineSamples: rawSmsSamples,
        note: 'samples are ms for all M',
      },
    ],
  };
}
