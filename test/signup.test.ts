import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ManualClock } from '../src/common/clock.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { TokensService } from '../src/tokens/tokens.service.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { countRows, createTestDatabase, type TestDatabase } from './support/db.js';
import { linkPath, mailsTo } from './support/mail.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

describe('public signup, double opt-in, unsubscribe and preferences', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let t: TestApp;
  const prefix = uniquePrefix();
  // Future dates keep BullMQ's real-time delays in step with the manual clock.
  const clock = new ManualClock(new Date('2030-03-02T10:00:00Z'));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL: 'https://drip.example',
        MAIL_REPLY_TO: 'help@drip.example',
        SIGNUP_RATE_PER_MINUTE: '1000',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  const server = () => t.app.getHttpServer();
  const count = (table: 'subscribers' | 'enrollments' | 'consent_events' | 'suppressions') =>
    countRows(tdb.db, table);
  const counts = async () => ({
    subscribers: await count('subscribers'),
    enrollments: await count('enrollments'),
    consent: await count('consent_events'),
    suppressions: await count('suppressions'),
  });
  /** The enrolment of the person who signs up in the second test. */
  const annEnrollment = () =>
    tdb.db
      .selectFrom('enrollments as e')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .selectAll('e')
      .where('s.email', '=', 'ann@example.com')
      .executeTakeFirstOrThrow();
  const form = {
    name: 'Ann',
    channel: 'email',
    timezone: 'Europe/London',
    sendTime: '08:00',
    consent: 'on',
    campaign: 'upper-back-relief-demo',
  };

  it('serves an accessible signup form with consent text, red flags, a honeypot and legal pages', async () => {
    const res = await request(server()).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    for (const id of ['name', 'email', 'phone', 'timezone', 'sendTime'])
      expect(res.text).toContain(`<label for="${id}"`);
    expect(res.text).toMatch(/Msg &amp; data rates may apply/);
    expect(res.text).toMatch(/Reply HELP for help, STOP to opt out/);
    expect(res.text).toMatch(/7 messages, at most one a day/);
    expect(res.text).toMatch(/name="redFlags" value="chest"/);
    expect(res.text).toMatch(/name="consent" value="on"(?![^>]*checked)/);
    expect(res.text).toMatch(/name="website"/);
    expect(res.text).toMatch(/href="\/terms"/);
    expect((await request(server()).get('/terms').expect(200)).text).toMatch(/STOP/);
    expect((await request(server()).get('/privacy').expect(200)).text).toMatch(/consent/);
    const embed = await request(server()).get('/embed').expect(200);
    expect(embed.headers['content-security-policy']).toBe('frame-ancestors *');
    expect(embed.text).toContain('target="_top"');
  });

  it('signs up by form, confirms by the emailed link (single use), and starts the drip', async () => {
    const res = await request(server())
      .post('/subscriptions')
      .type('form')
      .set('User-Agent', 'test-browser/1')
      .send({ ...form, email: 'Ann@Example.com' })
      .expect(202);
    expect(res.text).toMatch(/Check your inbox/);
    const enrollment = await tdb.db.selectFrom('enrollments').selectAll().executeTakeFirstOrThrow();
    expect(enrollment).toMatchObject({ status: 'pending', next_send_at: null });
    const event = await tdb.db.selectFrom('consent_events').selectAll().executeTakeFirstOrThrow();
    expect(event).toMatchObject({
      kind: 'requested',
      source: 'web-form',
      text_version: 'signup-v2',
      user_agent: 'test-browser/1',
    });
    expect(event.ip).toBeTruthy();

    const confirmMail = await waitFor(
      () => mailsTo(smtp, 'ann@example.com')[0],
      'the confirmation email',
    );
    expect(confirmMail.subject).toMatch(/confirm/i);
    const path = linkPath(confirmMail, 'confirm');
    expect(path).not.toMatch(/ann|example|[0-9a-f]{8}-[0-9a-f]{4}/i); // opaque: no address or id
    // Opening the link (as a mail scanner does, several times) only shows a button.
    for (let i = 0; i < 3; i++) {
      const page = await request(server()).get(path).expect(200);
      expect(page.text).toMatch(/Confirm your signup/);
      expect(page.text).toContain(`<form method="post" action="${path}">`);
    }
    expect(
      (
        await tdb.db
          .selectFrom('enrollments')
          .select('status')
          .where('id', '=', enrollment.id)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('pending');
    expect((await request(server()).post(path).expect(200)).text).toMatch(/You&#x27;re in/);
    expect((await request(server()).post(path).expect(200)).text).toMatch(/Already confirmed/);
    expect((await request(server()).get(path).expect(200)).text).toMatch(/Already confirmed/);
    const active = await tdb.db
      .selectFrom('enrollments')
      .selectAll()
      .where('id', '=', enrollment.id)
      .executeTakeFirstOrThrow();
    expect(active.status).toBe('active');

    await waitFor(() => mailsTo(smtp, 'ann@example.com').length >= 2, 'the welcome message');
    const welcome = mailsTo(smtp, 'ann@example.com')[1]!;
    const header = (name: string) =>
      welcome.headerLines
        .find((h) => h.key === name)
        ?.line.replace(/^[^:]+:\s*/, '')
        .replace(/\s+/g, ' ');
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header('list-unsubscribe')).toMatch(
      /^<https:\/\/drip\.example\/unsubscribe\/[A-Za-z0-9_-]+>, <mailto:help@drip\.example\?subject=unsubscribe>$/,
    );
    expect(welcome.replyTo?.text).toBe('help@drip.example');
    expect(welcome.text).toMatch(/https:\/\/drip\.example\/unsubscribe\//);
    expect(welcome.text).toContain('Selfcare Drip, 1 Example Street');
  });

  it('does not duplicate a repeat signup, and answers the same whether or not the address is known', async () => {
    const before = await counts();
    const known = await request(server())
      .post('/subscriptions')
      .send({ ...form, email: 'ann@example.com' })
      .expect(202);
    const unknown = await request(server())
      .post('/subscriptions')
      .send({ ...form, email: 'someone-new@example.com' })
      .expect(202);
    expect(known.body).toEqual(unknown.body);
    const after = await counts();
    expect(after.subscribers).toBe(before.subscribers + 1); // only the new person
    expect(after.enrollments).toBe(before.enrollments + 1);
    const mails = await waitFor(
      () => mailsTo(smtp, 'someone-new@example.com')[0],
      'the new confirmation',
    );
    expect(mails.subject).toMatch(/confirm/i);
    // A second signup while still unconfirmed within a minute sends no second confirmation.
    await request(server())
      .post('/subscriptions')
      .send({ ...form, email: 'someone-new@example.com' })
      .expect(202);
    clock.advance(2 * 60_000);
    await request(server())
      .post('/subscriptions')
      .send({ ...form, email: 'someone-new@example.com' })
      .expect(202);
    await waitFor(
      () => mailsTo(smtp, 'someone-new@example.com').length === 2,
      'exactly one resend',
    );
    // Let a third one arrive if anything was going to send it.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(mailsTo(smtp, 'someone-new@example.com')).toHaveLength(2);
    expect(await count('enrollments')).toBe(after.enrollments);
  });

  it('shows "get care now" for a ticked red flag and enrols no one', async () => {
    const before = await counts();
    const page = await request(server())
      .post('/subscriptions')
      .type('form')
      .send({ ...form, email: 'flag@example.com', redFlags: 'chest' })
      .expect(200);
    expect(page.text).toMatch(/emergency/i);
    expect(page.text).toMatch(/Chest pain/);
    const json = await request(server())
      .post('/subscriptions')
      .send({ ...form, email: 'flag@example.com', redFlags: ['fever', 'numb'] })
      .expect(200);
    expect(json.body).toMatchObject({
      status: 'not-enrolled',
      reason: 'red-flags',
      emergency: false,
    });
    expect(await counts()).toEqual(before);
  });

  it('silently drops a bot that fills the honeypot', async () => {
    const before = await counts();
    const res = await request(server())
      .post('/subscriptions')
      .send({ ...form, email: 'bot@example.com', website: 'http://spam.example' })
      .expect(202);
    expect(res.body.status).toBe('pending-confirmation');
    expect(await counts()).toEqual(before);
  });

  it.each([
    // With only one of them, the channel follows from it (test/signup-form.test.ts).
    [
      'missing channel with both an address and a number',
      { ...form, channel: undefined, email: 'x@example.com', phone: '+1 213 373 4253' },
      'channel',
    ],
    ['missing zone', { ...form, timezone: undefined, email: 'x@example.com' }, 'timezone'],
    ['unknown zone', { ...form, timezone: 'Mars/Olympus', email: 'x@example.com' }, 'timezone'],
    ['missing email', { ...form }, 'email'],
    ['bad email', { ...form, email: 'nope' }, 'email'],
    ['bad number', { ...form, channel: 'sms', phone: '+1 555' }, 'phone'],
    ['no consent', { ...form, consent: undefined, email: 'x@example.com' }, 'consent'],
    ['wrong type', { ...form, email: 'x@example.com', name: { first: 'A' } }, 'name'],
    ['10 kB name', { ...form, email: 'x@example.com', name: 'n'.repeat(10_000) }, 'name'],
    [
      'CRLF in name',
      { ...form, email: 'x@example.com', name: 'Ann\r\nBcc: all@example.com' },
      'name',
    ],
    ['unknown red flag', { ...form, email: 'x@example.com', redFlags: 'cough' }, 'redFlags'],
    ['unknown campaign', { ...form, email: 'x@example.com', campaign: 'nope' }, 'campaign'],
    ['unknown field', { ...form, email: 'x@example.com', admin: 'yes' }, 'admin'],
  ])(
    'refuses %s with a 400 naming the field, as JSON and as a form page, storing nothing',
    async (_what, body, field) => {
      const before = await counts();
      const json = await request(server()).post('/subscriptions').send(body).expect(400);
      expect(json.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      const page = await request(server())
        .post('/subscriptions')
        .type('form')
        .send(body as object)
        .expect(400);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.text).toMatch(/Please check the form/);
      expect(await counts()).toEqual(before);
    },
  );

  it('escapes markup in names in pages and emails', async () => {
    const name = '<script>alert(1)</script>';
    const page = await request(server())
      .post('/subscriptions')
      .type('form')
      .send({ ...form, name, email: 'bad' })
      .expect(400);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    await request(server())
      .post('/subscriptions')
      .send({ ...form, name, email: 'markup@example.com' })
      .expect(202);
    const mail = await waitFor(() => mailsTo(smtp, 'markup@example.com')[0], 'the confirmation');
    expect(mail.html).not.toContain('<script>');
  });

  it('answers forged and expired tokens with a friendly 400 page and changes nothing', async () => {
    const before = await counts();
    for (const path of [
      '/confirm/forged-token-forged-token-forged-token-forged',
      '/unsubscribe/AAAA',
      '/preferences/%3Cscript%3E',
    ]) {
      const res = await request(server()).get(path).expect(400);
      expect(res.text).toMatch(/This link does not work/);
    }
    await request(server())
      .post('/unsubscribe/not-a-real-token-not-a-real-token-not-a-real')
      .expect(400);
    await request(server())
      .post('/confirm/forged-token-forged-token-forged-token-forged')
      .expect(400);
    const tokens = t.get(TokensService);
    const sub = await tdb.db
      .selectFrom('subscribers')
      .select('id')
      .where('email', '=', 'ann@example.com')
      .executeTakeFirstOrThrow();
    // A valid token for another purpose does not unsubscribe.
    await request(server())
      .post(`/unsubscribe/${tokens.issue('preferences', sub.id, 60)}`)
      .expect(400);
    const expired = tokens.issue('unsubscribe', `${sub.id}.email`, 60);
    clock.advance(120_000);
    await request(server()).post(`/unsubscribe/${expired}`).expect(400);
    expect(await counts()).toEqual(before);
  });

  it('lets the preferences page change the time, pause for N days and resume', async () => {
    const welcome = mailsTo(smtp, 'ann@example.com')[1]!;
    const path = linkPath(welcome, 'preferences');
    const page = await request(server()).get(path).expect(200);
    expect(page.text).toMatch(/Upper-Back Relief/);
    await request(server())
      .post(path)
      .type('form')
      .send({ action: 'update', sendTime: '19:30', timezone: 'America/New_York' })
      .expect(200); // the page again, with what was saved: nothing was created
    const e = await annEnrollment();
    expect(e).toMatchObject({ send_time: '19:30', timezone: 'America/New_York' });
    const bad = await request(server())
      .post(path)
      .type('form')
      .send({ action: 'pause', days: '400' })
      .expect(400);
    expect(bad.text).toMatch(/days: must be a whole number from 1 to 30/);
    await request(server())
      .post(path)
      .type('form')
      .send({ action: 'pause', days: '3' })
      .expect(200);
    const paused = await tdb.db
      .selectFrom('enrollments')
      .selectAll()
      .where('id', '=', e.id)
      .executeTakeFirstOrThrow();
    expect(paused.status).toBe('paused');
    expect(paused.paused_until!.getTime() - clock.now().getTime()).toBe(3 * 24 * 3600_000);
    clock.advance(3 * 24 * 3600_000 + 1000);
    expect((await t.get(SchedulerService).housekeeping()).resumed).toBe(1);
    expect(
      (
        await tdb.db
          .selectFrom('enrollments')
          .select('status')
          .where('id', '=', e.id)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('active');
    await request(server()).post(path).type('form').send({ action: 'explode' }).expect(400);
  });

  it('unsubscribes on an RFC 8058 one-click POST without cookies, and not on GET', async () => {
    const welcome = mailsTo(smtp, 'ann@example.com')[1]!;
    const path = linkPath(welcome, 'unsubscribe');
    const page = await request(server()).get(path).expect(200);
    expect(page.text).toMatch(/<form method="post"/);
    expect(await count('suppressions')).toBe(0);
    const res = await request(server())
      .post(path)
      .type('form')
      .send('List-Unsubscribe=One-Click')
      .expect(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers.location).toBeUndefined();
    const suppressed = await tdb.db
      .selectFrom('suppressions')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(suppressed).toMatchObject({ address: 'ann@example.com', channel: 'email' });
    const e = await annEnrollment();
    expect(e).toMatchObject({ status: 'cancelled', cancel_reason: 'unsubscribe' });
    await request(server()).post(path).expect(200); // repeatable
    expect(await count('suppressions')).toBe(1);
  });

  it('exports the consent evidence, with the words agreed to', async () => {
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const { body } = await request(server())
      .get('/api/v1/admin/subscribers?email=ann@example.com')
      .set(auth)
      .expect(200);
    const evidence = await request(server())
      .get(`/api/v1/admin/subscribers/${body.id}/consent`)
      .set(auth)
      .expect(200);
    expect(evidence.body.consentEvents.map((e: { kind: string }) => e.kind)).toEqual([
      'requested',
      'confirmed',
      'requested',
      'withdrawn',
    ]);
    expect(evidence.body.consentEvents[0].text).toMatch(/Msg & data rates may apply/);
    expect(evidence.body.suppressions).toHaveLength(1);
    await request(server()).get('/api/v1/admin/subscribers/nope/consent').set(auth).expect(404);
    await request(server()).get('/api/v1/admin/subscribers?email=bad').set(auth).expect(400);
  });

  it('deletes signups never confirmed after a few days', async () => {
    const pending = Number(
      (
        await tdb.db
          .selectFrom('enrollments')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', 'pending')
          .executeTakeFirstOrThrow()
      ).n,
    );
    expect(pending).toBeGreaterThan(0);
    clock.advance(5 * 24 * 3600_000);
    expect((await t.get(SchedulerService).housekeeping()).expired).toBe(pending);
    expect(
      await tdb.db
        .selectFrom('subscribers')
        .select('id')
        .where('email', '=', 'someone-new@example.com')
        .executeTakeFirst(),
    ).toBeUndefined();
  });

  it('never lets a link scanner lift an opt-out: confirming takes the button', async () => {
    // Someone signs up an address that unsubscribed; its mail scanner opens the link.
    const address = 'scanned@example.com';
    await request(server())
      .post('/subscriptions')
      .send({ ...form, email: address })
      .expect(202);
    const first = await waitFor(() => mailsTo(smtp, address)[0], 'the confirmation');
    await request(server()).post(linkPath(first, 'confirm')).expect(200);
    const welcome = await waitFor(() => mailsTo(smtp, address)[1], 'the welcome');
    await request(server()).post(linkPath(welcome, 'unsubscribe')).expect(200);
    clock.advance(5 * 60_000);
    await request(server())
      .post('/subscriptions')
      .send({ ...form, email: address, campaign: 'upper-back-relief-demo' })
      .expect(202);
    const again = await waitFor(() => mailsTo(smtp, address)[2], 'the second confirmation');
    const suppressed = () =>
      tdb.db.selectFrom('suppressions').select('reason').where('address', '=', address).execute();
    expect(await suppressed()).toHaveLength(1);
    for (let i = 0; i < 3; i++) await request(server()).get(linkPath(again, 'confirm')).expect(200);
    expect(await suppressed()).toHaveLength(1);
    const events = await tdb.db
      .selectFrom('consent_events')
      .innerJoin('subscribers', 'subscribers.id', 'consent_events.subscriber_id')
      .select('kind')
      .where('subscribers.email', '=', address)
      .orderBy('consent_events.created_at')
      .execute();
    expect(events.map((e) => e.kind)).toEqual(['requested', 'confirmed', 'withdrawn', 'requested']);
  });
});

describe('signup rate limit', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();
  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      env: { ROLE: 'api', SIGNUP_RATE_PER_MINUTE: '3' },
    });
  });
  afterAll(async () => {
    await t.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  it('does not offer the demo campaign for signup in production', async () => {
    // Its own prefix: the signup limit's counts live in Redis, shared by instances on one.
    const prodPrefix = uniquePrefix();
    const prod = await startApp({
      databaseUrl: tdb.url,
      prefix: prodPrefix,
      env: { ROLE: 'api', NODE_ENV: 'production', PUBLIC_URL: 'https://drip.example' },
    });
    try {
      const res = await request(prod.app.getHttpServer())
        .post('/subscriptions')
        .send({
          channel: 'email',
          email: 'd@example.com',
          timezone: 'UTC',
          consent: true,
          campaign: 'upper-back-relief-demo',
        })
        .expect(400);
      expect(res.body.message).toMatch(/^campaign: .* is a demo/);
    } finally {
      await prod.close();
      await dropPrefix(prodPrefix);
    }
  });

  it('answers 429 once one address posts too many signups in a minute', async () => {
    const body = { channel: 'email', email: 'r@example.com', timezone: 'UTC', consent: true };
    for (let i = 0; i < 3; i++)
      await request(t.app.getHttpServer()).post('/subscriptions').send(body).expect(202);
    await request(t.app.getHttpServer()).post('/subscriptions').send(body).expect(429);
  });
});
