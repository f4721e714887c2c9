import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../src/common/clock.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { QueuesService } from '../src/delivery/index.js';
import { EnrollmentsService } from '../src/enrollments/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { DEMO_STEPS, deliveriesOf, enrol, walkDemo } from './support/journey.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

describe('demo campaign by email through a real SMTP server', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: { SMTP_URL: smtp.url, SEND_BACKOFF_MS: '100' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const to = (addr: string) =>
    smtp.messages.filter((m) => m.to && !Array.isArray(m.to) && m.to.value[0]?.address === addr);

  it('delivers the welcome, five tips and the wrap-up, in order, each exactly once', async () => {
    const id = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'email',
      email: 'ada@example.com',
      name: '<b>Ada</b> Lovelace', // markup in the first word, the one messages use
      timezone: 'Europe/London',
    });
    await walkDemo(t, () => to('ada@example.com').length);

    // Nothing more falls due, however far time moves.
    t.clock!.advance(3600_000);
    expect((await t.get(SchedulerService).runPass()).claimed).toBe(0);

    const mails = to('ada@example.com');
    expect(mails).toHaveLength(DEMO_STEPS.length);
    const deliveries = await deliveriesOf(tdb.db, id);
    expect(deliveries.map((d) => d.step_key)).toEqual(DEMO_STEPS);
    expect(deliveries.every((d) => d.status === 'sent' && d.provider_id)).toBe(true);
    // Each message is the one for its step, in order: the provider id is the Message-ID.
    expect(mails.map((m) => m.messageId)).toEqual(deliveries.map((d) => d.provider_id));
    expect(new Set(mails.map((m) => m.subject)).size).toBe(DEMO_STEPS.length);
    for (const m of mails) {
      expect(m.text).toMatch(/chest pain/i);
      expect(m.html).toMatch(/emergency/i);
      expect(m.html).toContain('&lt;b&gt;Ada'); // greeted by first name, escaped
      expect(m.html).not.toContain('<b>Ada'); // markup never reaches the page unescaped
      expect(m.text).toMatch(/\/unsubscribe\/[A-Za-z0-9_-]{40,}/);
    }
    const enrollment = await tdb.db
      .selectFrom('enrollments')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(enrollment).toMatchObject({
      status: 'completed',
      next_send_at: null,
      step: DEMO_STEPS.length,
    });
  });

  it('fails a mailbox that does not exist at once, suppresses it and ends the enrolment', async () => {
    smtp.failAlways('gone@example.com', 550, '5.1.1 mailbox does not exist');
    const gone = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'email',
      email: 'gone@example.com',
      timezone: 'UTC',
    });
    const [failed] = await waitFor(async () => {
      const d = await deliveriesOf(tdb.db, gone);
      return d[0]?.status === 'failed' ? d : null;
    }, 'the 550 delivery to fail');
    expect(failed).toMatchObject({
      attempts: 1,
      error: 'undeliverable: SMTP 550 5.1.1 at RCPT TO',
    });
    // The later tips are never tried against the dead mailbox.
    const enrolment = await waitFor(
      () =>
        tdb.db
          .selectFrom('enrollments')
          .selectAll()
          .where('id', '=', gone)
          .where('status', '=', 'cancelled')
          .executeTakeFirst(),
      'the enrolment to end',
    );
    expect(enrolment).toMatchObject({ cancel_reason: 'undeliverable', next_send_at: null });
    const suppression = await tdb.db
      .selectFrom('suppressions')
      .selectAll()
      .where('address', '=', 'gone@example.com')
      .executeTakeFirstOrThrow();
    expect(suppression.reason).toBe('undeliverable: SMTP 550 5.1.1 at RCPT TO');
    t.clock!.advance(60_000);
    await t.get(SchedulerService).runPass();
    expect(await deliveriesOf(tdb.db, gone)).toHaveLength(1);
    expect(to('gone@example.com')).toHaveLength(0);
    const counts = await t.get(QueuesService).counts();
    expect(counts.email.failed).toBe(1);
  });

  it('retries a temporary mailbox error (451 at RCPT TO) until it goes through', async () => {
    smtp.failNext('busy@example.com', 451);
    smtp.failNext('busy@example.com', 451);
    const busy = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'email',
      email: 'busy@example.com',
      timezone: 'UTC',
    });
    const [sent] = await waitFor(async () => {
      const d = await deliveriesOf(tdb.db, busy);
      return d[0]?.status === 'sent' ? d : null;
    }, 'the 451 delivery to go through on retry');
    expect(sent!.attempts).toBe(3);
    expect(to('busy@example.com')).toHaveLength(1);
    await t.get(EnrollmentsService).cancel(busy);
  });

  it('fails a refused message alone (552, mailbox full: no suppression)', async () => {
    const id = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'email',
      email: 'strict@example.com',
      timezone: 'UTC',
    });
    smtp.failNext('strict@example.com', 552);
    const [failed] = await waitFor(async () => {
      const d = await deliveriesOf(tdb.db, id);
      return d[0]?.status === 'failed' ? d : null;
    }, 'the refused message to fail');
    expect(failed!.error).toBe('SMTP 552 at RCPT TO');
    const e = await tdb.db
      .selectFrom('enrollments')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(e.status).toBe('active'); // the next tip still goes
    expect(
      await tdb.db
        .selectFrom('suppressions')
        .selectAll()
        .where('address', '=', 'strict@example.com')
        .execute(),
    ).toEqual([]);
    await t.get(EnrollmentsService).cancel(id);
  });
});
