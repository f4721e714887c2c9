import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../src/common/clock.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
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
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: twilio.url,
        SEND_BACKOFF_MS: '100',
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

  it('fails an invalid number (Twilio 21211) at once, and retries a Twilio 500 and a 429', async () => {
    twilio.failNext('+12133734254', 400, 21211);
    twilio.failNext('+12133734255', 500, 20500);
    twilio.failNext('+12133734256', 429, 20429);
    const bad = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'sms',
      phone: '+12133734254',
      timezone: 'UTC',
    });
    const flaky = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'sms',
      phone: '+12133734255',
      timezone: 'UTC',
    });
    const limited = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'sms',
      phone: '+12133734256',
      timezone: 'UTC',
    });

    const first = async (id: string, status: string) => {
      const d = await deliveriesOf(tdb.db, id);
      return d[0]?.status === status ? d[0] : null;
    };
    const failed = await waitFor(() => first(bad, 'failed'), 'the 21211 delivery to fail');
    expect(failed).toMatchObject({ attempts: 1, error: 'Twilio error 21211' });
    const retried = await waitFor(() => first(flaky, 'sent'), 'the 500 delivery to go through');
    expect(retried.attempts).toBe(2);
    const throttled = await waitFor(() => first(limited, 'sent'), 'the 429 delivery to go through');
    expect(throttled.attempts).toBe(2);
    expect(to('+12133734254')).toHaveLength(0);
    expect(to('+12133734255')).toHaveLength(1);
    expect(to('+12133734256')).toHaveLength(1);
  });
});
