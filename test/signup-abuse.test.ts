import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import request from 'supertest';
import { loadConfig, parseTrustProxy } from '../src/config/config.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { countRows, createTestDatabase, type TestDatabase } from './support/db.js';

/**
 * The edge of the public signup (issue 7, items 8 and 9): the client address behind a
 * proxy, a rate limit shared by every instance, and the limits on the texts a signup can
 * make us pay for (SMS pumping).
 */
describe('signup abuse: proxies, shared limits and SMS pumping', () => {
  let tdb: TestDatabase;
  const prefixes: string[] = [];
  const apps: TestApp[] = [];
  let seq = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const p of prefixes) await dropPrefix(p);
    await tdb?.drop();
  });

  const app = async (env: Record<string, string>, prefix = uniquePrefix()) => {
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
    const a = await startApp({ databaseUrl: tdb.url, prefix, env: { ROLE: 'api', ...env } });
    apps.push(a);
    return a;
  };
  const post = (a: TestApp, body: object, forwardedFor?: string) => {
    const req = request(a.app.getHttpServer()).post('/subscriptions');
    if (forwardedFor) req.set('X-Forwarded-For', forwardedFor);
    return req.send(body);
  };
  const emailSignup = () => ({
    channel: 'email',
    email: `abuse${seq++}@example.com`,
    timezone: 'UTC',
    consent: true,
  });
  const smsSignup = (phone: string) => ({
    channel: 'sms',
    phone,
    timezone: 'America/New_York',
    consent: true,
  });

  describe('TRUST_PROXY', () => {
    it.each([
      ['', false],
      ['false', false],
      ['0', false],
      ['1', 1],
      ['2', 2],
      ['10.0.0.0/8, 192.168.1.5', ['10.0.0.0/8', '192.168.1.5']],
      ['::1,fd00::/8', ['::1', 'fd00::/8']],
    ])('reads %p', (value, expected) => {
      expect(parseTrustProxy(value)).toEqual(expected);
    });

    it.each(['yes', '11', '10.0.0.0/33', '10.0.0/8', '::1/129', '1.2.3.4/8/1', 'a,b'])(
      'refuses %p with a message naming the setting',
      (value) => {
        expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(
          /TRUST_PROXY must be "false", a number of proxy hops/,
        );
      },
    );

    it('is off by default: behind a proxy, every visitor shares one limit', async () => {
      const a = await app({ SIGNUP_RATE_PER_MINUTE: '2' });
      await post(a, emailSignup(), '198.51.100.1').expect(202);
      await post(a, emailSignup(), '198.51.100.2').expect(202);
      await post(a, emailSignup(), '198.51.100.3').expect(429);
    });

    it('with one hop trusted, limits each visitor and records their address as consent evidence', async () => {
      const a = await app({ SIGNUP_RATE_PER_MINUTE: '2', TRUST_PROXY: '1' });
      const body = emailSignup();
      await post(a, body, '198.51.100.7').expect(202);
      await post(a, emailSignup(), '198.51.100.7').expect(202);
      await post(a, emailSignup(), '198.51.100.7').expect(429);
      // Another visitor behind the same proxy is not held back.
      await post(a, emailSignup(), '198.51.100.8').expect(202);
      // A client cannot choose its address by sending a header of its own: the proxy appends
      // the real one, and only that last hop is believed.
      await post(a, emailSignup(), '203.0.113.50, 198.51.100.7').expect(429);
      const event = await tdb.db
        .selectFrom('consent_events')
        .innerJoin('subscribers', 'subscribers.id', 'consent_events.subscriber_id')
        .select('consent_events.ip')
        .where('subscribers.email', '=', body.email)
        .executeTakeFirstOrThrow();
      expect(event.ip).toBe('198.51.100.7');
    });

    it('with a CIDR list, believes only proxies in it', async () => {
      const trusted = await app({ SIGNUP_RATE_PER_MINUTE: '1', TRUST_PROXY: '127.0.0.0/8,::1' });
      await post(trusted, emailSignup(), '198.51.100.20').expect(202);
      await post(trusted, emailSignup(), '198.51.100.21').expect(202);
      const elsewhere = await app({ SIGNUP_RATE_PER_MINUTE: '1', TRUST_PROXY: '10.0.0.0/8' });
      await post(elsewhere, emailSignup(), '198.51.100.22').expect(202);
      await post(elsewhere, emailSignup(), '198.51.100.23').expect(429);
    });
  });

  it('keeps the signup limit in Redis: two instances share it', async () => {
    const prefix = uniquePrefix();
    const one = await app({ SIGNUP_RATE_PER_MINUTE: '3' }, prefix);
    const two = await app({ SIGNUP_RATE_PER_MINUTE: '3' }, prefix);
    await post(one, emailSignup()).expect(202);
    await post(two, emailSignup()).expect(202);
    await post(one, emailSignup()).expect(202);
    const refused = await post(two, emailSignup()).expect(429);
    expect(refused.body.message).toMatch(/Too many signups/);
  });

  describe('SMS pumping', () => {
    const twilio = {
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'token',
      TWILIO_FROM: '+15005550006',
      TWILIO_API_URL: 'http://127.0.0.1:9',
    };

    it('takes SMS signups only from the sender’s country unless SMS_COUNTRIES says more', async () => {
      const a = await app({ ...twilio });
      const before = await countRows(tdb.db, 'enrollments');
      const res = await post(a, smsSignup('+447400123456')).expect(400);
      expect(res.body.message).toBe(
        'phone: we can only text numbers in US; sign up by email instead',
      );
      expect(await countRows(tdb.db, 'enrollments')).toBe(before);
      await post(a, smsSignup('+12133750001')).expect(202);

      const wider = await app({ ...twilio, SMS_COUNTRIES: 'us, gb' });
      await post(wider, smsSignup('+447812345678')).expect(202);
      expect(() => loadConfig({ SMS_COUNTRIES: 'US,XX' })).toThrow(
        /SMS_COUNTRIES must be a comma list of two-letter country codes/,
      );
    });

    it('refuses a second confirmation text to one number in a day with 429, rolling the signup back', async () => {
      const prefix = uniquePrefix();
      const a = await app({ ...twilio, SMS_CONFIRMATIONS_PER_NUMBER_PER_DAY: '1' }, prefix);
      await post(a, smsSignup('+12133750200')).expect(202);
      const before = {
        enrollments: await countRows(tdb.db, 'enrollments'),
        consent: await countRows(tdb.db, 'consent_events'),
      };
      const res = await post(a, {
        ...smsSignup('+12133750200'),
        campaign: 'upper-back-relief-demo',
      });
      expect(res.status).toBe(429);
      expect(res.body.message).toBe(
        'phone: too many signup texts to this number; try again tomorrow, or sign up by email',
      );
      expect({
        enrollments: await countRows(tdb.db, 'enrollments'),
        consent: await countRows(tdb.db, 'consent_events'),
      }).toEqual(before);
      expect(await a.get(MetricsService).registry.metrics()).toMatch(
        /selfcare_sms_signups_refused_total\{reason="number"\} 1/,
      );
    });

    it('limits texts to one number prefix in an hour', async () => {
      const a = await app({ ...twilio, SMS_CONFIRMATIONS_PER_PREFIX_PER_HOUR: '2' });
      await post(a, smsSignup('+12133760001')).expect(202);
      await post(a, smsSignup('+12133760002')).expect(202);
      await post(a, smsSignup('+12133760003')).expect(429);
      // Another prefix is not held back.
      await post(a, smsSignup('+12133770001')).expect(202);
    });

    it('caps all confirmation texts in an hour, across instances, and raises one alert', async () => {
      const prefix = uniquePrefix();
      const env = { ...twilio, SMS_CONFIRMATIONS_PER_HOUR: '2' };
      const one = await app(env, prefix);
      const two = await app(env, prefix);
      await post(one, smsSignup('+12133780001')).expect(202);
      await post(two, smsSignup('+12133790001')).expect(202);
      const alerts = jest.spyOn(Logger.prototype, 'error');
      const capped = await post(one, smsSignup('+12133800001')).expect(429);
      expect(capped.body.message).toBe(
        'phone: we are not sending signup texts for a while; try again in an hour, or sign up by email',
      );
      await post(two, smsSignup('+12133810001')).expect(429);
      // Email signups go on.
      await post(one, emailSignup()).expect(202);
      const refusedBy = async (a: TestApp) =>
        Number(
          /selfcare_sms_signups_refused_total\{reason="hourly-cap"\} (\d+)/.exec(
            await a.get(MetricsService).registry.metrics(),
          )?.[1] ?? 0,
        );
      expect((await refusedBy(one)) + (await refusedBy(two))).toBe(2);
      // One alert for the hour, not one per refusal.
      const raised = alerts.mock.calls.filter((c) => String(c[1]).startsWith('ALERT:'));
      alerts.mockRestore();
      expect(raised).toHaveLength(1);
    });
  });
});
