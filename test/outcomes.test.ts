import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import twilio from 'twilio';
import { ManualClock } from '../src/common/clock.js';
import { NotFound } from '../src/common/index.js';
import { OutcomesService } from '../src/outcomes/index.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, twilioEnv, type FakeTwilio } from './support/fake-twilio.js';
import { deliveriesOf, enrol } from './support/journey.js';
import { mailsTo } from './support/mail.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

const PUBLIC_URL = 'https://drip.example';
const INBOUND = '/webhooks/twilio/inbound';

/**
 * Pain outcomes end to end (docs/outcomes.md): the check-in rides on its step's delivery (the
 * welcome and the wrap-up of the demo campaign), email answers through one-tap links (GET
 * shows, POST records, once per check-in), text answers through 0-10 replies, the rating of
 * change at the wrap-up, the worsening flag and the clinic's view, within its own tenancy.
 */
describe('pain outcomes', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let fake: FakeTwilio;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T15:00:00Z'));
  let clinicA: string;
  let clinicB: string;
  let emailPatient: string; // enrolment ids
  let smsPatient: string;
  const EMAIL = 'outcomes-ada@example.com';
  const PHONE = '+12133734901';

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    fake = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: { SMTP_URL: smtp.url, ...twilioEnv(fake), PUBLIC_URL, SEND_BACKOFF_MS: '100' },
    });
    const clinic = async (name: string) =>
      (
        await request(server())
          .post('/api/v1/admin/clinics')
          .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
          .send({
            name,
            timezone: 'Europe/London',
            senderName: name,
            replyTo: 'desk@clinic.example',
            phone: '+44 20 7946 0000',
            postalAddress: '1 High Street, London',
            bookingUrl: 'https://clinic.example/book',
          })
          .expect(201)
      ).body.id as string;
    clinicA = await clinic('Clinic A');
    clinicB = await clinic('Clinic B');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const server = () => t.app.getHttpServer();
  const mails = () => mailsTo(smtp, EMAIL);
  const texts = () => fake.messages.filter((m) => m.to === PHONE);
  /** The paths of the one-tap links in a mail's HTML, in order. */
  const oneTap = (mail: ParsedMail) =>
    [...String(mail.html).matchAll(/href="https:\/\/drip\.example(\/o\/[A-Za-z0-9_-]+)"/g)].map(
      (m) => m[1]!,
    );
  const answers = (enrollmentId: string) =>
    tdb.db
      .selectFrom('pain_scores')
      .selectAll()
      .where('enrollment_id', '=', enrollmentId)
      .orderBy('created_at')
      .orderBy('kind')
      .execute();
  const sentDelivery = (enrollmentId: string, stepKey: string) =>
    waitFor(
      async () =>
        (await deliveriesOf(tdb.db, enrollmentId)).find(
          (d) => d.step_key === stepKey && d.status === 'sent',
        ),
      `${stepKey} to be sent`,
    );
  const textIn = (body: string) => {
    const params = {
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      AccountSid: fake.accountSid,
      From: PHONE,
      To: '+15005550006',
      Body: body,
    };
    return request(server())
      .post(INBOUND)
      .type('form')
      .set(
        'X-Twilio-Signature',
        twilio.getExpectedTwilioSignature(fake.authToken, `${PUBLIC_URL}${INBOUND}`, params),
      )
      .send(new URLSearchParams(params).toString())
      .expect(200);
  };

  it('asks the 0-10 question with the welcome: 11 one-tap links by email, a number reply by SMS', async () => {
    emailPatient = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'email',
      email: EMAIL,
      name: 'Ada',
      timezone: 'Europe/London',
    });
    smsPatient = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'sms',
      phone: PHONE,
      name: 'Sam',
      timezone: 'Europe/London',
    });
    // Both are Clinic A's patients.
    await tdb.db
      .updateTable('enrollments')
      .set({ clinic_id: clinicA })
      .where('id', 'in', [emailPatient, smsPatient])
      .execute();
    const welcome = await waitFor(() => mails()[0], 'the welcome email');
    const links = oneTap(welcome);
    expect(links).toHaveLength(11);
    expect(new Set(links).size).toBe(11);
    expect(welcome.text).toMatch(/HOW BAD IS THE PAIN BETWEEN YOUR SHOULDER BLADES TODAY\?/);
    expect(welcome.text).toMatch(/from 0 \(no pain\) to 10 \(the worst pain you can imagine\)/);
    expect(welcome.text).toMatch(/^10: https:\/\/drip\.example\/o\/[A-Za-z0-9_-]+$/m);

    const sms = await waitFor(() => texts()[0], 'the welcome text');
    expect(sms.body).toContain(
      'Pain between your shoulder blades today? Reply 0-10 (0 = none, 10 = worst imaginable).',
    );
    expect(sms.body).toMatch(/Reply HELP for help, STOP to opt out/);
  });

  it('records nothing on a GET (a mail scanner), once on the POST, and keeps the latest answer', async () => {
    const links = oneTap(mails()[0]!);
    const welcome = await sentDelivery(emailPatient, 'welcome');

    const page = await request(server()).get(links[5]!).expect(200);
    expect(page.text).toContain('Send your answer?');
    expect(page.text).toContain('5 out of 10');
    expect(page.text).toMatch(/<form method="post" action="\/o\/[A-Za-z0-9_-]+">/);
    expect(page.headers['cache-control']).toBe('no-store');
    await request(server()).get(links[5]!).expect(200);
    expect(await answers(emailPatient)).toHaveLength(0);

    const thanks = await request(server()).post(links[5]!).type('form').send('').expect(200);
    expect(thanks.text).toContain('We noted your pain today as 5 out of 10.');
    await request(server()).post(links[5]!).type('form').send('').expect(200);
    expect(await answers(emailPatient)).toEqual([
      expect.objectContaining({
        kind: 'nprs',
        score: 5,
        source: 'email-link',
        delivery_id: welcome.id,
        clinic_id: clinicA,
        updated_at: null,
      }),
    ]);

    // A second, different answer to the same check-in replaces the first.
    const again = await request(server()).get(links[4]!).expect(200);
    expect(again.text).toMatch(/You answered <strong>5 out of 10<\/strong> before/);
    await request(server()).post(links[4]!).type('form').send('').expect(200);
    const [only, ...rest] = await answers(emailPatient);
    expect(rest).toHaveLength(0);
    expect(only).toMatchObject({ score: 4, delivery_id: welcome.id });
    expect(only!.updated_at).not.toBeNull();
  });

  it('answers a broken or altered link with a friendly 4xx page, storing nothing', async () => {
    const good = oneTap(mails()[0]!)[3]!;
    const before = (await answers(emailPatient)).length;
    const altered = good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA');
    for (const path of [altered, '/o/nonsense', good.slice(0, 20)]) {
      for (const res of [
        await request(server()).get(path),
        await request(server()).post(path).type('form').send(''),
      ]) {
        expect([path, res.status]).toEqual([path, 400]);
        expect(res.text).toContain('This link does not work');
        expect(res.headers['content-type']).toMatch(/text\/html/);
      }
    }
    expect(await answers(emailPatient)).toHaveLength(before);
  });

  it('stores a 0-10 text reply against the enrolment and the check-in it answers', async () => {
    const welcome = await sentDelivery(smsPatient, 'welcome');
    const res = await textIn('6');
    expect(res.text).toMatch(/logged your pain score of 6 out of 10/);
    const [row, ...rest] = await answers(smsPatient);
    expect(rest).toHaveLength(0);
    expect(row).toMatchObject({
      kind: 'nprs',
      score: 6,
      source: 'sms',
      delivery_id: welcome.id,
      clinic_id: clinicA,
      inbound_message_id: expect.any(String),
    });
  });

  it('asks for the rating of change at the wrap-up: 7 links by email, a page by SMS; both stored', async () => {
    for (let n = 2; n <= 7; n++) {
      clock.advance(10_000);
      await waitFor(() => mails().length >= n && texts().length >= n, `message ${n} of both`);
      if (n < 7) expect(oneTap(mails()[n - 1]!)).toHaveLength(0); // tips ask nothing
    }
    const wrapUp = mails()[6]!;
    const links = oneTap(wrapUp);
    expect(links).toHaveLength(11 + 7);
    expect(wrapUp.text).toMatch(/SINCE YOU STARTED, HOW IS YOUR BACK OVERALL\?\nMuch better: /);
    await sentDelivery(emailPatient, 'wrap-up');

    // Pain 6 (baseline 4: two points worse), and "a little worse".
    await request(server()).post(links[6]!).type('form').send('').expect(200);
    const rated = await request(server())
      .post(links[11 + 4]!)
      .type('form')
      .send('')
      .expect(200);
    expect(rated.text).toContain('We noted your answer: A little worse.');
    expect((await answers(emailPatient)).map((a) => [a.kind, a.score])).toEqual([
      ['nprs', 4],
      ['groc', -1],
      ['nprs', 6],
    ]);

    const sms = texts()[6]!;
    expect(sms.body).toContain('Pain between your shoulder blades today? Reply 0-10');
    const page = /Better or worse since day 1\? https:\/\/drip\.example(\/o\/[A-Za-z0-9_-]+)/.exec(
      sms.body,
    )![1]!;
    const choices = await request(server()).get(page).expect(200);
    expect(choices.text.match(/<button type="submit" name="value"/g)).toHaveLength(7);
    expect(choices.text).toContain('value="a-little-better"');
    const bad = await request(server()).post(page).type('form').send('value=bogus').expect(400);
    expect(bad.text).toContain('value: choose one of the answers on the page');
    await sentDelivery(smsPatient, 'wrap-up');
    await request(server()).post(page).type('form').send('value=a-little-better').expect(200);
    await textIn('7');
    const wrapDelivery = await sentDelivery(smsPatient, 'wrap-up');
    expect(
      (await answers(smsPatient)).map((a) => [a.kind, a.score, a.source, a.delivery_id]),
    ).toEqual([
      ['nprs', 6, 'sms', expect.any(String)],
      ['groc', 1, 'sms-link', wrapDelivery.id],
      ['nprs', 7, 'sms', wrapDelivery.id],
    ]);
  });

  it('flags a patient 2 points worse than baseline, not one 1 point worse', async () => {
    const outcomes = t.get(OutcomesService);
    const ada = await outcomes.forPatient(clinicA, emailPatient);
    expect(ada).toMatchObject({
      baseline: { score: 4 },
      latest: { score: 6 },
      change: 2,
      worsened: true,
      rating: { value: -1, label: 'A little worse' },
    });
    expect(ada.scores.map((s) => [s.score, s.source, s.checkIn])).toEqual([
      [4, 'email-link', true],
      [6, 'email-link', true],
    ]);
    expect(ada.chartSvg).toMatch(/^<svg [^>]*role="img"/);
    expect(ada.chartTable.rows.map((r) => r[1])).toEqual(['4', '6']);

    const sam = await outcomes.forPatient(clinicA, smsPatient);
    expect(sam).toMatchObject({
      baseline: { score: 6 },
      latest: { score: 7 },
      change: 1,
      worsened: false,
      rating: { value: 1, label: 'A little better' },
    });

    const clinic = await outcomes.forClinic(clinicA);
    expect(clinic).toMatchObject({
      patientsWithScores: 2,
      patientsWithChange: 2,
      medianChange: 1.5,
      worsened: [{ enrollmentId: emailPatient, baseline: 4, latest: 6, change: 2 }],
    });
    expect(clinic.ratings.filter((r) => r.patients > 0)).toEqual([
      { value: 1, label: 'A little better', patients: 1 },
      { value: -1, label: 'A little worse', patients: 1 },
    ]);
    expect(clinic.weeks).toEqual([{ week: 1, median: 6.5, patients: 2 }]);
    expect(clinic.chartSvg).toContain('n=2');
  });

  it("answers NotFound for another clinic's patient, a malformed id or an unknown clinic", async () => {
    const outcomes = t.get(OutcomesService);
    for (const call of [
      () => outcomes.forPatient(clinicB, emailPatient),
      () => outcomes.forPatient(clinicA, 'not-a-uuid'),
      () => outcomes.forPatient('not-a-uuid', emailPatient),
      () => outcomes.forClinic('00000000-0000-4000-8000-000000000000'),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NotFound);
    }
    expect(await outcomes.forClinic(clinicB)).toMatchObject({
      patientsWithScores: 0,
      worsened: [],
      medianChange: null,
    });
  });
});
