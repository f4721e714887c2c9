import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import twilio from 'twilio';
import { ManualClock } from '../src/common/clock.js';
import { ClinicDirectoryService, ClinicsRepository } from '../src/clinics/index.js';
import { Transactions } from '../src/database/index.js';
import {
  ChannelFaults,
  DeliveriesRepository,
  JobName,
  QueueName,
  QueuesService,
  type JobPayloads,
} from '../src/delivery/index.js';
import { EnrollmentLifecycle } from '../src/enrollments/index.js';
import { Reconciler } from '../src/scheduler/index.js';
import { SubscribersRepository } from '../src/subscribers/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, twilioEnv, type FakeTwilio } from './support/fake-twilio.js';
import { DEMO_STEPS, deliveriesOf, enrol, walkDemo } from './support/journey.js';
import { mailsTo } from './support/mail.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

const PUBLIC_URL = 'https://drip.example';
const SERVICE_NUMBER = '+15005550006';
const RIVERSIDE = {
  slug: 'riverside',
  name: 'Riverside Chiropractic Clinic LLC',
  timezone: 'America/New_York',
  sender_name: 'Riverside Chiropractic',
  reply_to: 'desk@riverside.example',
  phone: '+1 555 010 0123',
  postal_address: '12 River Road, Springfield, ST 00000',
  booking_url: 'https://riverside.example/book',
  chiropractor_name: 'Dr. Ana Ortiz',
  sms_from: '+15005550199',
};
const HILLTOP = {
  ...RIVERSIDE,
  slug: 'hilltop',
  name: 'Hilltop Spine',
  sender_name: 'Hilltop Spine',
  reply_to: 'hello@hilltop.example',
  phone: '+1 555 010 0456',
  postal_address: '3 Hill Street, Springfield',
  booking_url: 'https://hilltop.example/book',
  chiropractor_name: 'Dr. Max Berg',
  sms_from: '+15005550177',
};
/** What a message of the public programme must never carry. */
const RIVERSIDE_DETAILS = [
  'Riverside',
  'Ortiz',
  RIVERSIDE.phone,
  RIVERSIDE.booking_url,
  '12 River Road',
  RIVERSIDE.reply_to,
];

/** Text as a person reads it: tags gone, entities decoded, white space collapsed. */
const readable = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

type SendJobData = JobPayloads[JobName.SendDelivery];

/**
 * Issue 8, B4 and B5: a clinic's patient hears from the clinic (its name, chiropractor,
 * reply-to, phone, booking link and postal address, by email; its own number, by SMS), a
 * public signup hears from the service exactly as before, and each job names the clinic
 * beside the delivery while the worker builds the message from the enrolment's own clinic.
 */
