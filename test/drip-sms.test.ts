import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../src/common/clock.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, twilioEnv, type FakeTwilio } from './support/fake-twilio.js';
import { DEMO_STEPS, deliveriesOf, enrol, walkDemo } from './support/journey.js';
import { waitFor } from './support/wait.js';

describe('demo campaign by SMS through the real twilio client and a local fake of its API', () => {
  let tdb: TestDatabase;
  let twilio: FakeTwilio;
  let t: TestApp;
  const prefix = uniquePrefix();
  // 14:00 in New York: inside the SMS window.
  const clock = new ManualClock(new Date('2026-06-01T18:00:00Z'));

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
        SEND_TIMEOUT_MS: '500',
        DELIVERY_LEASE_MS: '2000',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await twilio?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const to = (phone: string) => twilio.messages.filter((m) => m.to === phone);

  it('delivers every step once, in order, from the configured number, with the safety line', async () => {
    const id = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'sms',
      phone: '+1 (213) 373-4253',
      name: 'Grace',
      timezone: 'America/New_York',
    });
    await walkDemo(t, () => to('+12133734253').length);
    t.clock!.advance(3600_000);
    expect((await t.get(SchedulerService).runPass()).claimed).toBe(0);

    const sms = to('+12133734253');
    expect(sms).toHaveLength(DEMO_STEPS.length);
    const deliveries = await deliveriesOf(tdb.db, id);
    expect(deliveries.map((d) => d.step_key)).toEqual(DEMO_STEPS);
    expect(sms.map((m) => m.sid)).toEqual(deliveries.map((d) => d.provider_id));
    for (const m of sms) {
      expect(m.from).toBe('+15005550006');
      expect(m.accountSid).toBe(twilio.accountSid);
      expect(m.body).toMatch(/emergency/i);
    }
    expect(sms[0]!.body).toMatch(/Msg & data rates may apply/);
    expect(sms[0]!.body).toMatch(/HELP/);
    expect(sms[0]!.body).toMatch(/STOP/);
    expect(sms.at(-1)!.body).toMatch(/0-10/);
  });

  const first = async (id: string, status: string) => {
    const d = await deliveriesOf(tdb.db, id);
    return d[0]?.status === status ? d[0] : null;
  };
  const enrolSms = (phone: string) =>
    enrol(t, { campaign: 'upper-back-relief-demo', channel: 'sms', phone, timezone: 'UTC' });

  it('fails an invalid number (Twilio 21211) at once, suppresses it and ends the enrolment', async () => {
    twilio.failAlways('+12133734254', 400, 21211);
    const bad = await enrolSms('+12133734254');
    const failed = await waitFor(() => first(bad, 'failed'), 'the 21211 delivery to fail');
    expect(failed).toMatchObject({ attempts: 1, error: 'undeliverable: Twilio 400 error 21211' });
    const e = await tdb.db
      .selectFrom('enrollments')
      .selectAll()
      .where('id', '=', bad)
      .executeTakeFirstOrThrow();
    expect(e).toMatchObject({ status: 'cancelled', cancel_reason: 'undeliverable' });
    const s = await tdb.db
      .selectFrom('suppressions')
      .selectAll()
      .where('address', '=', '+12133734254')
      .executeTakeFirstOrThrow();
    expect(s).toMatchObject({ channel: 'sms', reason: 'undeliverable: Twilio 400 error 21211' });
    t.clock!.advance(60_000);
    await t.get(SchedulerService).runPass();
    expect(await deliveriesOf(tdb.db, bad)).toHaveLength(1);
    expect(twilio.rejected.get(21211)).toBe(1); // the later tips were never tried
  });

  it('waits out a 429 for as long as Retry-After says, without spending an attempt', async () => {
    twilio.failNext('+12133734256', 429, 20429, { retryAfterSeconds: 2 });
    const started = Date.now();
    const limited = await enrolSms('+12133734256');
    const throttled = await waitFor(() => first(limited, 'sent'), 'the 429 delivery to go through');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(throttled.attempts).toBe(1);
    expect(to('+12133734256')).toHaveLength(1);
  });

  it('settles a Twilio 500 from the message log: not there, so it is sent once more', async () => {
    twilio.failNext('+12133734255', 500, 20500);
    const flaky = await enrolSms('+12133734255');
    // The outcome of a 500 is unknown: the delivery keeps its lease until it expires.
    await waitFor(() => first(flaky, 'sending').then((d) => d?.resolution), 'the unknown outcome');
    const listed = twilio.listRequests;
    t.clock!.advance(3_000); // past the lease
    const sent = await waitFor(() => first(flaky, 'sent'), 'the 500 delivery to go through');
    expect(twilio.listRequests).toBeGreaterThan(listed); // it asked Twilio's log first
    expect(sent).toMatchObject({
      attempts: 2,
      resolution: 'lease expired; not in the provider log, sent again',
    });
    expect(to('+12133734255')).toHaveLength(1);
  });

  it('settles a send whose answer was lost from the message log: there, so it is not sent again', async () => {
    twilio.hangNext('+12133734257', { accept: true, ms: 1_500 }); // accepted; the answer never comes
    const lost = await enrolSms('+12133734257');
    await waitFor(() => to('+12133734257').length === 1, 'Twilio to accept the message');
    await waitFor(
      () => first(lost, 'sending').then((d) => d?.resolution),
      'the client to time out',
    );
    t.clock!.advance(3_000);
    const sent = await waitFor(() => first(lost, 'sent'), 'the lost send to be settled');
    expect(sent).toMatchObject({
      attempts: 1,
      provider_id: to('+12133734257')[0]!.sid,
      resolution: 'lease expired; found in the provider log, not sent again',
    });
    expect(to('+12133734257')).toHaveLength(1);
  });
});
