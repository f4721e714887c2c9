import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ManualClock } from '../src/common/clock.js';
import { QueueName, QueuesService } from '../src/delivery/index.js';
import { EnrollmentsService } from '../src/enrollments/index.js';
import { Reconciler, SchedulerService } from '../src/scheduler/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { deliveriesOf } from './support/journey.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { REDIS_URL } from './support/env.js';
import { waitFor } from './support/wait.js';

/**
 * The reconciler (scheduler role) over every open state. An API-only instance queues the
 * work and runs the reconciler by hand; a worker instance is started only where a test wants
 * the work sent.
 */
describe('the reconciler', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let api: TestApp;
  let worker: TestApp | undefined;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
  let seq = 0;
  const env = () => ({ SMTP_URL: smtp.url, JOB_CHECK_MS: '60000', DELIVERY_LEASE_MS: '60000' });

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    api = await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ...env(), ROLE: 'api' } });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await smtp?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const queue = () => api.get(QueuesService).queue(QueueName.Email);
  /** Enrols someone and queues their welcome (a delivery row and its job). */
  const queuedWelcome = async () => {
    const e = await api.get(EnrollmentsService).enroll(
      {
        campaign: 'upper-back-relief',
        channel: 'email',
        email: `r${seq++}@example.com`,
        timezone: 'UTC',
        sendTime: '08:00',
      },
      'test',
    );
    await api.get(SchedulerService).runPass();
    const [d] = await deliveriesOf(tdb.db, e.id);
    return { enrollmentId: e.id, delivery: d! };
  };

  it('re-adds the job of a queued delivery whose job was lost, and only that one', async () => {
    const lost = await queuedWelcome();
    const fine = await queuedWelcome();
    await queue().remove(lost.delivery.id); // as a Redis wipe would
    expect(await queue().getJobState(lost.delivery.id)).toBe('unknown');
    // Nothing is due a check before JOB_CHECK_MS has passed.
    expect((await api.get(Reconciler).run()).reenqueued).toBe(0);
    clock.advance(61_000);
    const result = await api.get(Reconciler).run();
    expect(result).toMatchObject({ reenqueued: 1, checked: 1 });
    expect(await queue().getJobState(lost.delivery.id)).toBe('waiting');
    // Both were pushed to the back of the line: the next run has nothing to do.
    expect(await api.get(Reconciler).run()).toMatchObject({ reenqueued: 0, checked: 0 });
    await api.get(EnrollmentsService).cancel(lost.enrollmentId);
    await api.get(EnrollmentsService).cancel(fine.enrollmentId);
  });

  it('re-adds a job that BullMQ gave up on (failed) while its delivery is still queued', async () => {
    const w = await queuedWelcome();
    // A bare BullMQ worker fails the job, as BullMQ does after too many stalls.
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const failer = new Worker(
      QueueName.Email,
      async () => {
        throw new UnrecoverableError('job stalled more than allowable limit');
      },
      { connection, prefix },
    );
    await waitFor(
      async () => (await queue().getJobState(w.delivery.id)) === 'failed',
      'the job to fail',
    );
    await failer.close();
    connection.disconnect();
    expect(await queue().getJobState(w.delivery.id)).toBe('failed');
    clock.advance(61_000);
    expect((await api.get(Reconciler).run()).reenqueued).toBe(1);
    expect(['waiting', 'delayed', 'active']).toContain(await queue().getJobState(w.delivery.id));
    await api.get(EnrollmentsService).cancel(w.enrollmentId);
  });

  it('cannot be starved: held deliveries in front are pushed back, so a lost one behind is reached', async () => {
    const reconciler = api.get(Reconciler);
    reconciler.batchSize = 3;
    reconciler.maxBatches = 1;
    try {
      const held = [];
      for (let i = 0; i < 6; i++) held.push(await queuedWelcome());
      // Held for quiet hours: their jobs wait in BullMQ's delayed set, their rows stay queued.
      for (const h of held) {
        await queue().remove(h.delivery.id);
        await queue().add(
          'send-delivery',
          { deliveryId: h.delivery.id },
          { jobId: h.delivery.id, delay: 3600_000 },
        );
      }
      clock.advance(1_000);
      const lost = await queuedWelcome(); // due a check after every held one
      await queue().remove(lost.delivery.id);
      clock.advance(61_000);
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) runs.push((await reconciler.run()).reenqueued);
      expect(runs).toEqual([0, 0, 1]); // two runs of three held rows, then the lost one
      expect(await queue().getJobState(lost.delivery.id)).toBe('waiting');
      for (const h of [...held, lost]) await api.get(EnrollmentsService).cancel(h.enrollmentId);
    } finally {
      reconciler.batchSize = 500;
      reconciler.maxBatches = 20;
    }
  });

  it('settles an expired lease that has no job at all, then its tip goes out once', async () => {
    const w = await queuedWelcome();
    // A worker claimed it, died before sending, and then Redis lost the job.
    await tdb.db
      .updateTable('deliveries')
      .set({
        status: 'sending',
        attempts: 1,
        claimed_at: clock.now(),
        check_at: new Date(clock.now().getTime() + 60_000),
      })
      .where('id', '=', w.delivery.id)
      .execute();
    await queue().remove(w.delivery.id);
    expect((await api.get(Reconciler).run()).settled.requeued).toBe(0); // the lease is live
    clock.advance(61_000);
    const result = await api.get(Reconciler).run();
    expect(result.settled).toMatchObject({ requeued: 1 });
    const d = (await deliveriesOf(tdb.db, w.enrollmentId))[0]!;
    expect(d).toMatchObject({
      status: 'queued',
      attempts: 1,
      resolution: 'lease expired; outcome unknown, sent again with the same Message-ID',
    });
    expect(await queue().getJobState(w.delivery.id)).toBe('waiting');
    worker = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: { ...env(), ROLE: 'worker' },
    });
    const to = `r${seq - 1}@example.com`;
    await waitFor(
      async () => (await deliveriesOf(tdb.db, w.enrollmentId))[0]!.status === 'sent',
      'the tip to go out',
    );
    expect(smtp.received.filter((r) => r.recipient === to)).toHaveLength(1);
    expect(smtp.received.find((r) => r.recipient === to)!.messageId).toBe(
      `<${w.delivery.id}@localhost>`,
    );
  });
});
