import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import { sql, type Updateable } from 'kysely';
import pg from 'pg';
import twilioSdk from 'twilio';
import { CampaignsService } from '../src/campaigns/index.js';
import { EmailChannel, SmsChannel } from '../src/channels/index.js';
import { TwilioRequestClient } from '../src/channels/twilio-sms.channel.js';
import { ManualClock } from '../src/common/clock.js';
import { currentOutage } from '../src/common/outage.js';
import type { Channel, EnrollmentsTable } from '../src/database/index.js';
import {
  ChannelFaults,
  DeliveriesRepository,
  DeliveryMessages,
  type ChannelFault,
  LeaseResolver,
  QueueName,
  QueuesService,
  SendProcessor,
} from '../src/delivery/index.js';
import type { JobName, JobPayloads } from '../src/delivery/jobs.js';
import { EnrollmentsRepository, EnrollmentsService } from '../src/enrollments/index.js';
import { followingSendAt, scheduleContextOf } from '../src/enrollments/schedule.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { Reconciler, SchedulerService } from '../src/scheduler/index.js';
import { SCHEDULER_LOCK } from '../src/scheduler/scheduler.service.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { deliveriesOf } from './support/journey.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

/**
 * Guards found by mutation testing (npm run test:mutation; docs/mutation-testing.md): each
 * test here pins a rule of the delivery and scheduling core that no other test noticed being
 * broken. No worker runs: the tests drive the send processor, the lease resolver, the
 * reconciler and the scheduler one call at a time, against PostgreSQL, Redis, an SMTP server
 * and the Twilio fake, with a clock moved by hand. A stand-in job and worker record what the
 * processor asks of BullMQ (wait, delay), which a real queue would only act on.
 */

type SendJob = Job<JobPayloads[JobName.SendDelivery]>;

const LEASE_MS = 60_000;
const JOB_CHECK_MS = 120_000;
const BACKOFF_MS = 1_000;
const GIVE_UP_MS = 180_000;

