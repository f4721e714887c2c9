import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DelayedError, type Job } from 'bullmq';
import request from 'supertest';
import { ManualClock } from '../src/common/clock.js';
import { ConfirmationProcessor } from '../src/delivery/confirmation.processor.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { SignupService } from '../src/signup/index.js';
import { signupSchema } from '../src/signup/signup.dto.js';
import { TokensService } from '../src/tokens/tokens.service.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * When confirmations go out, what a repeat signup changes, and how long a confirm link and
 * its pending signup last (issue 7, item 10). The processor runs here on jobs the test
 * hands it, so the clock can stand at 3 a.m.
 */
describe('confirmation timing', () => {
  let tdb: TestDatabase;
  let fake: FakeTwilio;
  let t: TestApp;
  const prefix = uniquePrefix();
  // 03:00 in New York: inside SMS quiet hours.
  const NIGHT = '2030-06-01T07:00:00Z';
  const clock = new ManualClock(new Date(NIGHT));
  let seq = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fake = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        ROLE: 'api', // no workers: the test runs each confirmation job itself
        TWILIO_ACCOUNT_SID: fake.accountSid,
        TWILIO_AUTH_TOKEN: fake.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: fake.url,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const newPhone = () => `+1213375${1000 + seq++}`;
  const signup = (fields: Record<string, unknown>) =>
    t
      .get(SignupService)
      .subscribe(signupSchema.parse({ timezone: 'America/New_York', consent: true, ...fields }), {
        ip: '203.0.113.7',
        userAgent: 'test',
      });
  const pendingOf = (phoneOrEmail: { phone?: string; email?: string }) => {
    const [column, value] = phoneOrEmail.phone
      ? (['s.phone', phoneOrEmail.phone] as const)
      : (['s.email', phoneOrEmail.email!] as const);
    return tdb.db
      .selectFrom('enrollments as e')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .selectAll('e')
      .where(column, '=', value)
      .executeTakeFirst();
  };
  /** Runs the confirmation job as a worker would; returns where it was moved to, if anywhere. */
  const runJob = async (enrollmentId: string) => {
    let delayedTo: number | null = null;
    const job = {
      id: `confirm-${enrollmentId}-1`,
      data: { enrollmentId },
      token: 'test-token',
      timestamp: Date.now(),
      moveToDelayed: async (at: number) => {
        delayedTo = at;
      },
    } as unknown as Job<{ enrollmentId: string }>;
    try {
      const outcome = await t.get(ConfirmationProcessor).process(job as never);
      return { outcome, delayedMs: null };
    } catch (err) {
      if (!(err instanceof DelayedError)) throw err;
      return { outcome: 'delayed', delayedMs: delayedTo! - Date.now() };
    }
  };

  it('holds a confirmation text asked for at 3 a.m. until 08:00 the person’s time', async () => {
    clock.set(NIGHT);
    const phone = newPhone();
    await signup({ channel: 'sms', phone });
    const e = (await pendingOf({ phone }))!;
    const r = await runJob(e.id);
    expect(r.outcome).toBe('delayed');
    // 03:00 to 08:00 in New York: five hours (a little less by the time it runs).
    expect(r.delayedMs).toBeGreaterThan(5 * HOUR - 60_000);
    expect(r.delayedMs).toBeLessThanOrEqual(5 * HOUR);
    expect(fake.messages.filter((m) => m.to === phone)).toEqual([]);
    // At 08:00 it goes.
    clock.set('2030-06-01T12:00:00Z');
    expect((await runJob(e.id)).outcome).toBe('sent');
    expect(fake.messages.filter((m) => m.to === phone)).toHaveLength(1);
  });

  it('sends at once by email, and by text for a campaign without quiet hours', async () => {
    clock.set(NIGHT);
    const email = `night${seq++}@example.com`;
    await signup({ channel: 'email', email });
    expect((await runJob((await pendingOf({ email }))!.id)).outcome).toBe('sent');
    const phone = newPhone();
    await signup({ channel: 'sms', phone, campaign: 'upper-back-relief-demo' });
    expect((await runJob((await pendingOf({ phone }))!.id)).outcome).toBe('sent');
  });

  it('takes the time and zone of a repeat signup while still pending, resent or not', async () => {
    clock.set('2030-06-01T16:00:00Z');
    const phone = newPhone();
    await signup({ channel: 'sms', phone, sendTime: '08:00' });
    // Seconds later (no resend yet), then minutes later (a resend): each time the latest wins.
    await signup({ channel: 'sms', phone, sendTime: '18:30', timezone: 'Europe/London' });
    expect(await pendingOf({ phone })).toMatchObject({
      status: 'pending',
      send_time: '18:30',
      timezone: 'Europe/London',
      confirm_count: 1,
    });
    clock.advance(5 * 60_000);
    await signup({ channel: 'sms', phone, sendTime: '07:15', timezone: 'America/Chicago' });
    expect(await pendingOf({ phone })).toMatchObject({
      send_time: '07:15',
      timezone: 'America/Chicago',
      confirm_count: 2,
    });
  });

  it('keeps a pending signup as long as the link of its last confirmation works, and no longer', async () => {
    clock.set('2030-06-01T16:00:00Z');
    const email = `late${seq++}@example.com`;
    await signup({ channel: 'email', email });
    const first = (await pendingOf({ email }))!;
    // Three and a half days later the person asks again and gets a fresh link.
    clock.advance(3.5 * DAY);
    await signup({ channel: 'email', email });
    const link = t.get(TokensService).issue('confirm', first.id, 3 * 24 * 3600);
    // Four days after the first signup, the signup (and the fresh link) must still be there.
    clock.advance(1 * DAY);
    await t.get(SchedulerService).housekeeping();
    expect(await pendingOf({ email })).toMatchObject({ id: first.id, status: 'pending' });
    const page = await request(t.app.getHttpServer()).get(`/confirm/${link}`).expect(200);
    expect(page.text).toMatch(/Confirm your signup/);
    // The fresh link ends three days after it was sent; the signup a day after that.
    clock.advance(2 * DAY + HOUR);
    await request(t.app.getHttpServer()).get(`/confirm/${link}`).expect(400);
    await t.get(SchedulerService).housekeeping();
    expect(await pendingOf({ email })).toBeDefined();
    clock.advance(DAY);
    await t.get(SchedulerService).housekeeping();
    expect(await pendingOf({ email })).toBeUndefined();
  });
});
