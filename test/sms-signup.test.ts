import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import twilio from 'twilio';
import { ManualClock } from '../src/common/clock.js';
import { QueueName, QueuesService } from '../src/delivery/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { waitFor } from './support/wait.js';

const PUBLIC_URL = 'https://drip.example';

/**
 * SMS double opt-in end to end: the form, the confirmation text through the real twilio
 * client, a signed YES from the phone, the welcome, then Twilio's status callback.
 */
describe('SMS signup confirmed by replying YES, and delivery status callbacks', () => {
  let tdb: TestDatabase;
  let fake: FakeTwilio;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-06-01T16:00:00Z')); // 12:00 in New York
  const phone = '+12133734411';

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fake = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        TWILIO_ACCOUNT_SID: fake.accountSid,
        TWILIO_AUTH_TOKEN: fake.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: fake.url,
        PUBLIC_URL,
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  const signed = (path: string, params: Record<string, string>, signature?: string) =>
    request(t.app.getHttpServer())
      .post(path)
      .type('form')
      .set(
        'X-Twilio-Signature',
        signature ?? twilio.getExpectedTwilioSignature(fake.authToken, PUBLIC_URL + path, params),
      )
      .send(params);
  const texts = () => fake.messages.filter((m) => m.to === phone);
  const welcomeDelivery = () =>
    tdb.db
      .selectFrom('deliveries as d')
      .innerJoin('enrollments as e', 'e.id', 'd.enrollment_id')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .selectAll('d')
      .where('d.step', '=', 0)
      .where('s.phone', '=', phone)
      .executeTakeFirst();

  it('texts a confirmation, starts only on YES, and sends the welcome', async () => {
    await request(t.app.getHttpServer())
      .post('/subscriptions')
      .type('form')
      .send({
        channel: 'sms',
        phone: '+1 (213) 373-4411',
        timezone: 'America/New_York',
        consent: 'on',
        campaign: 'upper-back-relief',
      })
      .expect(202);
    const confirm = await waitFor(() => texts()[0], 'the confirmation text');
    expect(confirm.body).toMatch(/Reply YES to confirm/);
    expect(confirm.body).toMatch(/Msg & data rates may apply/);
    expect(await welcomeDelivery()).toBeUndefined(); // nothing before YES

    const res = await signed('/webhooks/twilio/inbound', {
      From: phone,
      Body: ' yes ',
      MessageSid: `SM${'1'.repeat(32)}`,
    }).expect(200);
    expect(res.text).toMatch(/<Message>/);
    const welcome = await waitFor(
      async () => ((await welcomeDelivery())?.status === 'sent' ? welcomeDelivery() : null),
      'the welcome',
    );
    const sms = texts().find((m) => m.sid === welcome!.provider_id)!;
    expect(sms.body).toMatch(/Upper-Back Relief/);
    expect(sms.statusCallback).toBe(`${PUBLIC_URL}/webhooks/twilio/status`);
    const events = await tdb.db
      .selectFrom('consent_events')
      .select(['kind', 'source'])
      .orderBy('created_at')
      .execute();
    expect(events).toEqual([
      { kind: 'requested', source: 'web-form' },
      { kind: 'confirmed', source: 'sms-keyword' },
    ]);
  });

  it('texts nothing to a number that once sent STOP; START then confirms the signup', async () => {
    const stopped = '+12133734412';
    await signed('/webhooks/twilio/inbound', {
      From: stopped,
      Body: 'STOP',
      MessageSid: `SM${'3'.repeat(32)}`,
    }).expect(200);
    const page = await request(t.app.getHttpServer())
      .post('/subscriptions')
      .type('form')
      .send({
        channel: 'sms',
        phone: stopped,
        timezone: 'America/New_York',
        consent: 'on',
        campaign: 'upper-back-relief',
      })
      .expect(202);
    expect(page.text).toMatch(/text START/);
    const pending = await tdb.db
      .selectFrom('enrollments as e')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .select(['e.id', 'e.status'])
      .where('s.phone', '=', stopped)
      .executeTakeFirstOrThrow();
    expect(pending.status).toBe('pending');
    // The confirmation job runs and sends nothing: give it the time a send takes, then look.
    await waitFor(
      async () =>
        (await t.get(QueuesService).queue(QueueName.Sms).getJob(`confirm-${pending.id}-1`)) ===
        undefined,
      'the confirmation job to finish',
    );
    expect(fake.messages.filter((m) => m.to === stopped)).toHaveLength(0);

    await signed('/webhooks/twilio/inbound', {
      From: stopped,
      Body: 'START',
      MessageSid: `SM${'4'.repeat(32)}`,
    }).expect(200);
    const started = await tdb.db
      .selectFrom('enrollments')
      .select('status')
      .where('id', '=', pending.id)
      .executeTakeFirstOrThrow();
    expect(started.status).toBe('active');
    await waitFor(() => fake.messages.some((m) => m.to === stopped), 'the welcome after START');
  });

  it('marks a delivery delivered on a signed status callback, and ignores forged and foreign ones', async () => {
    const d = (await welcomeDelivery())!;
    await signed(
      '/webhooks/twilio/status',
      { MessageSid: d.provider_id!, MessageStatus: 'delivered' },
      'forged',
    ).expect(403);
    expect((await welcomeDelivery())!.status).toBe('sent');
    await signed('/webhooks/twilio/status', {
      MessageSid: d.provider_id!,
      MessageStatus: 'sent',
    }).expect(204);
    expect((await welcomeDelivery())!.status).toBe('sent');
    await signed('/webhooks/twilio/status', {
      MessageSid: d.provider_id!,
      MessageStatus: 'delivered',
    }).expect(204);
    expect((await welcomeDelivery())!.status).toBe('delivered');
    // A late "undelivered" does not undo a delivery; one for a message not ours changes nothing.
    await signed('/webhooks/twilio/status', {
      MessageSid: d.provider_id!,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    }).expect(204);
    expect((await welcomeDelivery())!.status).toBe('delivered');
    const before = await tdb.db.selectFrom('deliveries').selectAll().orderBy('id').execute();
    await signed('/webhooks/twilio/status', {
      MessageSid: `SM${'f'.repeat(32)}`,
      MessageStatus: 'failed',
    }).expect(204);
    expect(await tdb.db.selectFrom('deliveries').selectAll().orderBy('id').execute()).toEqual(
      before,
    );
  });

  it('records an undelivered message as failed with the error code', async () => {
    const d = (await welcomeDelivery())!;
    await tdb.db.updateTable('deliveries').set({ status: 'sent' }).where('id', '=', d.id).execute();
    await signed('/webhooks/twilio/status', {
      MessageSid: d.provider_id!,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    }).expect(204);
    expect(await welcomeDelivery()).toMatchObject({
      status: 'failed',
      error: 'Twilio undelivered (error 30003)',
    });
  });

  it.each([
    ['missing sid', { MessageStatus: 'delivered' }, 'MessageSid'],
    ['bad sid', { MessageSid: 'abc', MessageStatus: 'delivered' }, 'MessageSid'],
    [
      'unknown status',
      { MessageSid: `SM${'2'.repeat(32)}`, MessageStatus: 'exploded' },
      'MessageStatus',
    ],
  ])(
    'answers a status callback with %s with 400 naming the field',
    async (_what, params, field) => {
      const res = await signed('/webhooks/twilio/status', params as Record<string, string>).expect(
        400,
      );
      expect(res.body.message).toMatch(new RegExp(`^${field}:`));
    },
  );
});