describe('mutation guards', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let twilio: FakeTwilio;
  let t: TestApp;
  const prefix = uniquePrefix();
  // 12:00 in New York, inside the SMS window; in the future, like BullMQ's clock.
  const NOON = '2030-06-03T16:00:00.000Z';
  const clock = new ManualClock(new Date(NOON));
  let seq = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    twilio = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        ROLE: 'api', // no workers, no scheduler loop: every step is taken by the test
        SMTP_URL: smtp.url,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: twilio.url,
        SEND_ATTEMPTS: '3',
        SEND_BACKOFF_MS: String(BACKOFF_MS),
        SEND_TIMEOUT_MS: '2000',
        DELIVERY_LEASE_MS: String(LEASE_MS),
        JOB_CHECK_MS: String(JOB_CHECK_MS),
        UNRESOLVED_GIVE_UP_MS: String(GIVE_UP_MS),
        SCHEDULER_BATCH: '2',
      },
    });
  });
  afterEach(() => {
    clock.set(NOON);
    twilio.failList(false);
    jest.restoreAllMocks();
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await twilio?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const repo = () => t.get(DeliveriesRepository);
  const processor = () => t.get(SendProcessor);
  const row = (id: string) =>
    tdb.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const enrolment = (id: string) =>
    tdb.db.selectFrom('enrollments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  /** Sets columns of one enrolment straight in the table (a stop, a step, a campaign gone). */
  const setEnrolment = (id: string, values: Updateable<EnrollmentsTable>) =>
    tdb.db.updateTable('enrollments').set(values).where('id', '=', id).execute();
  const after = (ms: number) => new Date(clock.now().getTime() + ms);
  const newEmail = () => `guard${seq++}@example.com`;
  const newPhone = () => `+1213373${7000 + seq++}`;

  /**
   * Enrols someone and gives them a queued delivery for `step`, with no BullMQ job. The
   * enrolment is then not due, so scheduler passes in other tests leave it alone.
   */
  async function queued(
    channel: Channel,
    opts: { campaign?: string; address?: string; step?: number } = {},
  ) {
    const address = opts.address ?? (channel === 'email' ? newEmail() : newPhone());
    const e = await t.get(EnrollmentsService).enroll(
      {
        campaign: opts.campaign ?? 'upper-back-relief',
        channel,
        ...(channel === 'email' ? { email: address } : { phone: address }),
        timezone: 'America/New_York',
        sendTime: '08:00',
      },
      'test',
    );
    await setEnrolment(e.id, { next_send_at: null });
    const step = opts.step ?? 0;
    // Steps are found by key: a position past the end stands for a step that is gone.
    const key = t.get(CampaignsService).get(e.campaign)!.steps[step]?.key ?? `gone-step-${step}`;
    const [d] = await repo().insertQueued(
      tdb.db,
      [{ enrollment_id: e.id, step, step_key: key, channel }],
      JOB_CHECK_MS,
    );
    return { enrollmentId: e.id, deliveryId: d!.id, address };
  }

  /** A stand-in BullMQ job: records where the processor moves it (delayed until when). */
  function stubJob(deliveryId: string, opts: { attemptsMade?: number; attempts?: number } = {}) {
    const delayedUntil: number[] = [];
    const job = {
      id: deliveryId,
      data: { deliveryId },
      attemptsMade: opts.attemptsMade ?? 0,
      opts: 'attempts' in opts ? { attempts: opts.attempts } : { attempts: 3 },
      moveToDelayed: async (timestamp: number) => {
        delayedUntil.push(timestamp);
      },
    };
    return { job: job as unknown as SendJob, delayedUntil };
  }

  /** A stand-in BullMQ worker: records the queue-wide waits the processor asks for. */
  function stubWorker() {
    const waits: number[] = [];
    const worker = {
      rateLimit: async (ms: number) => {
        waits.push(ms);
      },
    };
    return { worker: worker as unknown as Worker, waits };
  }

  /** Runs one job of a delivery through the processor, as a BullMQ worker would. */
  async function run(deliveryId: string, opts: { attemptsMade?: number; attempts?: number } = {}) {
    const { job, delayedUntil } = stubJob(deliveryId, opts);
    const { worker, waits } = stubWorker();
    const before = Date.now();
    let outcome: unknown;
    let error: unknown;
    try {
      outcome = await processor().process(job, 'token', worker);
    } catch (err) {
      error = err;
    }
    return { outcome, error, delayedUntil, waits, before, after: Date.now() };
  }

  /** Expects a delay of `ms` (by the service's clock) plus BullMQ's 250 ms margin. */
  function expectDelayed(r: Awaited<ReturnType<typeof run>>, ms: number) {
    expect(r.error).toBeInstanceOf(DelayedError);
    expect(r.delayedUntil).toHaveLength(1);
    expect(r.delayedUntil[0]).toBeGreaterThanOrEqual(r.before + ms + 250);
    expect(r.delayedUntil[0]).toBeLessThanOrEqual(r.after + ms + 250);
  }

  async function counter(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await t.get(MetricsService).registry.getSingleMetric(name)!.get();
    const value = metric.values.find((v) =>
      Object.entries(labels).every(([k, x]) => v.labels[k] === x),
    );
    return value?.value ?? 0;
  }
  const deliveriesCounter = (channel: string, outcome: string) =>
    counter('selfcare_deliveries_total', { channel, outcome });
  const resolutionsCounter = (channel: string, outcome: string) =>
    counter('selfcare_delivery_resolutions_total', { channel, outcome });
  const faultsCounter = (channel: string, kind: string) =>
    counter('selfcare_channel_faults_total', { channel, kind });

  /** Everything the processor and friends log, as (level, fields, message). */
  function captureLogs() {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation(((
        fields: unknown,
        message?: unknown,
      ) => {
        lines.push({
          level,
          fields: typeof fields === 'object' && fields ? (fields as Record<string, unknown>) : {},
          message: typeof message === 'string' ? message : String(fields),
        });
      }) as never);
    }
    return lines;
  }

  /** Makes a delivery look like an attempt that died mid-send, its lease ending in `ms`. */
  async function inFlight(deliveryId: string, ms: number, claimedAgo = 5_000) {
    const now = clock.now().getTime();
    await tdb.db
      .updateTable('deliveries')
      .set({
        status: 'sending',
        attempts: 1,
        claimed_at: new Date(now - claimedAgo),
        check_at: new Date(now + ms),
      })
      .where('id', '=', deliveryId)
      .execute();
  }

  describe('mutation guards: the send processor', () => {
    it('sends, records the provider id and counts it', async () => {
      const { deliveryId, address } = await queued('email');
      const sent = await deliveriesCounter('email', 'sent');
      const logs = captureLogs();
      const r = await run(deliveryId);
      expect(r.outcome).toBe('sent');
      const d = await row(deliveryId);
      expect(d).toMatchObject({ status: 'sent', attempts: 1, error: null, check_at: null });
      expect(d.provider_id).toBe(`<${deliveryId}@localhost>`);
      expect(await deliveriesCounter('email', 'sent')).toBe(sent + 1);
      const line = logs.find((l) => l.message === 'sent')!;
      expect(line.fields).toMatchObject({ deliveryId, channel: 'email', step: 0, attempt: 1 });
      // The address is masked in logs: never the whole of it.
      expect(JSON.stringify(line.fields)).not.toContain(address);
      expect(line.fields.to).toMatch(/\*\*\*/);
    });

    it('backs a whole queue off during an outage, 1 s doubling to 30 s, and starts over after a send', async () => {
      const { deliveryId } = await queued('email');
      const faults = await faultsCounter('email', 'outage');
      const logs = captureLogs();
      smtp.tempFailAll(451);
      const waits: number[] = [];
      try {
        for (let i = 0; i < 7; i++) {
          const r = await run(deliveryId);
          expect(r.error).toBeInstanceOf(RateLimitError);
          waits.push(...r.waits);
        }
      } finally {
        smtp.tempFailAll(null);
      }
      expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
      expect(await faultsCounter('email', 'outage')).toBe(faults + 7);
      // Not this recipient's fault: the claim is given back, no attempt spent.
      expect(await row(deliveryId)).toMatchObject({
        status: 'queued',
        attempts: 0,
        check_at: after(JOB_CHECK_MS),
      });
      const warned = logs.filter((l) => l.message === 'provider unavailable; queue backs off');
      expect(warned.map((l) => l.fields.waitMs)).toEqual(waits);
      expect(warned[0]!.fields).toMatchObject({ deliveryId, error: 'SMTP 451 4.3.0 at MAIL FROM' });

      expect((await run(deliveryId)).outcome).toBe('sent');
      const next = await queued('email');
      smtp.tempFailAll(451);
      try {
        expect((await run(next.deliveryId)).waits).toEqual([1_000]);
      } finally {
        smtp.tempFailAll(null);
      }
      expect((await run(next.deliveryId)).outcome).toBe('sent');
    });

    it('makes the queue wait, doubling, while PostgreSQL is out of reach, and spends nothing', async () => {
      const { deliveryId } = await queued('email');
      // A new error each time, as a dropped connection gives: one error shared by several
      // sends (a batch of claims) counts once (the test after this one).
      const lost = () => new Error('Connection terminated unexpectedly');
      const claim = jest.spyOn(DeliveriesRepository.prototype, 'claim');
      claim.mockImplementation(() => Promise.reject(lost()));
      const first = await run(deliveryId);
      expect(first.error).toBeInstanceOf(RateLimitError);
      expect(first.waits).toEqual([1_000]);
      // Counted as a PostgreSQL outage (one log line per outage, /health names it).
      expect(currentOutage('postgres')).toMatchObject({
        lastError: 'Connection terminated unexpectedly',
      });
      expect((await run(deliveryId)).waits).toEqual([2_000]);
      // Any other database error is no outage: it fails the job as it is.
      const bug = new Error('column "nope" does not exist');
      claim.mockRejectedValueOnce(bug as never);
      const other = await run(deliveryId);
      expect(other.error).toBe(bug);
      expect(other.waits).toEqual([]);
      claim.mockRestore();
      expect(await row(deliveryId)).toMatchObject({ status: 'queued', attempts: 0 });
      expect((await run(deliveryId)).outcome).toBe('sent');
      // Back to 1 s after a claim went through.
      jest.spyOn(DeliveriesRepository.prototype, 'claim').mockRejectedValueOnce(lost() as never);
      expect((await run(deliveryId)).waits).toEqual([1_000]);
    });

    it('counts one error shared by several sends (a batch of claims) as one step of the back-off', async () => {
      // A claim that goes through starts the back-off over.
      const warm = await queued('email');
      expect((await run(warm.deliveryId)).outcome).toBe('sent');
      const { deliveryId } = await queued('email');
      const shared = new Error('Connection terminated unexpectedly');
      const claim = jest.spyOn(DeliveriesRepository.prototype, 'claim');
      claim.mockRejectedValue(shared as never);
      expect((await run(deliveryId)).waits).toEqual([1_000]);
      expect((await run(deliveryId)).waits).toEqual([1_000]);
      claim.mockImplementation(() =>
        Promise.reject(new Error('Connection terminated unexpectedly')),
      );
      expect((await run(deliveryId)).waits).toEqual([2_000]);
      claim.mockRestore();
      expect((await run(deliveryId)).outcome).toBe('sent');
    });

    it('waits out a 429 for as long as Retry-After says, or 1 s when it says nothing', async () => {
      const { deliveryId, address } = await queued('sms');
      const logs = captureLogs();
      twilio.failNext(address, 429, 20429, { retryAfterSeconds: 3 });
      const limited = await run(deliveryId);
      expect(limited.error).toBeInstanceOf(RateLimitError);
      expect(limited.waits).toEqual([3_000]);
      expect(await row(deliveryId)).toMatchObject({ status: 'queued', attempts: 0 });
      twilio.failNext(address, 400, 20429); // "too many requests", with no Retry-After
      expect((await run(deliveryId)).waits).toEqual([1_000]);
      // A rate limit is no outage: nothing warns about the provider being down.
      expect(logs.some((l) => l.message === 'provider unavailable; queue backs off')).toBe(false);
      expect((await run(deliveryId)).outcome).toBe('sent');
    });

    it('retries a temporary refusal, telling the reconciler when, and fails it on the last attempt', async () => {
      const { deliveryId, address } = await queued('email');
      for (let i = 0; i < 3; i++) smtp.failNext(address, 451);
      const logs = captureLogs();
      const failed = await deliveriesCounter('email', 'failed');

      // The job waits the backoff (1 s × 2^0) in BullMQ's delayed set; the reconciler looks
      // a job-check later.
      const first = await run(deliveryId, { attemptsMade: 0 });
      expectDelayed(first, BACKOFF_MS);
      expect(await row(deliveryId)).toMatchObject({
        status: 'queued',
        attempts: 1,
        error: 'SMTP 451 at RCPT TO',
        check_at: after(BACKOFF_MS + JOB_CHECK_MS),
      });
      expect(logs.find((l) => l.message === 'send failed; will retry')!.fields).toMatchObject({
        deliveryId,
        attempt: 1,
        error: 'SMTP 451 at RCPT TO',
      });

      clock.advance(10_000);
      expectDelayed(await run(deliveryId), 2 * BACKOFF_MS);
      expect((await row(deliveryId)).check_at).toEqual(after(2 * BACKOFF_MS + JOB_CHECK_MS));

      clock.advance(10_000);
      const last = await run(deliveryId);
      expect(last.error).toBeInstanceOf(UnrecoverableError);
      expect((last.error as Error).message).toBe('gave up after 3 attempts: SMTP 451 at RCPT TO');
      expect(await row(deliveryId)).toMatchObject({
        status: 'failed',
        attempts: 3,
        error: 'gave up after 3 attempts: SMTP 451 at RCPT TO',
        check_at: null,
      });
      expect(await deliveriesCounter('email', 'failed')).toBe(failed + 1);
      expect(logs.find((l) => l.message === 'send failed; out of attempts')!.fields).toMatchObject({
        deliveryId,
        error: 'SMTP 451 at RCPT TO',
      });
    });

    it('counts attempts on the delivery, so a job added again does not start them over', async () => {
      const { deliveryId, address } = await queued('email');
      for (let i = 0; i < 3; i++) smtp.failNext(address, 451);
      // Each run is a fresh job (as the reconciler re-adds one): BullMQ's count stays 0.
      for (let i = 0; i < 2; i++) {
        expectDelayed(
          await run(deliveryId, { attemptsMade: 0, attempts: undefined }),
          2 ** i * BACKOFF_MS,
        );
        clock.advance(10_000);
      }
      const r = await run(deliveryId, { attemptsMade: 0, attempts: undefined });
      expect(r.error).toBeInstanceOf(UnrecoverableError);
      expect((await row(deliveryId)).error).toBe('gave up after 3 attempts: SMTP 451 at RCPT TO');
    });

    it('fails a refused message alone, with the reason, and does not retry it', async () => {
      const { deliveryId, address, enrollmentId } = await queued('email');
      smtp.failNext(address, 552);
      const failed = await deliveriesCounter('email', 'failed');
      const faults = await faultsCounter('email', 'message');
      const logs = captureLogs();
      const r = await run(deliveryId);
      expect(r.error).toBeInstanceOf(UnrecoverableError);
      expect((r.error as Error).message).toBe('SMTP 552 at RCPT TO');
      expect(await row(deliveryId)).toMatchObject({
        status: 'failed',
        error: 'SMTP 552 at RCPT TO',
      });
      expect((await enrolment(enrollmentId)).status).toBe('active');
      expect(await deliveriesCounter('email', 'failed')).toBe(failed + 1);
      expect(await faultsCounter('email', 'message')).toBe(faults + 1);
      expect(logs.find((l) => l.message === 'message refused; not retried')!.fields).toMatchObject({
        deliveryId,
        error: 'SMTP 552 at RCPT TO',
      });
    });

    it('ends every enrolment of an undeliverable number on that channel, skipping what they had queued', async () => {
      const phone = newPhone();
      const first = await queued('sms', { address: phone });
      const other = await queued('sms', { address: phone, campaign: 'upper-back-relief-demo' });
      const email = await queued('email'); // another person: untouched
      twilio.failAlways(phone, 400, 21211);
      const undeliverable = await deliveriesCounter('sms', 'undeliverable');
      const logs = captureLogs();
      try {
        const r = await run(first.deliveryId);
        expect(r.error).toBeInstanceOf(UnrecoverableError);
        expect((r.error as Error).message).toBe('Twilio 400 error 21211');
      } finally {
        twilio.clearFailAlways(phone);
      }
      expect(await row(first.deliveryId)).toMatchObject({
        status: 'failed',
        error: 'undeliverable: Twilio 400 error 21211',
      });
      expect(await row(other.deliveryId)).toMatchObject({
        status: 'skipped',
        error: 'cancelled: address undeliverable',
      });
      expect(await enrolment(other.enrollmentId)).toMatchObject({
        status: 'cancelled',
        cancel_reason: 'undeliverable',
      });
      expect((await row(email.deliveryId)).status).toBe('queued');
      expect(await deliveriesCounter('sms', 'undeliverable')).toBe(undeliverable + 1);
      const line = logs.find(
        (l) =>
          l.message ===
          'address undeliverable: suppressed, and its enrolments on this channel ended',
      )!;
      expect(line.fields).toMatchObject({
        deliveryId: first.deliveryId,
        error: 'Twilio 400 error 21211',
      });
    });

    it('holds an SMS that reaches it in quiet hours until 08:00, giving the claim back', async () => {
      const { deliveryId } = await queued('sms');
      clock.set('2030-06-04T01:30:00Z'); // 21:30 in New York
      const r = await run(deliveryId);
      expectDelayed(r, 10.5 * 3600_000);
      expect(await row(deliveryId)).toMatchObject({
        status: 'queued',
        attempts: 0,
        check_at: new Date(new Date('2030-06-04T12:00:00Z').getTime() + JOB_CHECK_MS),
      });
    });

    it('fails a delivery whose campaign is gone, instead of looping on it', async () => {
      const { deliveryId, enrollmentId } = await queued('email');
      await setEnrolment(enrollmentId, { campaign_id: 'retired-campaign' });
      const failed = await deliveriesCounter('email', 'failed');
      const r = await run(deliveryId);
      expect(r.error).toBeInstanceOf(UnrecoverableError);
      expect((r.error as Error).message).toBe('campaign step missing');
      expect(await row(deliveryId)).toMatchObject({
        status: 'failed',
        error: 'campaign step retired-campaign#welcome no longer exists',
      });
      expect(await deliveriesCounter('email', 'failed')).toBe(failed + 1);
    });

    it('fails a message that cannot be rendered, with the reason, and does not retry it', async () => {
      const { deliveryId } = await queued('email');
      jest.spyOn(DeliveryMessages.prototype, 'build').mockImplementation(() => {
        throw new Error('template exploded');
      });
      const failed = await deliveriesCounter('email', 'failed');
      const r = await run(deliveryId);
      expect(r.error).toBeInstanceOf(UnrecoverableError);
      expect((r.error as Error).message).toBe('could not render: template exploded');
      expect(await row(deliveryId)).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: 'could not render: template exploded',
      });
      expect(await deliveriesCounter('email', 'failed')).toBe(failed + 1);
    });

    it('says why nothing was sent when there was nothing to claim', async () => {
      const skipped = await deliveriesCounter('email', 'skipped');
      // Withdrawn (a pause deleted it) or never there.
      const gone = await queued('email');
      await tdb.db.deleteFrom('deliveries').where('id', '=', gone.deliveryId).execute();
      expect((await run(gone.deliveryId)).outcome).toBe('gone');
      // Already final.
      for (const status of ['sent', 'failed', 'skipped'] as const) {
        const done = await queued('email');
        await tdb.db
          .updateTable('deliveries')
          .set({ status })
          .where('id', '=', done.deliveryId)
          .execute();
        expect((await run(done.deliveryId)).outcome).toBe('already-done');
        expect((await row(done.deliveryId)).status).toBe(status);
      }
      expect(await deliveriesCounter('email', 'skipped')).toBe(skipped);
      // The enrolment stopped.
      const stopped = await queued('email');
      await setEnrolment(stopped.enrollmentId, { status: 'cancelled' });
      expect((await run(stopped.deliveryId)).outcome).toBe('skipped');
      expect((await row(stopped.deliveryId)).error).toBe(
        'not sendable: opted out, suppressed or enrolment stopped',
      );
      expect(await deliveriesCounter('email', 'skipped')).toBe(skipped + 1);
    });

    it('keeps an unknown outcome in flight until its lease ends, then settles it from the provider log', async () => {
      const { deliveryId, address } = await queued('sms');
      twilio.failNext(address, 500, 20500);
      const absent = await resolutionsCounter('sms', 'absent');
      const logs = captureLogs();
      const unknown = await run(deliveryId);
      expectDelayed(unknown, LEASE_MS);
      expect(await row(deliveryId)).toMatchObject({
        status: 'sending',
        attempts: 1,
        check_at: after(LEASE_MS),
        resolution: 'outcome unknown (Twilio 500 error 20500); settled when the lease ends',
      });
      expect(
        logs.find(
          (l) => l.message === 'outcome unknown; settled from the provider log when the lease ends',
        )!.fields,
      ).toMatchObject({ deliveryId, error: 'Twilio 500 error 20500' });

      // The job comes back early (a retry after a crash): the lease is live, so it waits.
      clock.advance(LEASE_MS - 10_000);
      expectDelayed(await run(deliveryId), 10_000);
      expect(twilio.messages.filter((m) => m.to === address)).toHaveLength(0);

      // At the very end of the lease it is settled: not in Twilio's log, so sent again.
      clock.advance(10_000);
      const settled = await run(deliveryId);
      expect(settled.outcome).toBe('sent');
      expect(await row(deliveryId)).toMatchObject({
        status: 'sent',
        attempts: 2,
        resolution: 'lease expired; not in the provider log, sent again',
      });
      expect(twilio.messages.filter((m) => m.to === address)).toHaveLength(1);
      expect(await resolutionsCounter('sms', 'absent')).toBe(absent + 1);
      expect(
        logs.some((l) => l.message === 'unknown outcome settled: not sent; sending again'),
      ).toBe(true);
    });

    it('asks again each lease while the provider log is unreachable, and gives up without resending', async () => {
      const { deliveryId, address } = await queued('sms');
      twilio.failNext(address, 500, 20500);
      await run(deliveryId);
      const since = clock.now();
      twilio.failList(true);
      const unresolved = await resolutionsCounter('sms', 'unresolved');
      const gaveUp = await resolutionsCounter('sms', 'gave-up');
      const logs = captureLogs();

      clock.advance(LEASE_MS);
      const first = await run(deliveryId);
      expectDelayed(first, LEASE_MS);
      expect(await row(deliveryId)).toMatchObject({
        status: 'sending',
        check_at: after(LEASE_MS),
        resolution: `unresolved since ${since.toISOString()}: provider log unreachable (Twilio 500 error 20500); asked again every lease`,
      });
      expect(await resolutionsCounter('sms', 'unresolved')).toBe(unresolved + 1);

      // Exactly at the give-up time it is still asked again...
      clock.set(new Date(since.getTime() + GIVE_UP_MS));
      expectDelayed(await run(deliveryId), LEASE_MS);
      expect((await row(deliveryId)).status).toBe('sending');

      // ...and past it, it fails: never sent twice on a guess.
      clock.advance(LEASE_MS);
      expect((await run(deliveryId)).outcome).toBe('already-done');
      expect(await row(deliveryId)).toMatchObject({
        status: 'failed',
        error:
          'outcome unknown: the provider log could not be read (Twilio 500 error 20500); not sent again, to avoid a duplicate',
      });
      expect(await resolutionsCounter('sms', 'gave-up')).toBe(gaveUp + 1);
      const why = { deliveryId, channel: 'sms', error: 'Twilio 500 error 20500' };
      expect(
        logs.filter(
          (l) => l.message === 'unknown outcome not settled yet: provider log unreachable',
        ),
      ).toHaveLength(2);
      expect(
        logs.find((l) => l.message === 'unknown outcome not settled yet: provider log unreachable')!
          .fields,
      ).toMatchObject(why);
      expect(logs.find((l) => l.message === 'gave up settling an unknown outcome')!).toMatchObject({
        level: 'error',
        fields: why,
      });
      expect(twilio.messages.filter((m) => m.to === address)).toHaveLength(0);
    });

    it('fails a delivery whose step the campaign no longer has, instead of sending another', async () => {
      const { deliveryId } = await queued('email', { step: 99 });
      const r = await run(deliveryId);
      expect(r.error).toBeInstanceOf(UnrecoverableError);
      expect((r.error as Error).message).toBe('campaign step missing');
      expect(await row(deliveryId)).toMatchObject({
        status: 'failed',
        error: 'campaign step upper-back-relief#gone-step-99 no longer exists',
      });
      expect(smtp.received.filter((m) => m.mail.messageId?.includes(deliveryId))).toEqual([]);
    });

    it('pauses the channel on a sender the server refuses, giving the claim back and failing nothing', async () => {
      const { deliveryId } = await queued('email');
      const faults = await faultsCounter('email', 'config');
      smtp.rejectSender(550, '5.7.1 sender not allowed');
      let fault: ChannelFault | null = null;
      try {
        const r = await run(deliveryId);
        expect(r.error).toBeInstanceOf(RateLimitError);
        expect(await row(deliveryId)).toMatchObject({
          status: 'queued',
          attempts: 0,
          check_at: after(JOB_CHECK_MS),
        });
        fault = await t.get(ChannelFaults).get(QueueName.Email);
        expect(fault).toMatchObject({ kind: 'config' });
        expect(await t.get(QueuesService).queue(QueueName.Email).isPaused()).toBe(true);
        expect(await faultsCounter('email', 'config')).toBe(faults + 1);
      } finally {
        smtp.rejectSender(null);
        if (fault) await t.get(ChannelFaults).clear(QueueName.Email, fault);
      }
      expect((await run(deliveryId)).outcome).toBe('sent');
    });

    it('suppresses an email address that does not exist, with the reason', async () => {
      const { deliveryId, address, enrollmentId } = await queued('email');
      smtp.failAlways(address, 550, '5.1.1 mailbox does not exist');
      try {
        const r = await run(deliveryId);
        expect(r.error).toBeInstanceOf(UnrecoverableError);
      } finally {
        smtp.clearFailAlways(address);
      }
      const suppressed = await tdb.db
        .selectFrom('suppressions')
        .select(['address', 'channel', 'reason'])
        .where('address', '=', address)
        .executeTakeFirst();
      expect(suppressed).toEqual({
        address,
        channel: 'email',
        reason: expect.stringMatching(/^undeliverable: SMTP 550/),
      });
      expect(await enrolment(enrollmentId)).toMatchObject({
        status: 'cancelled',
        cancel_reason: 'undeliverable',
      });
    });

    it("treats an error that is not a channel's as temporary, and says what it was", async () => {
      const { deliveryId } = await queued('email');
      const send = jest.spyOn(t.get(EmailChannel), 'send');
      send.mockRejectedValueOnce(new Error('socket closed by a bug') as never);
      const r = await run(deliveryId);
      expectDelayed(r, BACKOFF_MS);
      expect(await row(deliveryId)).toMatchObject({
        status: 'queued',
        attempts: 1,
        error: 'socket closed by a bug',
      });
      // Not even an Error: still a temporary failure, with a reason a person can read.
      send.mockRejectedValueOnce(undefined as never);
      clock.advance(10_000);
      await run(deliveryId, { attemptsMade: 1 });
      expect((await row(deliveryId)).error).toBe('send failed');
    });

    it('retries the record of a send that went out, logging once, and never sends it again', async () => {
      const { deliveryId } = await queued('email');
      const markSent = jest.spyOn(DeliveriesRepository.prototype, 'markSent');
      markSent
        .mockRejectedValueOnce(new Error('deadlock detected') as never)
        .mockRejectedValueOnce(new Error('deadlock detected') as never)
        .mockRejectedValueOnce(new Error('deadlock detected') as never);
      const logs = captureLogs();
      expect((await run(deliveryId)).outcome).toBe('sent');
      expect(markSent).toHaveBeenCalledTimes(4);
      expect((await row(deliveryId)).status).toBe('sent');
      const failed = logs.filter((l) => l.message.startsWith('sent, but recording it failed'));
      expect(failed).toHaveLength(1);
      expect(failed[0]!.fields).toMatchObject({ deliveryId, error: 'deadlock detected' });
      expect(smtp.received.filter((m) => m.mail.messageId?.includes(deliveryId))).toHaveLength(1);
    });

    it('on shutdown stops retrying its records: a send is left to its lease, a failure is thrown', async () => {
      const { deliveryId } = await queued('email');
      const p = processor() as unknown as { stopping: AbortController };
      const running = p.stopping;
      p.stopping = new AbortController();
      processor().stop();
      try {
        // The send went out; its record never lands: the lease will settle it.
        const down = new Error('Connection terminated unexpectedly');
        jest.spyOn(DeliveriesRepository.prototype, 'markSent').mockRejectedValue(down as never);
        const logs = captureLogs();
        expect((await run(deliveryId)).outcome).toBe('sent');
        expect(logs.find((l) => l.message.startsWith('sent, but never recorded'))).toMatchObject({
          level: 'error',
          fields: { deliveryId },
        });
        expect((await row(deliveryId)).status).toBe('sending');
        // Any other record gives up at once, instead of holding the shutdown.
        const other = await queued('email');
        jest.spyOn(DeliveryMessages.prototype, 'build').mockImplementation(() => {
          throw new Error('template exploded');
        });
        jest.spyOn(DeliveriesRepository.prototype, 'markFailed').mockRejectedValue(down as never);
        const started = Date.now();
        expect((await run(other.deliveryId)).error).toBe(down);
        expect(Date.now() - started).toBeLessThan(2_000);
      } finally {
        p.stopping = running;
      }
    });

    it('does not skip a sendable delivery that another job of it gave back a moment ago', async () => {
      // Found by the chaos suite: two jobs of one delivery (one re-added after a Redis flush).
      // This one's claim failed while the other held it; the other then gave it back (an
      // SMTP 421), and this one took the queued row for one that cannot be sent.
      const { deliveryId } = await queued('email');
      jest.spyOn(DeliveriesRepository.prototype, 'claim').mockResolvedValueOnce(undefined);
      const skipped = await deliveriesCounter('email', 'skipped');
      const r = await run(deliveryId);
      // It comes back when the reconciler would look: by then the other job has sent it.
      expectDelayed(r, JOB_CHECK_MS);
      expect(await row(deliveryId)).toMatchObject({ status: 'queued', error: null });
      expect(await deliveriesCounter('email', 'skipped')).toBe(skipped);
      expect((await run(deliveryId)).outcome).toBe('sent');
    });

    it('waits a lease when another instance is settling the delivery', async () => {
      const { deliveryId } = await queued('sms');
      await inFlight(deliveryId, -1_000);
      jest.spyOn(LeaseResolver.prototype, 'settle').mockResolvedValueOnce('busy');
      expectDelayed(await run(deliveryId), LEASE_MS);
      expect((await row(deliveryId)).status).toBe('sending');
    });

    it('names the reason it skips an SMS: the enrolment stopped, or no number to send to', async () => {
      const stopped = await queued('sms');
      await setEnrolment(stopped.enrollmentId, { status: 'cancelled' });
      expect((await run(stopped.deliveryId)).outcome).toBe('skipped');
      expect((await row(stopped.deliveryId)).error).toBe(
        'not sendable: opted out, suppressed or enrolment stopped',
      );
      const erased = await queued('email');
      const e = await enrolment(erased.enrollmentId);
      await tdb.db
        .updateTable('subscribers')
        .set({ email: null, phone: newPhone() })
        .where('id', '=', e.subscriber_id)
        .execute();
      expect((await run(erased.deliveryId)).outcome).toBe('skipped');
      expect((await row(erased.deliveryId)).error).toBe('no address for channel');
    });
  });

  describe('mutation guards: the lease resolver', () => {
    const twilioClient = () =>
      twilioSdk(twilio.accountSid, twilio.authToken, {
        httpClient: new TwilioRequestClient(new URL(twilio.url), 5_000),
      });
    const rendered = async (deliveryId: string) => {
      const d = (await repo().loadForSend(deliveryId))!;
      const built = await t
        .get(DeliveryMessages)
        .build(d, t.get(CampaignsService).get(d.campaignId)!);
      return built.channel === 'sms' ? built.message.body : '';
    };
    const settle = async (deliveryId: string) =>
      t.get(LeaseResolver).settle((await repo().loadForSend(deliveryId))!);

    it('feeds /metrics the number of unresolved deliveries', async () => {
      const { deliveryId } = await queued('sms');
      await repo().claim(deliveryId, LEASE_MS);
      await repo().noteUnresolved(deliveryId, 1, 'unresolved since then: provider log unreachable');
      const gauge = async () =>
        (
          await t
            .get(MetricsService)
            .registry.getSingleMetric('selfcare_deliveries_unresolved')!
            .get()
        ).values[0]?.value;
      expect(await gauge()).toBe(await repo().countUnresolved());
      expect(await gauge()).toBeGreaterThan(0);
      // The same wiring, seen from a resolver built here.
      const sources: Parameters<MetricsService['sources']>[0][] = [];
      const metrics = {
        sources: (s: (typeof sources)[0]) => void sources.push(s),
      } as unknown as MetricsService;
      const resolver = t.get(LeaseResolver) as unknown as Record<string, unknown>;
      new LeaseResolver(
        t.config,
        repo(),
        t.get(CampaignsService),
        t.get(DeliveryMessages),
        resolver.email as never,
        resolver.sms as never,
        clock,
        metrics,
      );
      expect(await sources[0]!.unresolved!()).toBe(await repo().countUnresolved());
    });

    it('leaves alone a delivery that is not in flight, and a lease that is live', async () => {
      const { deliveryId } = await queued('sms');
      expect(await settle(deliveryId)).toBe('busy');
      await inFlight(deliveryId, 1_000);
      expect(await settle(deliveryId)).toBe('busy');
      expect(await row(deliveryId)).toMatchObject({ status: 'sending', resolution: null });
    });

    it('records a message found in the log as sent, at the time the provider gives', async () => {
      const { deliveryId, address } = await queued('sms');
      await inFlight(deliveryId, -1_000);
      const msg = await twilioClient().messages.create({
        to: address,
        from: '+15005550006',
        body: await rendered(deliveryId),
      });
      const sentAt = new Date(clock.now().getTime() - 4_000);
      twilio.messages.find((m) => m.sid === msg.sid)!.createdAt = sentAt;
      const found = await resolutionsCounter('sms', 'found');
      const sent = await deliveriesCounter('sms', 'sent');
      const logs = captureLogs();
      expect(await settle(deliveryId)).toBe('sent');
      expect(await row(deliveryId)).toMatchObject({
        status: 'sent',
        provider_id: msg.sid,
        sent_at: new Date(Math.floor(sentAt.getTime() / 1000) * 1000), // Twilio's dates: seconds
        resolution: 'lease expired; found in the provider log, not sent again',
      });
      expect(await resolutionsCounter('sms', 'found')).toBe(found + 1);
      expect(await deliveriesCounter('sms', 'sent')).toBe(sent + 1);
      expect(
        logs.find((l) => l.message === 'unknown outcome settled: the provider had it')!.fields,
      ).toEqual({ deliveryId, channel: 'sms', step: 0, attempt: 1 });
    });

    it('without a claim time, looks two leases back', async () => {
      const { deliveryId, address } = await queued('sms');
      await inFlight(deliveryId, -1_000);
      await tdb.db
        .updateTable('deliveries')
        .set({ claimed_at: null })
        .where('id', '=', deliveryId)
        .execute();
      const msg = await twilioClient().messages.create({
        to: address,
        from: '+15005550006',
        body: await rendered(deliveryId),
      });
      twilio.messages.find((m) => m.sid === msg.sid)!.createdAt = new Date(
        clock.now().getTime() - 1.5 * LEASE_MS,
      );
      expect(await settle(deliveryId)).toBe('sent');
      expect((await row(deliveryId)).provider_id).toBe(msg.sid);
    });

    it('requeues an email it cannot look up, to go again with the same Message-ID', async () => {
      const { deliveryId } = await queued('email');
      await inFlight(deliveryId, 0);
      const resent = await resolutionsCounter('email', 'resent');
      const logs = captureLogs();
      expect(await settle(deliveryId)).toBe('requeued');
      expect(await row(deliveryId)).toMatchObject({
        status: 'queued',
        attempts: 1,
        check_at: after(JOB_CHECK_MS),
        resolution: 'lease expired; outcome unknown, sent again with the same Message-ID',
      });
      expect(await resolutionsCounter('email', 'resent')).toBe(resent + 1);
      expect(
        logs.find((l) => l.message === 'unknown outcome: resending with the same Message-ID')!
          .fields,
      ).toEqual({ deliveryId, channel: 'email', step: 0, attempt: 1 });
    });

    it('fails a lease whose campaign step is gone', async () => {
      const { deliveryId } = await queued('sms', { step: 42 });
      await inFlight(deliveryId, -1_000);
      expect(await settle(deliveryId)).toBe('failed');
      expect(await row(deliveryId)).toMatchObject({
        status: 'failed',
        error: 'campaign step no longer exists',
      });
    });

    it('names a lookup failure that is not the provider answering', async () => {
      const { deliveryId } = await queued('sms');
      await inFlight(deliveryId, -1_000);
      jest
        .spyOn(t.get(SmsChannel), 'lookup')
        .mockRejectedValueOnce(new Error('socket hang up') as never);
      expect(await settle(deliveryId)).toBe('unresolved');
      expect((await row(deliveryId)).resolution).toMatch(
        /^unresolved since .*: provider log unreachable \(lookup failed\); asked again every lease$/,
      );
    });
  });

  describe('mutation guards: the scheduler', () => {
    const scheduler = () => t.get(SchedulerService);
    /** Nothing else due: earlier tests' enrolments are not due, and nothing else is in flight. */
    const settleEverything = async () => {
      await tdb.db
        .updateTable('enrollments')
        .set({ next_send_at: null })
        .where('next_send_at', 'is not', null)
        .execute();
      await tdb.db
        .updateTable('deliveries')
        .set({ status: 'skipped', check_at: null })
        .where('status', 'in', ['queued', 'sending'])
        .execute();
    };
    const enrolDue = async (
      over: { channel?: Channel; timezone?: string; sendTime?: string; campaign?: string } = {},
    ) => {
      const channel = over.channel ?? 'email';
      const e = await t.get(EnrollmentsService).enroll(
        {
          campaign: over.campaign ?? 'upper-back-relief',
          channel,
          ...(channel === 'email' ? { email: newEmail() } : { phone: newPhone() }),
          timezone: over.timezone ?? 'America/New_York',
          sendTime: over.sendTime ?? '08:00',
        },
        'test',
      );
      return e.id;
    };

    it('claims in batches until one comes back short, and counts what it did', async () => {
      await settleEverything();
      for (let i = 0; i < 5; i++) await enrolDue();
      const logs = captureLogs();
      // Batches of two: 2, 2, 1.
      expect(await scheduler().runPass()).toEqual({ ran: true, claimed: 5, enqueued: 5 });
      expect(logs.filter((l) => l.message === 'scheduler pass').map((l) => l.fields)).toEqual([
        { ran: true, claimed: 5, enqueued: 5 },
      ]);
      // A pass with nothing to do says nothing.
      expect(await scheduler().runPass()).toEqual({ ran: true, claimed: 0, enqueued: 0 });
      expect(logs.filter((l) => l.message === 'scheduler pass')).toHaveLength(1);
    });

    it('reads no further once a batch comes back short', async () => {
      await settleEverything();
      for (let i = 0; i < 3; i++) await enrolDue();
      const claims = jest.spyOn(t.get(EnrollmentsRepository), 'claimDue');
      // Batches of two: 2, then 1 (short), and no third read.
      expect(await scheduler().runPass()).toEqual({ ran: true, claimed: 3, enqueued: 3 });
      expect(claims).toHaveBeenCalledTimes(2);
    });

    it('does nothing, and says it did not run, while another instance holds the pass lock', async () => {
      await settleEverything();
      await enrolDue();
      const claims = jest.spyOn(t.get(EnrollmentsRepository), 'claimDue');
      const holder = new pg.Client({ connectionString: tdb.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1)', [SCHEDULER_LOCK]);
        expect(await scheduler().runPass()).toEqual({ ran: false, claimed: 0, enqueued: 0 });
        expect(claims).not.toHaveBeenCalled();
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
      expect(await scheduler().runPass()).toEqual({ ran: true, claimed: 1, enqueued: 1 });
    });

    it('stops a pass after 50 batches, says more is due, and leaves the rest to the next one', async () => {
      await settleEverything();
      const people = await tdb.db
        .insertInto('subscribers')
        .values(Array.from({ length: 101 }, () => ({ email: newEmail() })))
        .returning('id')
        .execute();
      await tdb.db
        .insertInto('enrollments')
        .values(
          people.map((p) => ({
            subscriber_id: p.id,
            campaign_id: 'upper-back-relief',
            channel: 'email' as const,
            timezone: 'UTC',
            send_time: '08:00',
            status: 'active' as const,
            step: 0,
            source: 'test',
            next_send_at: clock.now(),
          })),
        )
        .execute();
      // 50 batches of 2: the loop starts the next pass at once (scheduler.loop.spec.ts).
      expect(await scheduler().runPass()).toMatchObject({ claimed: 100, more: true });
      const last = await scheduler().runPass();
      expect(last).toMatchObject({ claimed: 1 });
      expect(last.more).toBeUndefined();
    });

    it('works out daily next-send times per zone, time and channel, even within one batch', async () => {
      await settleEverything();
      const ids = [
        await enrolDue({ timezone: 'Europe/London', sendTime: '18:30' }),
        await enrolDue({ timezone: 'America/New_York', sendTime: '07:00', channel: 'email' }),
        await enrolDue({ timezone: 'America/New_York', sendTime: '07:00', channel: 'sms' }),
      ];
      await scheduler().runPass();
      const campaign = t.get(CampaignsService).get('upper-back-relief')!;
      for (const id of ids) {
        const e = await enrolment(id);
        expect(e.step).toBe(1);
        expect(e.next_send_at).toEqual(
          followingSendAt(clock.now(), scheduleContextOf(e, campaign)),
        );
      }
      const [london, nyEmail, nySms] = await Promise.all(ids.map(enrolment));
      expect(london!.next_send_at!.toISOString()).toBe('2030-06-04T17:30:00.000Z');
      expect(nyEmail!.next_send_at!.toISOString()).toBe('2030-06-04T11:00:00.000Z');
      expect(nySms!.next_send_at!.toISOString()).toBe('2030-06-04T12:00:00.000Z'); // 08:00
    });

    it('keeps an interval rhythm from the planned time, and catches up from now when behind', async () => {
      await settleEverything();
      const planned = clock.now().getTime();
      const id = await enrolDue({ campaign: 'upper-back-relief-demo' });
      const sentAll = () =>
        tdb.db
          .updateTable('deliveries')
          .set({ status: 'sent' })
          .where('enrollment_id', '=', id)
          .where('status', '=', 'queued')
          .execute();
      clock.advance(3_000); // a slow pass: the rhythm stays on the planned time
      await scheduler().runPass();
      expect((await enrolment(id)).next_send_at).toEqual(new Date(planned + 10_000));
      await sentAll();
      // Exactly when the step after would be due: no instant may be planned in the past.
      clock.set(new Date(planned + 20_000));
      await scheduler().runPass();
      expect((await enrolment(id)).next_send_at).toEqual(new Date(planned + 30_000));
      expect((await deliveriesOf(tdb.db, id)).map((d) => d.step)).toEqual([0, 1]);
    });

    it('does not queue the next step while the previous one is still being sent', async () => {
      await settleEverything();
      const id = await enrolDue({ campaign: 'upper-back-relief-demo' });
      await scheduler().runPass();
      const [d] = await deliveriesOf(tdb.db, id);
      await tdb.db
        .updateTable('deliveries')
        .set({ status: 'sending' })
        .where('id', '=', d!.id)
        .execute();
      clock.advance(60_000);
      expect((await scheduler().runPass()).claimed).toBe(0);
      expect(await deliveriesOf(tdb.db, id)).toHaveLength(1);
    });

    it('does not queue the next step while the previous one is still waiting in the queue', async () => {
      await settleEverything();
      const id = await enrolDue({ campaign: 'upper-back-relief-demo' });
      await scheduler().runPass();
      // Its welcome is still queued (a worker down, quiet hours) when the next step falls due.
      clock.advance(60_000);
      expect((await scheduler().runPass()).claimed).toBe(0);
      expect((await deliveriesOf(tdb.db, id)).map((d) => d.status)).toEqual(['queued']);
    });

    it('completes an enrolment with its last step, and cancels one whose campaign is gone', async () => {
      await settleEverything();
      const last = await enrolDue();
      const retired = await enrolDue();
      const keys = t
        .get(CampaignsService)
        .get('upper-back-relief')!
        .steps.map((s) => s.key);
      // Six steps had, the seventh waited on.
      await setEnrolment(last, { step: 6, step_key: 'wrap-up' });
      await repo().insertQueued(
        tdb.db,
        keys.slice(0, 6).map((key, step) => ({
          enrollment_id: last,
          step,
          step_key: key,
          channel: 'email' as const,
        })),
      );
      await tdb.db
        .updateTable('deliveries')
        .set({ status: 'sent', check_at: null })
        .where('enrollment_id', '=', last)
        .execute();
      await setEnrolment(retired, { campaign_id: 'retired-campaign' });
      const logs = captureLogs();
      expect(await scheduler().runPass()).toMatchObject({ claimed: 2, enqueued: 1 });
      // The operator is told, once, which enrolment and which campaign.
      expect(logs.filter((l) => l.level === 'error')).toEqual([
        {
          level: 'error',
          fields: { enrollmentId: retired, campaign: 'retired-campaign' },
          message: 'campaign not found; enrolment cancelled',
        },
      ]);
      expect(await enrolment(last)).toMatchObject({
        status: 'completed',
        step: 7,
        step_key: null,
        next_send_at: null,
      });
      expect((await deliveriesOf(tdb.db, last)).map((d) => d.step_key)).toEqual(keys);
      expect(await enrolment(retired)).toMatchObject({ status: 'cancelled', next_send_at: null });
      expect(await deliveriesOf(tdb.db, retired)).toEqual([]);
    });

    it('sends by key: the step waited on, then the first not had; a gone key gives way', async () => {
      await settleEverything();
      const waiting = await enrolDue();
      const gone = await enrolDue();
      const done = await enrolDue();
      const legacy = await enrolDue();
      const keys = t
        .get(CampaignsService)
        .get('upper-back-relief')!
        .steps.map((s) => s.key);
      const had = async (id: string, some: string[]) => {
        await repo().insertQueued(
          tdb.db,
          some.map((key, step) => ({
            enrollment_id: id,
            step,
            step_key: key,
            channel: 'email' as const,
          })),
        );
        await tdb.db
          .updateTable('deliveries')
          .set({ status: 'sent', check_at: null })
          .where('enrollment_id', '=', id)
          .execute();
      };
      // Had the welcome and the heat step; waits on massage, out of the campaign's order.
      await had(waiting, ['welcome', 'heat']);
      await setEnrolment(waiting, { step: 2, step_key: 'massage' });
      await had(gone, ['welcome']);
      await setEnrolment(gone, { step: 1, step_key: 'no-such-step' });
      await had(done, keys);
      await setEnrolment(done, { step: 7, step_key: null });
      // A row from before step keys: no key stored, so nothing is gone and nothing to report.
      await had(legacy, ['welcome']);
      await setEnrolment(legacy, { step: 1, step_key: null });
      const logs = captureLogs();
      expect(await scheduler().runPass()).toMatchObject({ claimed: 4, enqueued: 3 });
      // Only the one whose step is gone is reported, naming both steps.
      expect(logs.filter((l) => l.level === 'warn')).toEqual([
        {
          level: 'warn',
          fields: {
            enrollmentId: gone,
            campaign: 'upper-back-relief',
            waitingOn: 'no-such-step',
            sending: keys[1],
          },
          message: 'the step this enrolment waited on is gone; sending the next one it has not had',
        },
      ]);
      const sent = async (id: string) => (await deliveriesOf(tdb.db, id)).map((d) => d.step_key);
      expect(await sent(waiting)).toEqual(['welcome', 'heat', 'massage']);
      expect(await enrolment(waiting)).toMatchObject({
        status: 'active',
        step: 3,
        step_key: keys.find((k) => !['welcome', 'heat', 'massage'].includes(k)),
      });
      expect((await deliveriesOf(tdb.db, waiting))[2]!.step).toBe(2);
      expect(await sent(gone)).toEqual(['welcome', keys[1]]);
      expect(await enrolment(gone)).toMatchObject({ status: 'active', step: 2, step_key: keys[2] });
      expect(await sent(legacy)).toEqual(['welcome', keys[1]]);
      expect(await sent(done)).toEqual(keys);
      expect(await enrolment(done)).toMatchObject({
        status: 'completed',
        step: 7,
        step_key: null,
        next_send_at: null,
      });
    });

    it('a sweep answers how many lost jobs it added again', async () => {
      await settleEverything();
      const { deliveryId } = await queued('email');
      await tdb.db
        .updateTable('deliveries')
        .set({ check_at: new Date(clock.now().getTime() - 1_000) })
        .where('id', '=', deliveryId)
        .execute();
      expect(await scheduler().sweep()).toBe(1);
      expect(await scheduler().sweep()).toBe(0);
    });

    it('housekeeping resumes pauses that are over and deletes signups never confirmed', async () => {
      await settleEverything();
      const paused = await enrolDue();
      await t.get(EnrollmentsService).pause(paused, after(60_000));
      const s = await tdb.db
        .insertInto('subscribers')
        .values({ email: newEmail() })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tdb.db
        .insertInto('enrollments')
        .values({
          subscriber_id: s.id,
          campaign_id: 'upper-back-relief',
          channel: 'email',
          timezone: 'UTC',
          send_time: '08:00',
          status: 'pending',
          step: 0,
          source: 'signup',
          created_at: new Date(clock.now().getTime() - 5 * 86_400_000),
        })
        .execute();
      expect(await scheduler().housekeeping()).toEqual({
        resumed: 0,
        expired: 1,
        forgotten: 0,
        told: 0,
        purged: {
          inboundMessages: 0,
          painScores: 0,
          deliveries: 0,
          deliveryErrors: 0,
          webhookLog: 0,
        },
      });
      clock.advance(120_000);
      expect(await scheduler().housekeeping()).toEqual({
        resumed: 1,
        expired: 0,
        forgotten: 0,
        told: 0,
        purged: {
          inboundMessages: 0,
          painScores: 0,
          deliveries: 0,
          deliveryErrors: 0,
          webhookLog: 0,
        },
      });
      expect((await enrolment(paused)).status).toBe('active');
    });
  });

  describe('mutation guards: the reconciler', () => {
    const reconciler = () => t.get(Reconciler);
    const queue = (name: QueueName) => t.get(QueuesService).queue(name);
    const isolate = () =>
      tdb.db
        .updateTable('deliveries')
        .set({ status: 'skipped', check_at: null })
        .where('status', 'in', ['queued', 'sending'])
        .execute();

    it('re-adds lost jobs per channel, settles expired leases, and counts each kind', async () => {
      await isolate();
      const lostEmail = await queued('email');
      const lostSms = await queued('sms');
      const fine = await queued('email');
      await t
        .get(QueuesService)
        .enqueueDeliveries([{ id: fine.deliveryId, channel: 'email', clinicId: null }]);
      const requeued = await queued('email');
      await inFlight(requeued.deliveryId, 0);
      const gone = await queued('sms', { step: 42 });
      await inFlight(gone.deliveryId, 0);
      const emailReadded = await counter('selfcare_jobs_reenqueued_total', { channel: 'email' });
      const smsReadded = await counter('selfcare_jobs_reenqueued_total', { channel: 'sms' });
      clock.advance(JOB_CHECK_MS);
      const logs = captureLogs();

      const result = await reconciler().run();
      expect(result).toEqual({
        reenqueued: 2,
        checked: 1,
        settled: { sent: 0, requeued: 1, unresolved: 0, failed: 1 },
      });
      expect(await counter('selfcare_jobs_reenqueued_total', { channel: 'email' })).toBe(
        emailReadded + 1,
      );
      expect(await counter('selfcare_jobs_reenqueued_total', { channel: 'sms' })).toBe(
        smsReadded + 1,
      );
      expect(await queue(QueueName.Email).getJobState(lostEmail.deliveryId)).toBe('waiting');
      expect(await queue(QueueName.Sms).getJobState(lostSms.deliveryId)).toBe('waiting');
      expect(await queue(QueueName.Email).getJobState(requeued.deliveryId)).toBe('waiting');
      // Only what was requeued gets a job: a failed lease needs none, and nothing else does.
      expect(await queue(QueueName.Sms).getJobState(gone.deliveryId)).toBe('unknown');
      // A re-added job is as the scheduler adds one: the delivery id as job id, the clinic
      // as data, and no options written into it (the worker holds retries and keep settings).
      for (const name of [QueueName.Email, QueueName.Sms])
        for (const job of await queue(name).getJobs(['waiting', 'delayed'])) {
          expect(await row(job.id!)).toBeDefined();
          expect(job.data).toEqual({ clinicId: null });
          expect(job.opts.attempts).toBe(0);
          expect(job.opts.backoff).toBeUndefined();
        }
      // What it looked at goes to the back of the line, one job-check later.
      for (const d of [lostEmail, lostSms, fine])
        expect((await row(d.deliveryId)).check_at).toEqual(after(JOB_CHECK_MS));
      expect(logs.find((l) => l.message === 'reconciled open deliveries')!.fields).toEqual(result);

      // Nothing more is due: a quiet run logs nothing.
      const quiet = captureLogs();
      expect(await reconciler().run()).toEqual({
        reenqueued: 0,
        checked: 0,
        settled: { sent: 0, requeued: 0, unresolved: 0, failed: 0 },
      });
      expect(quiet.some((l) => l.message === 'reconciled open deliveries')).toBe(false);
    });

    it('leaves a lease that another instance is settling, without counting it', async () => {
      await isolate();
      const { deliveryId } = await queued('sms');
      await inFlight(deliveryId, 0);
      jest.spyOn(DeliveriesRepository.prototype, 'takeExpiredLease').mockResolvedValueOnce(false);
      expect(await reconciler().run()).toEqual({
        reenqueued: 0,
        checked: 0,
        settled: { sent: 0, requeued: 0, unresolved: 0, failed: 0 },
      });
      expect((await row(deliveryId)).status).toBe('sending');
      // Gone between the query and the load (a pause withdrew it): nothing to settle.
      jest.spyOn(DeliveriesRepository.prototype, 'loadForSend').mockResolvedValueOnce(undefined);
      expect((await reconciler().run()).settled).toEqual({
        sent: 0,
        requeued: 0,
        unresolved: 0,
        failed: 0,
      });
    });

    it('logs every run that settled anything, whatever it was', async () => {
      await isolate();
      const logged = async (expected: Partial<Record<string, number>>) => {
        const logs = captureLogs();
        const result = await reconciler().run();
        expect(result.settled).toMatchObject(expected);
        expect(logs.filter((l) => l.message === 'reconciled open deliveries')).toHaveLength(1);
      };
      const failed = await queued('sms', { step: 42 });
      await inFlight(failed.deliveryId, 0);
      await logged({ failed: 1 });
      const requeued = await queued('email');
      await inFlight(requeued.deliveryId, 0);
      await logged({ requeued: 1 });
      const unresolved = await queued('sms');
      await inFlight(unresolved.deliveryId, 0);
      twilio.failList(true);
      await logged({ unresolved: 1 });
      twilio.failList(false);
      const found = await queued('sms');
      await inFlight(found.deliveryId, 0);
      const d = (await repo().loadForSend(found.deliveryId))!;
      const built = await t
        .get(DeliveryMessages)
        .build(d, t.get(CampaignsService).get(d.campaignId)!);
      const msg = await twilioSdk(twilio.accountSid, twilio.authToken, {
        httpClient: new TwilioRequestClient(new URL(twilio.url), 5_000),
      }).messages.create({
        to: found.address,
        from: '+15005550006',
        body: built.channel === 'sms' ? built.message.body : '',
      });
      twilio.messages.find((m) => m.sid === msg.sid)!.createdAt = clock.now();
      await logged({ sent: 1 });
    });

    it('reads at most maxBatches batches a run', async () => {
      await isolate();
      for (let i = 0; i < 5; i++) await queued('email');
      clock.advance(JOB_CHECK_MS);
      const r = reconciler();
      r.batchSize = 2;
      r.maxBatches = 2;
      try {
        expect((await r.run()).reenqueued).toBe(4);
        expect((await r.run()).reenqueued).toBe(1);
      } finally {
        r.batchSize = 500;
        r.maxBatches = 20;
      }
    });
  });

  describe('mutation guards: the delivery repository', () => {
    it('keeps at most 500 characters of an error or a resolution', async () => {
      const { deliveryId } = await queued('email');
      await repo().claim(deliveryId, LEASE_MS);
      await repo().noteUnresolved(deliveryId, 1, 'r'.repeat(800));
      expect((await row(deliveryId)).resolution).toBe('r'.repeat(500));
      await repo().markFailed(deliveryId, 'e'.repeat(800), 1);
      expect((await row(deliveryId)).error).toBe('e'.repeat(500));
    });

    it('keeps the error of an earlier try when a claim is given back', async () => {
      const { deliveryId } = await queued('email');
      await repo().claim(deliveryId, LEASE_MS);
      await repo().markRetrying(deliveryId, 1, 'SMTP 451 at RCPT TO', after(1_000));
      await repo().claim(deliveryId, LEASE_MS);
      expect(await repo().release(deliveryId, 2, after(1_000))).toBe(true);
      expect(await row(deliveryId)).toMatchObject({
        status: 'queued',
        attempts: 1,
        error: 'SMTP 451 at RCPT TO',
      });
    });

    it('keeps a resolution already noted when the send is recorded without one', async () => {
      const { deliveryId } = await queued('email');
      await repo().claim(deliveryId, LEASE_MS);
      await repo().noteUnresolved(deliveryId, 1, 'outcome unknown (SMTP ETIMEDOUT)');
      await repo().markSent(deliveryId, 1, 'P-1');
      expect((await row(deliveryId)).resolution).toBe('outcome unknown (SMTP ETIMEDOUT)');
    });

    it('does nothing, and asks nothing of the database, for an empty list', async () => {
      const spy = jest.spyOn(tdb.db, 'insertInto');
      expect(await repo().insertQueued(tdb.db, [])).toEqual([]);
      expect(spy).not.toHaveBeenCalled();
      await expect(repo().pushBack([], after(1_000))).resolves.toBeUndefined();
    });

    it('counts only deliveries in flight whose outcome is unresolved', async () => {
      const before = await repo().countUnresolved();
      const { deliveryId } = await queued('email');
      await repo().claim(deliveryId, LEASE_MS);
      await repo().noteUnresolved(deliveryId, 1, 'outcome unknown (SMTP ETIMEDOUT)');
      expect(await repo().countUnresolved()).toBe(before);
      await repo().noteUnresolved(deliveryId, 1, 'unresolved since then');
      expect(await repo().countUnresolved()).toBe(before + 1);
      const { rows } = await sql<{
        n: string;
      }>`SELECT count(*) AS n FROM deliveries WHERE resolution LIKE 'unresolved%'`.execute(tdb.db);
      expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(before + 1);
    });
  });
});
