import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import request from 'supertest';
import { ManualClock } from '../src/common/clock.js';
import {
  ChannelFaults,
  DeliveriesRepository,
  QueueName,
  QueuesService,
} from '../src/delivery/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, twilioEnv, type FakeTwilio } from './support/fake-twilio.js';
import { deliveriesOf, enrol } from './support/journey.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

/**
 * Faults around a send, injected for real: database errors raised by a trigger inside
 * PostgreSQL, provider errors from the SMTP sink and the Twilio fake.
 */

/** Makes the next `times` updates of a delivery to `status` fail inside PostgreSQL. */
async function failUpdatesTo(tdb: TestDatabase, status: string, times: number): Promise<void> {
  // A sequence, because nextval survives the rollback of the failing statement.
  await sql`DROP TRIGGER IF EXISTS inject_fault ON deliveries`.execute(tdb.db);
  await sql`DROP SEQUENCE IF EXISTS injected_faults`.execute(tdb.db);
  await sql`CREATE SEQUENCE injected_faults`.execute(tdb.db);
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION inject_fault() RETURNS trigger AS $$
       BEGIN
         IF NEW.status = '${status}' AND OLD.status IS DISTINCT FROM NEW.status
            AND nextval('injected_faults') <= ${times} THEN
           RAISE EXCEPTION 'injected fault: % -> %', OLD.status, NEW.status;
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql`,
    )
    .execute(tdb.db);
  await sql`CREATE TRIGGER inject_fault BEFORE UPDATE ON deliveries
            FOR EACH ROW EXECUTE FUNCTION inject_fault()`.execute(tdb.db);
}

async function faultsInjected(tdb: TestDatabase): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT last_value AS n FROM injected_faults`.execute(
    tdb.db,
  );
  return Number(rows[0]!.n);
}

