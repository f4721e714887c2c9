import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../src/common/clock.js';
import twilioSdk from 'twilio';
import { CampaignsService } from '../src/campaigns/index.js';
import {
  DeliveriesRepository,
  DeliveryMessages,
  QueueName,
  QueuesService,
} from '../src/delivery/index.js';
import { TwilioRequestClient } from '../src/channels/twilio-sms.channel.js';
import { EnrollmentsService } from '../src/enrollments/index.js';
import { Reconciler, SchedulerService } from '../src/scheduler/index.js';
import request from 'supertest';
import { SubscribersRepository } from '../src/subscribers/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { deliveriesOf } from './support/journey.js';
import { waitFor } from './support/wait.js';

/**
 * The worker re-checks everything at send time. Each test queues work with an API-only
 * instance (no workers), changes the world, then starts a worker and watches what it does.
 * Dates lie in the future so BullMQ's real-time delays agree with the manual clock.
 */
describe('checks the worker makes just before sending', () => {
  let tdb: TestDatabase;
  let twilio: FakeTwilio;
  let api: TestApp;
  let worker: TestApp | undefined;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-06-01T16:00:00Z')); // 12:00 in New York
  let env: Record<string, string>;
  let phoneSeq = 4300;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    twilio = await startFakeTwilio();
    env = {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_URL: twilio.url,
    };
    api = await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ...env, ROLE: 'api' } });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });
  afterAll(async () => {
    await api.close();
    await twilio.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  const startWorker = async () => {
    listed = twilio.listRequests;
    worker = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: { ...env, ROLE: 'worker' },
    });
  };
  const enrolSms = async (campaign = 'upper-back-relief') => {
    const phone = `+1213373${phoneSeq++}`;
    const e = await api
      .get(EnrollmentsService)
      .enroll(
        { campaign, channel: 'sms', phone, timezone: 'America/New_York', sendTime: '08:00' },
        'test',
      );
    return { id: e.id, phone };
  };
  const firstDelivery = async (id: string) => (await deliveriesOf(tdb.db, id))[0];
  let listed = 0;
  const listedBefore = () => listed;
  const twilioClient = (fake: FakeTwilio) =>
    twilioSdk(fake.accountSid, fake.authToken, {
      httpClient: new TwilioRequestClient(new URL(fake.url), 5_000),
    });

  it('skips a queued message when STOP (a suppression) lands after it was queued', async () => {
    const { id, phone } = await enrolSms();
    expect((await api.get(SchedulerService).runPass()).enqueued).toBe(1);
    await api.get(SubscribersRepository).suppress(phone, 'sms', 'STOP');
    await startWorker();
    const d = await waitFor(
      async () => ((await firstDelivery(id))?.status === 'skipped' ? firstDelivery(id) : null),
      'the delivery to be skipped',
    );
    expect(d!.error).toMatch(/opted out|suppressed/);
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
  });

  it('withdraws queued messages on pause, keeps the step, and sends it once after resume', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    const before = await firstDelivery(id);
    const paused = await api.get(EnrollmentsService).pause(id);
    expect(paused).toMatchObject({ status: 'paused', step: 0 });
    expect(await deliveriesOf(tdb.db, id)).toHaveLength(0);

    await api.get(EnrollmentsService).resume(id);
    await api.get(SchedulerService).runPass();
    await startWorker();
    const after = await waitFor(
      async () => ((await firstDelivery(id))?.status === 'sent' ? firstDelivery(id) : null),
      'the resumed welcome',
    );
    expect(after!.id).not.toBe(before!.id);
    // The job queued before the pause found no delivery and sent nothing.
    await waitFor(
      async () =>
        (await api.get(QueuesService).queue(QueueName.Sms).getJob(before!.id)) === undefined,
      'the old job to finish',
    );
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it('holds an SMS that reaches the worker after 21:00 local until 08:00', async () => {
    clock.set('2030-06-02T00:59:50Z'); // 20:59:50 in New York
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    clock.set('2030-06-02T01:00:30Z'); // 21:00:30: the queue was slow
    await startWorker();
    const d = (await firstDelivery(id))!;
    const queue = api.get(QueuesService).queue(QueueName.Sms);
    await waitFor(
      async () => (await (await queue.getJob(d.id))?.getState()) === 'delayed',
      'the job to be delayed',
    );
    const job = await queue.getJob(d.id);
    // Held until 08:00 EDT: 10 h 59 min 30 s from 21:00:30 (BullMQ counts the hold as a delay).
    expect(Math.abs(job!.delay - (11 * 3600_000 - 30_000))).toBeLessThan(1000);
    expect((await firstDelivery(id))!.status).toBe('queued');
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
    clock.set('2030-06-01T16:00:00Z');
    await queue.remove(d.id);
  });

  /** Makes the first delivery look like an attempt that died mid-send `ago` ms ago. */
  const diedMidSend = async (id: string, leaseEndsIn: number) => {
    const d = (await firstDelivery(id))!;
    const now = clock.now().getTime();
    await tdb.db
      .updateTable('deliveries')
      .set({
        status: 'sending',
        attempts: 1,
        claimed_at: new Date(now - 5_000),
        check_at: new Date(now + leaseEndsIn),
      })
      .where('id', '=', d.id)
      .execute();
    return d;
  };
  const renderedSms = async (deliveryId: string) => {
    const d = (await api.get(DeliveriesRepository).loadForSend(deliveryId))!;
    const campaign = api.get(CampaignsService).get(d.campaignId)!;
    const built = await api.get(DeliveryMessages).build(d, campaign);
    return built.channel === 'sms' ? built.message.body : '';
  };

  it('does not resend a message whose attempt died after Twilio took it: the log says it went', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    const d = await diedMidSend(id, -1_000);
    // What the dead worker had sent: Twilio's log holds it.
    const client = twilioClient(twilio);
    const earlier = await client.messages.create({
      to: phone,
      from: '+15005550006',
      body: await renderedSms(d.id),
    });
    // Twilio's clock agrees with ours (this test's clock runs in 2030).
    twilio.messages.find((m) => m.sid === earlier.sid)!.createdAt = new Date(
      clock.now().getTime() - 4_000,
    );
    await startWorker();
    const sent = await waitFor(
      async () => ((await firstDelivery(id))?.status === 'sent' ? firstDelivery(id) : null),
      'the interrupted delivery to be settled',
    );
    expect(sent).toMatchObject({
      provider_id: earlier.sid,
      attempts: 1,
      resolution: 'lease expired; found in the provider log, not sent again',
    });
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it('sends once a message whose attempt died before Twilio took it', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    await diedMidSend(id, -1_000);
    await startWorker();
    const sent = await waitFor(
      async () => ((await firstDelivery(id))?.status === 'sent' ? firstDelivery(id) : null),
      'the interrupted delivery to be sent',
    );
    expect(sent).toMatchObject({
      attempts: 2,
      resolution: 'lease expired; not in the provider log, sent again',
    });
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it("keeps an unknown outcome unresolved while Twilio's log cannot be read, and says so", async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    const d = await diedMidSend(id, -1_000);
    twilio.failList(true);
    try {
      await api.get(QueuesService).queue(QueueName.Sms).remove(d.id); // the reconciler's case
      const result = await api.get(Reconciler).run();
      expect(result.settled.unresolved).toBeGreaterThanOrEqual(1);
      const row = (await firstDelivery(id))!;
      expect(row.status).toBe('sending'); // not guessed either way
      expect(row.resolution).toMatch(/^unresolved since .*: provider log unreachable \(Twilio 500/);
      const metrics = await request(api.app.getHttpServer()).get('/metrics');
      expect(metrics.text).toMatch(/^selfcare_deliveries_unresolved [1-9]/m);
      expect(metrics.text).toMatch(
        /selfcare_delivery_resolutions_total\{channel="sms",outcome="unresolved"\} [1-9]/,
      );
      expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
    } finally {
      twilio.failList(false);
    }
    // The log answers again: the next look after the lease settles it.
    clock.advance(61_000);
    await api.get(Reconciler).run();
    expect((await firstDelivery(id))!).toMatchObject({
      status: 'queued',
      resolution: 'lease expired; not in the provider log, sent again',
    });
    await api.get(EnrollmentsService).cancel(id);
    clock.set('2030-06-01T16:00:00Z');
  });

  it('gives up on an outcome that stayed unknown too long: failed, never resent', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    const d = await diedMidSend(id, -1_000);
    await tdb.db
      .updateTable('deliveries')
      .set({ claimed_at: new Date(clock.now().getTime() - 25 * 3600_000) })
      .where('id', '=', d.id)
      .execute();
    twilio.failList(true);
    try {
      await api.get(QueuesService).queue(QueueName.Sms).remove(d.id);
      expect((await api.get(Reconciler).run()).settled.failed).toBe(1);
    } finally {
      twilio.failList(false);
    }
    const row = (await firstDelivery(id))!;
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/^outcome unknown: the provider log could not be read/);
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
  });

  it('leaves a live lease alone: another worker may still be sending', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    const d = await diedMidSend(id, 60_000);
    await startWorker();
    const queue = api.get(QueuesService).queue(QueueName.Sms);
    await waitFor(
      async () => (await (await queue.getJob(d.id))?.getState()) === 'delayed',
      'the job to wait for the lease',
    );
    expect((await firstDelivery(id))!.status).toBe('sending');
    expect(twilio.listRequests).toBe(listedBefore());
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
    await queue.remove(d.id);
  });

  it.each(['cancelled', 'paused', 'pending'] as const)(
    'does not send when the enrolment turned %s after the delivery was queued',
    async (status) => {
      const { id, phone } = await enrolSms();
      await api.get(SchedulerService).runPass();
      // As if the change landed between the queueing and the claim (a race the claim must win).
      await tdb.db.updateTable('enrollments').set({ status }).where('id', '=', id).execute();
      await startWorker();
      const d = await waitFor(
        async () => ((await firstDelivery(id))?.status === 'skipped' ? firstDelivery(id) : null),
        'the delivery to be skipped',
      );
      expect(d!.error).toMatch(/enrolment stopped/);
      expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
    },
  );

  it('still sends the last step of an enrolment that is already completed', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    await tdb.db
      .updateTable('enrollments')
      .set({ status: 'completed' })
      .where('id', '=', id)
      .execute();
    await startWorker();
    await waitFor(async () => (await firstDelivery(id))?.status === 'sent', 'the last step to go');
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it('skips a delivery whose person no longer has an address on its channel', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    const e = await tdb.db
      .selectFrom('enrollments')
      .select('subscriber_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    await tdb.db
      .updateTable('subscribers')
      .set({ email: `moved-${id}@example.com`, phone: null })
      .where('id', '=', e.subscriber_id)
      .execute();
    await startWorker();
    const d = await waitFor(
      async () => ((await firstDelivery(id))?.status === 'skipped' ? firstDelivery(id) : null),
      'the delivery to be skipped',
    );
    expect(d!.error).toBe('no address for channel');
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
  });

  it('skips what is queued when the enrolment is cancelled through the service', async () => {
    const { id, phone } = await enrolSms();
    await api.get(SchedulerService).runPass();
    await api.get(EnrollmentsService).cancel(id);
    const d = await firstDelivery(id);
    expect(d).toMatchObject({ status: 'skipped', error: 'cancelled: operator' });
    await startWorker();
    await waitFor(
      async () => (await api.get(QueuesService).queue(QueueName.Sms).getJob(d!.id)) === undefined,
      'the job to finish',
    );
    expect((await firstDelivery(id))!.status).toBe('skipped');
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(0);
  });

  it('queues the next step only after the previous one has left, so a backlog stays in order', async () => {
    const { id, phone } = await enrolSms('upper-back-relief-demo');
    const scheduler = api.get(SchedulerService);
    expect((await scheduler.runPass()).enqueued).toBe(1);
    clock.advance(60_000); // step 2 is due, but step 1 has not been sent yet
    await scheduler.runPass();
    expect((await deliveriesOf(tdb.db, id)).map((d) => d.step)).toEqual([0]);
    await startWorker();
    await waitFor(async () => (await firstDelivery(id))?.status === 'sent', 'step 1 to be sent');
    await scheduler.runPass();
    await waitFor(
      async () => (await deliveriesOf(tdb.db, id))[1]?.status === 'sent',
      'step 2 to be sent',
    );
    expect(twilio.messages.filter((m) => m.to === phone)).toHaveLength(2);
    await api.get(EnrollmentsService).cancel(id);
    clock.set('2030-06-01T16:00:00Z');
  });

  it('refuses to enrol an address that opted out', async () => {
    await api.get(SubscribersRepository).suppress('+12133739999', 'sms', 'STOP');
    await expect(
      api.get(EnrollmentsService).enroll(
        {
          campaign: 'upper-back-relief',
          channel: 'sms',
          phone: '+12133739999',
          timezone: 'UTC',
          sendTime: '08:00',
        },
        'test',
      ),
    ).rejects.toThrow(/opted out/);
  });
});
