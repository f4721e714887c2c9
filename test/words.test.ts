import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { linkPath, mailsTo } from './support/mail.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

/** Text as a person reads it: tags gone, entities decoded, white space collapsed. */
const readable = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/**
 * What the pages and messages say matches what happens (issue 7, item 14): the sender named
 * once, the footer true to how the person joined, no "you joined" before they have, STOP
 * once, the number of messages, no daily claim for the demo, and who answers for the data.
 */
describe('the words a person reads are right', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let t: TestApp;
  const prefix = uniquePrefix();
  const outbox = mkdtempSync(join(tmpdir(), 'sd-words-'));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      outboxDir: outbox,
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL: 'https://drip.example',
        MAIL_REPLY_TO: 'help@drip.example',
        SIGNUP_RATE_PER_MINUTE: '1000',
        // Written the way the old default was: the name in front of the address.
        SENDER_ADDRESS: 'Selfcare Drip, 1 Example Street, Springfield',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
    rmSync(outbox, { recursive: true, force: true });
  });

  const server = () => t.app.getHttpServer();
  const page = async (path: string) =>
    readable((await request(server()).get(path).expect(200)).text);
  const NAME_ONCE = 'Selfcare Drip, 1 Example Street, Springfield';
  const signUp = (email: string) =>
    request(server())
      .post('/subscriptions')
      .type('form')
      .send({ name: 'Kim', channel: 'email', email, timezone: 'Europe/London', consent: 'on' })
      .expect(202);
  const enrol = (body: object) =>
    request(server())
      .post('/api/v1/admin/enrollments')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ timezone: 'Europe/London', name: 'Ola', ...body })
      .expect(201);

  it('names the sender once in the footer of every page', async () => {
    for (const path of ['/', '/terms', '/privacy']) {
      const text = await page(path);
      expect([path, text.includes(NAME_ONCE)]).toEqual([path, true]);
      expect([path, /Selfcare Drip, Selfcare Drip/.test(text)]).toEqual([path, false]);
    }
  });

  it('names the data controller, a contact email and an effective date in the terms and privacy notice', async () => {
    for (const path of ['/terms', '/privacy']) {
      const html = (await request(server()).get(path).expect(200)).text;
      expect(readable(html)).toMatch(/Effective from \d{1,2} [A-Z][a-z]+ \d{4}/);
      expect(html).toContain('href="mailto:help@drip.example"');
    }
    expect(await page('/privacy')).toContain(`The data controller is ${NAME_ONCE}.`);
    expect(await page('/terms')).toContain(NAME_ONCE);
  });

  it('says on the form, and stores as agreed, how many messages come and how often', async () => {
    const text = await page('/');
    expect(text).toMatch(/7 messages by email or text, never more than one a day/);
    const consent =
      'I agree to receive Upper-Back Relief from Selfcare Drip by the channel I chose: 7 messages, ' +
      'at most one a day (a welcome, 5 self-care tips and a recap).';
    expect(text).toContain(consent);
    expect(text).not.toMatch(/one self-care message a day for 5 days/);

    await signUp('lee@example.com');
    const event = await tdb.db
      .selectFrom('consent_events as c')
      .innerJoin('subscribers as s', 's.id', 'c.subscriber_id')
      .selectAll('c')
      .where('s.email', '=', 'lee@example.com')
      .executeTakeFirstOrThrow();
    expect(event.text_version).toBe('signup-v2');
    expect(text).toContain(event.text!); // the words stored are the words shown
  });

  it('does not claim a daily cadence on the demo page', async () => {
    const text = await page('/?campaign=upper-back-relief-demo');
    expect(text).not.toMatch(/\ba day\b|\bdaily\b|each day|every day/i);
    expect(text).toMatch(/7 messages, one every 10 seconds/);
  });

  it('sends a confirmation that counts 7 messages and does not say "because you joined"', async () => {
    await signUp('kim@example.com');
    const mail = await waitFor(() => mailsTo(smtp, 'kim@example.com')[0], 'the confirmation');
    expect(mail.text).not.toMatch(/because you joined/);
    expect(mail.text).toMatch(/this address was entered on the signup form for Upper-Back Relief/);
    expect(mail.text).toMatch(/one short self-care tip a day for 5 days, then a recap/);
    expect(mail.text).toMatch(/7 messages in all/);
    expect(mail.text).toContain(NAME_ONCE);
    expect(mail.text).not.toMatch(/Selfcare Drip, Selfcare Drip/);
  });

  it('tells a person who signed up on the form, once confirmed, that they did', async () => {
    const confirm = mailsTo(smtp, 'kim@example.com')[0]!;
    await request(server()).post(linkPath(confirm, 'confirm')).expect(200);
    const welcome = await waitFor(() => mailsTo(smtp, 'kim@example.com')[1], 'the welcome');
    expect(welcome.text).toMatch(/because you signed up for Upper-Back Relief on our website/);
    expect(welcome.text).toMatch(/7 messages in all, counting this one/);
  });

  it('never tells someone an operator enrolled that they joined on the website', async () => {
    await enrol({ campaign: 'upper-back-relief', channel: 'email', email: 'ola@example.com' });
    const welcome = await waitFor(() => mailsTo(smtp, 'ola@example.com')[0], 'the welcome');
    for (const body of [welcome.text!, readable(String(welcome.html))]) {
      expect(body).not.toMatch(/website/);
      expect(body).toMatch(/you agreed to receive Upper-Back Relief and our team enrolled you/);
    }
  });

  it('says STOP once in the SMS welcome', async () => {
    await enrol({ campaign: 'upper-back-relief-demo', channel: 'sms', phone: '+12133734253' });
    const file = await waitFor(
      () => readdirSync(outbox).find((f) => f.endsWith('.sms.txt')),
      'the welcome text',
    );
    const body = readFileSync(join(outbox, file), 'utf8');
    expect(body).toMatch(/Welcome to Upper-Back Relief/);
    expect(body.match(/\bSTOP\b/g)).toHaveLength(1);
  });
});