async function clearFaults(tdb: TestDatabase): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS inject_fault ON deliveries`.execute(tdb.db);
}

const firstWith = async (tdb: TestDatabase, id: string, status: string) => {
  const d = (await deliveriesOf(tdb.db, id))[0];
  return d?.status === status ? d : null;
};

describe('SMS: database errors around a send, and channel faults', () => {
  let tdb: TestDatabase;
  let twilio: FakeTwilio;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T18:00:00Z')); // 14:00 in New York
  let seq = 5000;
  const phone = () => `+1213373${seq++}`;
  const to = (p: string) => twilio.messages.filter((m) => m.to === p);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    twilio = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        ...twilioEnv(twilio),
        SEND_BACKOFF_MS: '100',
        SEND_ATTEMPTS: '3',
        CHANNEL_PROBE_MS: '300',
      },
    });
  });
  afterEach(async () => {
    await clearFaults(tdb);
    twilio.failAll(null);
  });
  afterAll(async () => {
    await t?.close();
    await twilio?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const enrolSms = (p: string) =>
    enrol(t, { campaign: 'upper-back-relief', channel: 'sms', phone: p, timezone: 'UTC' });

  it('a database error after Twilio accepted does not send the text twice', async () => {
    await failUpdatesTo(tdb, 'sent', 2);
    const p = phone();
    const id = await enrolSms(p);
    const sent = await waitFor(() => firstWith(tdb, id, 'sent'), 'the send to be recorded');
    expect(await faultsInjected(tdb)).toBeGreaterThanOrEqual(2); // the record did fail, twice
    expect(to(p)).toHaveLength(1);
    expect(sent).toMatchObject({ attempts: 1, provider_id: to(p)[0]!.sid, error: null });
    expect(sent.sent_at).toBeInstanceOf(Date);
  });

  it('bad credentials (Twilio 20003) pause the SMS queue; nothing fails; it resumes when fixed', async () => {
    twilio.failAll({ status: 401, code: 20003 });
    const p = phone();
    const id = await enrolSms(p);
    const faults = t.get(ChannelFaults);
    const fault = await waitFor(() => faults.get(QueueName.Sms), 'the channel to pause');
    expect(fault).toMatchObject({ kind: 'config', code: 20003 });
    expect(fault.error).toMatch(/401 error 20003/);
    expect(await t.get(QueuesService).queue(QueueName.Sms).isPaused()).toBe(true);
    // Probes come and go (the account fetch passes, the send fails again); nothing fails.
    await new Promise((r) => setTimeout(r, 1_500));
    const held = (await deliveriesOf(tdb.db, id))[0]!;
    expect(['queued', 'sending']).toContain(held.status); // a probe's try may be in flight
    expect(held.attempts).toBeLessThanOrEqual(1); // each try is given back
    expect(to(p)).toHaveLength(0);

    twilio.failAll(null); // the operator fixed the setting
    const sent = await waitFor(() => firstWith(tdb, id, 'sent'), 'the queue to resume');
    expect(sent.attempts).toBe(1);
    expect(to(p)).toHaveLength(1);
    await waitFor(async () => (await faults.get(QueueName.Sms)) === null, 'the fault to clear');
    expect(await t.get(QueuesService).queue(QueueName.Sms).isPaused()).toBe(false);
  });

  it('an unknown sender (21606) pauses the queue too instead of failing every tip', async () => {
    twilio.failAll({ status: 400, code: 21606 });
    const ids = [await enrolSms(phone()), await enrolSms(phone())];
    await waitFor(() => t.get(ChannelFaults).get(QueueName.Sms), 'the channel to pause');
    await new Promise((r) => setTimeout(r, 800));
    // Probes resume the queue now and then (the account fetch passes) and the next send
    // pauses it again: a tip may be mid-try, but none has failed.
    for (const id of ids)
      expect(['queued', 'sending']).toContain((await deliveriesOf(tdb.db, id))[0]!.status);
    twilio.failAll(null);
    for (const id of ids) await waitFor(() => firstWith(tdb, id, 'sent'), 'each tip to go');
  });

  it('a campaign step that no longer exists fails its delivery instead of looping', async () => {
    const p = phone();
    const id = await enrolSms(p);
    await waitFor(() => firstWith(tdb, id, 'sent'), 'the welcome');
    // A delivery for a step the templates do not have (they changed after it was queued).
    const [d] = await t
      .get(DeliveriesRepository)
      .insertQueued(tdb.db, [{ enrollment_id: id, step: 99, step_key: 'gone', channel: 'sms' }]);
    await t.get(QueuesService).enqueueDeliveries([d!]);
    const failed = await waitFor(
      () =>
        tdb.db
          .selectFrom('deliveries')
          .selectAll()
          .where('id', '=', d!.id)
          .where('status', '=', 'failed')
          .executeTakeFirst(),
      'the delivery to fail',
    );
    expect(failed.error).toBe('campaign step upper-back-relief#gone no longer exists');
    expect(to(p)).toHaveLength(1);
  });
});

describe('email: retries, the last attempt, and bad credentials', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));
  let seq = 0;
  const email = (tag: string) => `${tag}${seq++}@example.com`;
  const to = (addr: string) => smtp.received.filter((r) => r.recipient === addr);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink({ auth: { user: 'drip', pass: 'secret' } });
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        SMTP_URL: smtp.urlWith('drip', 'secret'),
        SEND_BACKOFF_MS: '100',
        SEND_ATTEMPTS: '3',
        CHANNEL_PROBE_MS: '300',
      },
    });
  });
  afterEach(async () => {
    await clearFaults(tdb);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const enrolEmail = (addr: string) =>
    enrol(t, { campaign: 'upper-back-relief', channel: 'email', email: addr, timezone: 'UTC' });

  it('a database error while recording a retry does not lose the tip', async () => {
    const addr = email('retry');
    smtp.failNext(addr, 451); // a temporary refusal: retried with backoff…
    await failUpdatesTo(tdb, 'queued', 2); // …but the write that takes it back to queued fails
    const id = await enrolEmail(addr);
    const sent = await waitFor(() => firstWith(tdb, id, 'sent'), 'the tip to go out in the end');
    expect(await faultsInjected(tdb)).toBeGreaterThanOrEqual(2);
    expect(sent.attempts).toBe(2);
    expect(to(addr)).toHaveLength(1);
  });

  it('a temporary error through the last attempt fails the tip with the reason', async () => {
    const addr = email('busy');
    for (let i = 0; i < 3; i++) smtp.failNext(addr, 452);
    const id = await enrolEmail(addr);
    const failed = await waitFor(() => firstWith(tdb, id, 'failed'), 'the tip to give up');
    expect(failed).toMatchObject({
      attempts: 3,
      error: 'gave up after 3 attempts: SMTP 452 at RCPT TO',
    });
    expect(to(addr)).toHaveLength(0);
  });

  it('a rotated SMTP password (535) pauses the email queue until the login works again', async () => {
    smtp.setPassword('rotated', { disconnect: true });
    const addr = email('auth');
    const id = await enrolEmail(addr);
    const faults = t.get(ChannelFaults);
    const fault = await waitFor(() => faults.get(QueueName.Email), 'the pause');
    expect(fault).toMatchObject({ kind: 'config', code: 535 });
    expect(await t.get(QueuesService).queue(QueueName.Email).isPaused()).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000)); // several probes fail meanwhile
    expect((await faults.get(QueueName.Email))?.lastProbeError).toMatch(/535/);
    expect((await deliveriesOf(tdb.db, id))[0]).toMatchObject({ status: 'queued', attempts: 0 });
    expect(to(addr)).toHaveLength(0);

    smtp.setPassword('secret'); // the operator puts the password back
    const sent = await waitFor(() => firstWith(tdb, id, 'sent'), 'the queue to resume');
    expect(sent.attempts).toBe(1);
    expect(to(addr)).toHaveLength(1);
    // Every attempt of a delivery carries the same Message-ID, derived from it.
    expect(to(addr)[0]!.messageId).toBe(`<${sent.id}@localhost>`);
    expect(await faults.get(QueueName.Email)).toBeNull();
  });

  it('a double opt-in email waits out bad credentials instead of being dropped', async () => {
    const failedJobs = async () =>
      (await t.get(QueuesService).queue(QueueName.Email).getJobCounts('failed')).failed;
    const failedBefore = await failedJobs();
    smtp.setPassword('rotated-again', { disconnect: true });
    const addr = email('confirm');
    const res = await request(t.app.getHttpServer()).post('/subscriptions').send({
      campaign: 'upper-back-relief',
      channel: 'email',
      email: addr,
      timezone: 'UTC',
      sendTime: '08:00',
      consent: true,
    });
    expect(res.status).toBe(202);
    await waitFor(() => t.get(ChannelFaults).get(QueueName.Email), 'the pause');
    await new Promise((r) => setTimeout(r, 1_000)); // probes fail meanwhile
    expect(to(addr)).toHaveLength(0);
    expect(await failedJobs()).toBe(failedBefore);
    smtp.setPassword('secret');
    await waitFor(() => to(addr).length === 1, 'the confirmation once the login works');
    expect(to(addr)[0]!.mail.subject).toMatch(/confirm/i);
  });

  it('a refused sender (550 5.7.1 at MAIL FROM) pauses the queue, not the recipient', async () => {
    smtp.rejectSender(550);
    const addr = email('sender');
    const id = await enrolEmail(addr);
    const fault = await waitFor(() => t.get(ChannelFaults).get(QueueName.Email), 'the pause');
    expect(fault).toMatchObject({ kind: 'config', error: 'SMTP 550 5.7.1 at MAIL FROM' });
    expect((await deliveriesOf(tdb.db, id))[0]!.status).toBe('queued');
    smtp.rejectSender(null);
    await waitFor(() => firstWith(tdb, id, 'sent'), 'the queue to resume');
    expect(await tdb.db.selectFrom('suppressions').selectAll().execute()).toEqual([]);
  });
});