describe('messages of a clinic’s patients carry the clinic’s branding', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let fake: FakeTwilio;
  let t: TestApp;
  let riverside: string;
  const prefix = uniquePrefix();
  // 14:00 in New York: inside the SMS window.
  const clock = new ManualClock(new Date('2026-06-01T18:00:00Z'));
  const jobs: { data: SendJobData; deliveryId: string }[] = [];
  let seq = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    fake = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        ...twilioEnv(fake, SERVICE_NUMBER),
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        MAIL_FROM: 'Selfcare Drip <tips@drip.example>',
        MAIL_REPLY_TO: 'help@drip.example',
        SENDER_ADDRESS: '1 Example Street, Springfield',
        SEND_BACKOFF_MS: '100',
      },
    });
    riverside = (
      await tdb.db.insertInto('clinics').values(RIVERSIDE).returning('id').executeTakeFirstOrThrow()
    ).id;
    // Every send-delivery job any part of the app adds, as BullMQ gets it.
    for (const name of [QueueName.Email, QueueName.Sms]) {
      const queue = t.get(QueuesService).queue(name);
      const addBulk = queue.addBulk.bind(queue);
      jest.spyOn(queue, 'addBulk').mockImplementation(async (list) => {
        for (const j of list)
          if (j.name === JobName.SendDelivery)
            jobs.push({ data: j.data as SendJobData, deliveryId: String(j.opts?.jobId) });
        return addBulk(list);
      });
    }
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  /** Enrols a clinic's patient as the clinic API does, active at once (attested consent). */
  const enrolPatient = async (
    clinicId: string,
    contact: { email?: string; phone?: string },
    campaign = 'upper-back-relief-demo',
  ) => {
    const channel = contact.email ? 'email' : 'sms';
    return t.get(Transactions).run(async (tx) => {
      const s = await t
        .get(SubscribersRepository)
        .findOrCreate(
          tx,
          { email: contact.email ?? null, phone: contact.phone ?? null, name: 'Robin Park' },
          channel,
        );
      const e = await t.get(EnrollmentLifecycle).enrol(tx, {
        subscriber_id: s.id,
        campaign_id: campaign,
        channel,
        timezone: 'America/New_York',
        send_time: '09:00',
        source: 'clinic-api',
        clinic_id: clinicId,
        external_id: null,
      });
      return e!.id;
    });
  };
  const textsTo = (phone: string) => fake.messages.filter((m) => m.to === phone);
  /** The html as read (with where each link goes), and the text part. */
  const readableMail = (m: ParsedMail) => [
    readable(String(m.html).replace(/<a [^>]*href="([^"]*)"[^>]*>/g, ' $1 ')),
    m.text ?? '',
  ];
  const headerOf = (m: ParsedMail, name: string) =>
    m.headerLines
      .find((h) => h.key === name)
      ?.line.replace(/^[^:]+:\s*/, '')
      .replace(/\s+/g, ' ');

  const ids = { clinicEmail: '', clinicSms: '', publicEmail: '', publicSms: '' };

  it('sends each journey once: two patients of the clinic, two people of the public programme', async () => {
    ids.clinicEmail = await enrolPatient(riverside, { email: 'robin@example.com' });
    ids.clinicSms = await enrolPatient(riverside, { phone: '+12133734301' });
    ids.publicEmail = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'email',
      email: 'sam@example.com',
      name: 'Sam Lee',
      timezone: 'America/New_York',
    });
    ids.publicSms = await enrol(t, {
      campaign: 'upper-back-relief-demo',
      channel: 'sms',
      phone: '+12133734302',
      timezone: 'America/New_York',
    });
    await walkDemo(t, () =>
      Math.min(
        mailsTo(smtp, 'robin@example.com').length,
        mailsTo(smtp, 'sam@example.com').length,
        textsTo('+12133734301').length,
        textsTo('+12133734302').length,
      ),
    );
    for (const id of Object.values(ids)) {
      // The last message may be in hand a moment before its send is recorded.
      const deliveries = await waitFor(async () => {
        const rows = await deliveriesOf(tdb.db, id);
        return rows.every((d) => d.status === 'sent') ? rows : null;
      }, 'every send recorded');
      expect(deliveries.map((d) => [d.step_key, d.status])).toEqual(
        DEMO_STEPS.map((k) => [k, 'sent']),
      );
    }
  });

  it("puts the clinic's name, chiropractor, phone, booking link and address in every email, html and text", () => {
    const mails = mailsTo(smtp, 'robin@example.com');
    expect(mails).toHaveLength(DEMO_STEPS.length);
    for (const [i, m] of mails.entries()) {
      const where = DEMO_STEPS[i];
      for (const body of readableMail(m)) {
        for (const detail of [
          'Riverside Chiropractic',
          'Dr. Ana Ortiz',
          RIVERSIDE.phone,
          RIVERSIDE.booking_url,
          RIVERSIDE.reply_to,
          'Riverside Chiropractic, 12 River Road, Springfield, ST 00000',
        ])
          expect([where, detail, body.includes(detail)]).toEqual([where, detail, true]);
        expect([where, body.includes('Selfcare Drip')]).toEqual([where, false]);
        expect([where, body.includes('1 Example Street')]).toEqual([where, false]);
        expect([where, /call your local emergency number now/i.test(body)]).toEqual([where, true]);
      }
      expect(m.html).toContain(`href="${RIVERSIDE.booking_url}"`);
      expect(m.html).toContain(`href="tel:${RIVERSIDE.phone}"`);
    }
  });

  it("sends the clinic's email under its name from the service's address, with the clinic's Reply-To and the unsubscribe headers", () => {
    const received = smtp.received.filter((r) => r.recipient === 'robin@example.com');
    expect(received).toHaveLength(DEMO_STEPS.length);
    for (const { mail, sender } of received) {
      expect(mail.from?.value).toEqual([
        { name: 'Riverside Chiropractic', address: 'tips@drip.example' },
      ]);
      expect(sender).toBe('tips@drip.example'); // the envelope stays the service's
      expect(mail.replyTo?.value.map((a) => a.address)).toEqual([RIVERSIDE.reply_to]);
      expect(headerOf(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
      expect(headerOf(mail, 'list-unsubscribe')).toMatch(
        /^<https:\/\/drip\.example\/unsubscribe\/[A-Za-z0-9_-]+>, <mailto:help@drip\.example\?subject=unsubscribe>$/,
      );
    }
  });

  it("texts a clinic's patient from the clinic's number, naming the clinic in every text", () => {
    const texts = textsTo('+12133734301');
    expect(texts).toHaveLength(DEMO_STEPS.length);
    for (const [i, m] of texts.entries()) {
      const where = DEMO_STEPS[i];
      expect([where, m.from, m.messagingServiceSid]).toEqual([
        where,
        RIVERSIDE.sms_from,
        undefined,
      ]);
      expect([where, m.body.includes('Riverside Chiropractic')]).toEqual([where, true]);
      expect([where, /emergency/i.test(m.body)]).toEqual([where, true]);
      expect([where, m.body.match(/\bSTOP\b/g)?.length]).toEqual([where, 1]);
      expect([where, m.body.includes('Selfcare Drip')]).toEqual([where, false]);
    }
    const welcome = texts[0]!.body;
    expect(welcome).toMatch(
      /^Dr\. Ana Ortiz at Riverside Chiropractic: Welcome to Upper-Back Relief/,
    );
    for (const words of [
      'up to 1 msg/day',
      'Msg & data rates may apply',
      'Reply HELP for help, STOP to opt out',
    ])
      expect(welcome).toContain(words);
    expect(texts[DEMO_STEPS.indexOf('exercises')]!.body).toContain('ask Dr. Ana Ortiz');
    expect(texts.at(-1)!.body).toContain(
      `Book a follow-up with Dr. Ana Ortiz: ${RIVERSIDE.booking_url}.`,
    );
  });

  it("gives the public programme's messages none of the clinic's details", () => {
    const received = smtp.received.filter((r) => r.recipient === 'sam@example.com');
    expect(received).toHaveLength(DEMO_STEPS.length);
    for (const { mail, sender } of received) {
      expect(mail.from?.value).toEqual([{ name: 'Selfcare Drip', address: 'tips@drip.example' }]);
      expect(sender).toBe('tips@drip.example');
      expect(mail.replyTo?.value.map((a) => a.address)).toEqual(['help@drip.example']);
      for (const body of readableMail(mail)) {
        expect(body).toContain('Selfcare Drip, 1 Example Street, Springfield');
        for (const detail of RIVERSIDE_DETAILS)
          expect([detail, body.includes(detail)]).toEqual([detail, false]);
      }
    }
    const texts = textsTo('+12133734302');
    expect(texts).toHaveLength(DEMO_STEPS.length);
    expect(texts[0]!.body).toMatch(/^Selfcare Drip: Welcome to Upper-Back Relief/);
    for (const m of texts) {
      expect(m.from).toBe(SERVICE_NUMBER);
      for (const detail of RIVERSIDE_DETAILS)
        expect([detail, m.body.includes(detail)]).toEqual([detail, false]);
    }
    expect(texts[1]!.body).toMatch(/^Day 2: /);
  });

  it('carries the clinic id in every job the scheduler adds, whose id is the delivery id', async () => {
    const expected = new Map<string, string | null>();
    for (const [key, id] of Object.entries(ids))
      for (const d of await deliveriesOf(tdb.db, id))
        expected.set(d.id, key.startsWith('clinic') ? riverside : null);
    const added = jobs.filter((j) => expected.has(j.deliveryId));
    expect(new Set(added.map((j) => j.deliveryId))).toEqual(new Set(expected.keys()));
    for (const j of added) expect(j.data).toEqual({ clinicId: expected.get(j.deliveryId) });
  });

  /** An enrolment that is live but never due, and one queued delivery of it, without a job. */
  const quietDelivery = async (clinicId: string | null, channel: 'email' | 'sms') => {
    const n = seq++;
    const address =
      channel === 'email' ? `quiet${n}@example.com` : `+121337344${String(n).padStart(2, '0')}`;
    const s = await tdb.db
      .insertInto('subscribers')
      .values({
        email: channel === 'email' ? address : null,
        phone: channel === 'sms' ? address : null,
        name: 'Quinn',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const e = await tdb.db
      .insertInto('enrollments')
      .values({
        subscriber_id: s.id,
        campaign_id: 'upper-back-relief-demo',
        channel,
        timezone: 'America/New_York',
        send_time: '09:00',
        status: 'active',
        step: 1,
        next_send_at: null,
        source: clinicId ? 'clinic-api' : 'admin',
        clinic_id: clinicId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const [d] = await t
      .get(DeliveriesRepository)
      .insertQueued(tdb.db, [{ enrollment_id: e.id, step: 0, step_key: 'welcome', channel }]);
    return { enrollmentId: e.id, deliveryId: d!.id, address };
  };

  it('re-adds a lost job with its clinic id (the reconciler)', async () => {
    const lost = await quietDelivery(riverside, 'email');
    clock.advance(t.config.delivery.jobCheckMs + 1_000);
    await t.get(Reconciler).run();
    const readded = await waitFor(
      () => jobs.find((j) => j.deliveryId === lost.deliveryId),
      'the re-added job',
    );
    expect(readded.data).toEqual({ clinicId: riverside });
    const mail = await waitFor(() => mailsTo(smtp, lost.address)[0], 'the re-added message');
    expect(mail.from?.value[0]?.name).toBe('Riverside Chiropractic');
  });

  it('requeues an expired lease the provider never saw with its clinic id, and sends it from the clinic’s number', async () => {
    const died = await quietDelivery(riverside, 'sms');
    const claimed = await t
      .get(DeliveriesRepository)
      .claim(died.deliveryId, t.config.delivery.leaseMs);
    expect(claimed?.clinicId).toBe(riverside);
    clock.advance(t.config.delivery.leaseMs + 1_000);
    await t.get(Reconciler).run();
    const requeued = await waitFor(
      () => jobs.find((j) => j.deliveryId === died.deliveryId),
      'the requeued job',
    );
    expect(requeued.data).toEqual({ clinicId: riverside });
    const text = await waitFor(() => textsTo(died.address)[0], 'the text sent again');
    expect(text.from).toBe(RIVERSIDE.sms_from);
  });

  it("settles a clinic's text whose answer was lost from the log of the clinic's number: not sent again", async () => {
    const lost = await quietDelivery(riverside, 'sms');
    fake.hangNext(lost.address, { accept: true, ms: 300 }); // accepted; the answer never comes
    await t
      .get(QueuesService)
      .enqueueDeliveries([{ id: lost.deliveryId, channel: 'sms', clinicId: riverside }]);
    await waitFor(async () => {
      const [d] = await deliveriesOf(tdb.db, lost.enrollmentId);
      return d?.status === 'sending' && d.resolution;
    }, 'the outcome to be unknown');
    clock.advance(t.config.delivery.leaseMs + 1_000);
    await t.get(Reconciler).run();
    const [d] = await waitFor(async () => {
      const rows = await deliveriesOf(tdb.db, lost.enrollmentId);
      return rows[0]?.status === 'sent' ? rows : null;
    }, 'the lost send to be settled');
    expect(d).toMatchObject({
      attempts: 1,
      resolution: 'lease expired; found in the provider log, not sent again',
    });
    expect(textsTo(lost.address)).toHaveLength(1);
    expect(textsTo(lost.address)[0]!.from).toBe(RIVERSIDE.sms_from);
  });

  it("fails only the message when Twilio refuses a clinic's own number, and keeps texting everyone else", async () => {
    const refused = await quietDelivery(riverside, 'sms');
    const other = await quietDelivery(null, 'sms');
    fake.failNext(refused.address, 400, 21606); // the clinic's number is not ours to send from
    await t.get(QueuesService).enqueueDeliveries([
      { id: refused.deliveryId, channel: 'sms', clinicId: riverside },
      { id: other.deliveryId, channel: 'sms', clinicId: null },
    ]);
    const [failed] = await waitFor(async () => {
      const rows = await deliveriesOf(tdb.db, refused.enrollmentId);
      return rows[0]?.status === 'failed' ? rows : null;
    }, 'the refused text to fail');
    expect(failed!.error).toBe("Twilio 400 error 21606: the message's own sender was refused");
    expect(await t.get(ChannelFaults).get(QueueName.Sms)).toBeNull(); // the channel goes on
    await waitFor(() => textsTo(other.address)[0], 'the next text on the channel');
  });

  it("builds the message from the enrolment's clinic, whatever the job's payload says", async () => {
    const pub = await quietDelivery(null, 'email');
    const patient = await quietDelivery(riverside, 'sms');
    const queues = t.get(QueuesService);
    await queues.enqueueDeliveries([
      { id: pub.deliveryId, channel: 'email', clinicId: riverside },
      { id: patient.deliveryId, channel: 'sms', clinicId: null },
    ]);
    const mail = await waitFor(() => mailsTo(smtp, pub.address)[0], 'the public email');
    expect(mail.from?.value[0]?.name).toBe('Selfcare Drip');
    for (const body of readableMail(mail))
      for (const detail of RIVERSIDE_DETAILS)
        expect([detail, body.includes(detail)]).toEqual([detail, false]);
    const text = await waitFor(() => textsTo(patient.address)[0], "the patient's text");
    expect(text.from).toBe(RIVERSIDE.sms_from);
    expect(text.body).toContain('Dr. Ana Ortiz at Riverside Chiropractic');
  });

  it('holds a message whose clinic cannot be read while PostgreSQL is away, and sends it after', async () => {
    t.get(ClinicDirectoryService).forget(riverside);
    const find = jest
      .spyOn(ClinicsRepository.prototype, 'find')
      .mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
    const held = await quietDelivery(riverside, 'email');
    await t
      .get(QueuesService)
      .enqueueDeliveries([{ id: held.deliveryId, channel: 'email', clinicId: riverside }]);
    const mail = await waitFor(() => mailsTo(smtp, held.address)[0], 'the held message');
    expect(find).toHaveBeenCalled();
    find.mockRestore();
    expect(mail.from?.value[0]?.name).toBe('Riverside Chiropractic');
    const [d] = await waitFor(async () => {
      const rows = await deliveriesOf(tdb.db, held.enrollmentId);
      return rows[0]?.status === 'sent' ? rows : null;
    }, 'the held send recorded');
    expect(d).toMatchObject({ attempts: 1, error: null });
  });

  /** A pending enrolment, as a clinic in `confirm` mode (or the signup form) leaves it. */
  const pending = (clinicId: string | null, contact: { email?: string; phone?: string }) => {
    const channel = contact.email ? 'email' : 'sms';
    return t.get(Transactions).run(async (tx) => {
      const s = await t
        .get(SubscribersRepository)
        .findOrCreate(
          tx,
          { email: contact.email ?? null, phone: contact.phone ?? null, name: 'Pat' },
          channel,
        );
      const e = await t.get(EnrollmentLifecycle).signUp(tx, {
        subscriber_id: s.id,
        campaign_id: 'upper-back-relief',
        channel,
        timezone: 'America/New_York',
        send_time: '09:00',
        ...(clinicId ? { source: 'clinic-api', clinic_id: clinicId } : {}),
      });
      return e!;
    });
  };

  it("asks a clinic's pending patient to confirm in the clinic's name, by email and by text", async () => {
    const byEmail = await pending(riverside, { email: 'pat@example.com' });
    const byText = await pending(riverside, { phone: '+12133734311' });
    await t.get(QueuesService).enqueueConfirmation(byEmail.id, 'email', 1, riverside);
    await t.get(QueuesService).enqueueConfirmation(byText.id, 'sms', 1, riverside);

    const mail = await waitFor(() => mailsTo(smtp, 'pat@example.com')[0], 'the confirmation email');
    expect(mail.subject).toBe('Please confirm: Upper-Back Relief tips from Riverside Chiropractic');
    expect(mail.from?.value).toEqual([
      { name: 'Riverside Chiropractic', address: 'tips@drip.example' },
    ]);
    expect(mail.replyTo?.value.map((a) => a.address)).toEqual([RIVERSIDE.reply_to]);
    for (const body of readableMail(mail)) {
      expect(body).toMatch(
        /Dr\. Ana Ortiz and the team at Riverside Chiropractic would like to send you Upper-Back Relief/,
      );
      expect(body).toContain('Riverside Chiropractic gave us this address');
      expect(body).toContain('Riverside Chiropractic, 12 River Road, Springfield, ST 00000');
      expect(body).toContain(RIVERSIDE.phone);
      expect(body).not.toMatch(/signup form|Selfcare Drip/);
    }
    const text = await waitFor(() => textsTo('+12133734311')[0], 'the confirmation text');
    expect(text.from).toBe(RIVERSIDE.sms_from);
    expect(text.body).toMatch(
      /^Riverside Chiropractic: Reply YES to confirm Upper-Back Relief from Dr\. Ana Ortiz: 7 msgs, up to 1 msg\/day\. Msg & data rates may apply\. Reply HELP for help, STOP to opt out\./,
    );
  });

  it('asks a public signup to confirm as the service, as before', async () => {
    const own = await pending(null, { email: 'kim@example.com' });
    await t.get(QueuesService).enqueueConfirmation(own.id, 'email', 1, null);
    const mail = await waitFor(() => mailsTo(smtp, 'kim@example.com')[0], 'the confirmation email');
    expect(mail.subject).toBe('Please confirm: Upper-Back Relief tips');
    expect(mail.from?.value).toEqual([{ name: 'Selfcare Drip', address: 'tips@drip.example' }]);
    expect(mail.replyTo).toBeUndefined();
    for (const body of readableMail(mail)) {
      expect(body).toMatch(/You asked to join Upper-Back Relief/);
      for (const detail of RIVERSIDE_DETAILS)
        expect([detail, body.includes(detail)]).toEqual([detail, false]);
    }
  });

  describe('HELP', () => {
    const PATH = '/webhooks/twilio/inbound';
    const help = async (from: string, to: string) => {
      const params = {
        MessageSid: `SM${(seq++).toString(16).padStart(32, '0')}`,
        AccountSid: fake.accountSid,
        From: from,
        To: to,
        Body: 'HELP',
      };
      const signature = twilio.getExpectedTwilioSignature(
        fake.authToken,
        `${PUBLIC_URL}${PATH}`,
        params,
      );
      const res = await request(t.app.getHttpServer())
        .post(PATH)
        .type('form')
        .set('X-Twilio-Signature', signature)
        .send(new URLSearchParams(params).toString())
        .expect(200);
      const m = /<Message>([\s\S]*)<\/Message>/.exec(res.text);
      return (m?.[1] ?? '').replace(/&amp;/g, '&');
    };

    it("answers a clinic's patient with who sends and how to reach the clinic", async () => {
      expect(await help('+12133734301', RIVERSIDE.sms_from)).toBe(
        'Riverside Chiropractic: Upper-Back Relief (demo) self-care tips from Dr. Ana Ortiz, up to 1 msg/day. ' +
          `Questions? Call ${RIVERSIDE.phone} or email ${RIVERSIDE.reply_to}. Not for emergencies. ` +
          'Msg & data rates may apply. Reply STOP to opt out.',
      );
    });

    it('answers the public programme as the service, as before', async () => {
      expect(await help('+12133734302', SERVICE_NUMBER)).toBe(
        'Selfcare Drip: Upper-Back Relief (demo) self-care tips, up to 1 msg/day. Not for emergencies. ' +
          'Msg & data rates may apply. Reply STOP to opt out.',
      );
    });

    it("answers a number in two clinics' programmes as the service, naming neither clinic", async () => {
      const hilltop = (
        await tdb.db.insertInto('clinics').values(HILLTOP).returning('id').executeTakeFirstOrThrow()
      ).id;
      await enrolPatient(riverside, { phone: '+12133734321' }, 'upper-back-relief');
      await enrolPatient(hilltop, { phone: '+12133734321' }, 'upper-back-relief');
      const answer = await help('+12133734321', SERVICE_NUMBER);
      expect(answer).toMatch(
        /^Selfcare Drip: Upper-Back Relief self-care tips, up to 1 msg\/day\./,
      );
      for (const detail of [
        ...RIVERSIDE_DETAILS,
        'Hilltop',
        'Berg',
        HILLTOP.phone,
        HILLTOP.reply_to,
      ])
        expect([detail, answer.includes(detail)]).toEqual([detail, false]);
    });
  });
});
