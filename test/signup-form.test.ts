import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { countRows, createTestDatabase, type TestDatabase } from './support/db.js';

/** The summary's links, as [href, text] pairs, in page order. */
const summary = (html: string): [string, string][] => {
  const box = /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)?.[0] ?? '';
  return [...box.matchAll(/<a href="([^"]+)">([^<]*)<\/a>/g)].map((m) => [
    m[1]!,
    m[2]!.replace(/&#x27;/g, "'").replace(/&quot;/g, '"'),
  ]);
};

/**
 * What a person sees when the form goes wrong (issue 7, item 13): every problem at once,
 * under the label they can see, linked to the field; the channel taken from the address they
 * gave; a page, not JSON, when they post too often; a 404 page for a dead campaign link; a
 * button that calls the emergency number; a favicon.
 */
describe('the signup form as a person meets it', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      env: { ROLE: 'api', SIGNUP_RATE_PER_MINUTE: '1000', EMERGENCY_NUMBER: '999' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const server = () => t.app.getHttpServer();
  const everything = async () => ({
    subscribers: await countRows(tdb.db, 'subscribers'),
    enrollments: await countRows(tdb.db, 'enrollments'),
    consent: await countRows(tdb.db, 'consent_events'),
  });
  const wrong = {
    channel: 'email',
    email: 'nope',
    timezone: 'Mars/Olympus',
    sendTime: '25:00',
  };

  it('lists every problem at once, each under its visible label and linked to its field', async () => {
    const before = await everything();
    const res = await request(server()).post('/subscriptions').type('form').send(wrong).expect(400);
    expect(summary(res.text)).toEqual([
      ['#email', 'Email address: enter an address like name@example.com'],
      ['#timezone', 'Your time zone: choose your time zone from the list'],
      ['#sendTime', 'What time of day? Enter a time like 08:00'],
      ['#consent', 'Your agreement: tick the box to agree to receive the messages'],
    ]);
    // Each link lands on a control of the form.
    for (const [href] of summary(res.text)) expect(res.text).toContain(`id="${href.slice(1)}"`);
    // The same words beside each field, and the API's terse ones nowhere.
    expect(res.text).toMatch(/id="email-error">[^<]*<span[^>]*>Error:<\/span> Enter an address/);
    expect(res.text).not.toMatch(/is not a valid email address|must be an IANA/);
    expect(res.text).toMatch(/<title>Error: Join /);
    expect(res.text).toContain('value="nope"'); // what was typed stays
    expect(await everything()).toEqual(before);
  });

  it('gives a JSON client every problem too, each message starting with the field', async () => {
    const res = await request(server()).post('/subscriptions').send(wrong).expect(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'email',
      'timezone',
      'sendTime',
      'consent',
    ]);
    expect(res.body.message).toMatch(/^email: is not a valid email address; timezone: /);
  });

  it('asks for a choice of channel only when the person gave both an address and a number', async () => {
    const base = { timezone: 'Europe/London', consent: 'on' };
    const email = await request(server())
      .post('/subscriptions')
      .type('form')
      .send({ ...base, email: 'only-email@example.com' })
      .expect(202);
    expect(email.text).toMatch(/Check your inbox/);
    const sms = await request(server())
      .post('/subscriptions')
      .type('form')
      .send({ ...base, phone: '+1 213 373 4253' })
      .expect(202);
    expect(sms.text).toMatch(/Check your phone/);
    const rows = await tdb.db
      .selectFrom('enrollments as e')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .select(['e.channel', 's.email', 's.phone'])
      .execute();
    expect(rows).toEqual(
      expect.arrayContaining([
        { channel: 'email', email: 'only-email@example.com', phone: null },
        { channel: 'sms', email: null, phone: '+12133734253' },
      ]),
    );
    const both = await request(server())
      .post('/subscriptions')
      .type('form')
      .send({ ...base, email: 'both@example.com', phone: '+1 213 373 4254' })
      .expect(400);
    expect(summary(both.text)).toEqual([
      ['#channel-email', 'How should we send your tips? Choose email or text message'],
    ]);
  });

  it('answers a ticked warning sign with "get care now" and a button that calls, whatever else is wrong', async () => {
    const before = await everything();
    const res = await request(server())
      .post('/subscriptions')
      .type('form')
      .send({ redFlags: 'chest', email: 'nope' })
      .expect(200);
    expect(res.text).toMatch(/Please get emergency help now/);
    expect(res.text).toContain('<a class="button danger" href="tel:999">Call 999</a>');
    const soon = await request(server())
      .post('/subscriptions')
      .type('form')
      .send({ redFlags: 'fever' })
      .expect(200);
    expect(soon.text).toMatch(/Please see a doctor first/);
    expect(soon.text).toContain('href="tel:999"');
    expect(await everything()).toEqual(before);
  });

  it('answers an unknown ?campaign= with a 404 page', async () => {
    for (const path of ['/?campaign=nope', '/embed?campaign=nope', '/?campaign=a&campaign=b']) {
      const res = await request(server()).get(path).expect(404);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toMatch(/Page not found/);
      expect(res.text).not.toMatch(/<form/);
    }
    await request(server()).get('/?campaign=upper-back-relief-demo').expect(200);
  });

  it('serves a favicon drawn here, linked from every page', async () => {
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const res = await request(server()).get(path).expect(200);
      expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
      expect(String(res.body)).toMatch(/^<svg /);
    }
    for (const path of ['/', '/terms', '/privacy']) {
      const res = await request(server()).get(path).expect(200);
      expect(res.text).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
    }
  });
});

describe('the signup form over the rate limit', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      env: { ROLE: 'api', SIGNUP_RATE_PER_MINUTE: '1' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  it('gives a person a page and an API client JSON, both 429 with Retry-After', async () => {
    const server = t.app.getHttpServer();
    const body = { channel: 'email', email: 'r@example.com', timezone: 'UTC', consent: 'on' };
    await request(server).post('/subscriptions').type('form').send(body).expect(202);
    const page = await request(server)
      .post('/subscriptions')
      .type('form')
      .set('Accept', 'text/html,application/xhtml+xml')
      .send(body)
      .expect(429);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['retry-after']).toMatch(/^\d+$/);
    expect(page.text).toMatch(/<h1>Please wait a minute<\/h1>/);
    expect(page.text).toContain('href="/"');
    const json = await request(server).post('/subscriptions').send(body).expect(429);
    expect(json.headers['content-type']).toMatch(/application\/json/);
    expect(json.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
  });
});
