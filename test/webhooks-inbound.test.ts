import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import twilio from 'twilio';
import { ManualClock } from '../src/common/clock.js';
import { QueueName, QueuesService } from '../src/delivery/index.js';
import {
  EnrollmentsRepository,
  EnrollmentsService,
  OptOutService,
  SafetyService,
} from '../src/enrollments/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { SignupService } from '../src/signup/index.js';
import { signupSchema } from '../src/signup/signup.dto.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { countRows, createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { deliveriesOf } from './support/journey.js';
import { waitFor } from './support/wait.js';

const PUBLIC_URL = 'https://drip.example';
const PATH = '/webhooks/twilio/inbound';
const URL_SIGNED = `${PUBLIC_URL}${PATH}`;

const STOP_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'];
const START_WORDS = ['START', 'UNSTOP', 'YES'];
const HELP_WORDS = ['HELP', 'INFO'];

const REPLY = {
  stop: /^Selfcare Drip: You are unsubscribed and will get no more messages from us\. Reply START to rejoin\.$/,
  start:
    /^Selfcare Drip: You can get texts from us again\. If your Upper-Back Relief programme was stopped/,
  help: /^Selfcare Drip: Upper-Back Relief self-care tips, up to 1 msg\/day\. Not for emergencies\./,
  redFlag: /call your local emergency number straight away\. We have paused all your tips/,
  unknown:
    /^Selfcare Drip: We could not read that as a keyword or a 0-10 pain score, so we keep it for your clinic\. If it is about a new symptom: chest pain, trouble breathing or feeling faint, call your local emergency number now/,
  pain: (score: number) => new RegExp(`pain score of ${score} out of 10\\.`),
};

function decodeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The text of the TwiML <Message>, or null for an empty <Response/>. */
function replyOf(res: request.Response): string | null {
  expect(res.headers['content-type']).toMatch(/^text\/xml/);
  expect(res.text).toMatch(/<Response/);
  const m = /<Message>([\s\S]*?)<\/Message>/.exec(res.text);
  return m ? decodeXml(m[1]!) : null;
}

/**
 * The inbound SMS webhook, with a real PostgreSQL and Redis, the real twilio library for
 * signatures and TwiML, and a fake of Twilio's REST API for anything the worker sends.
 */
describe('POST /webhooks/twilio/inbound', () => {
  let tdb: TestDatabase;
  let fake: FakeTwilio;
  let api: TestApp;
  let worker: TestApp | undefined;
  let unconfigured: TestApp | undefined;
  const prefix = uniquePrefix();
  // 12:00 in New York, inside the SMS window; in the future so BullMQ's real-time delays agree.
  const START = new Date('2030-06-01T16:00:00Z');
  const clock = new ManualClock(START);
  let env: Record<string, string>;
  let phoneSeq = 5100;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fake = await startFakeTwilio();
    env = {
      TWILIO_ACCOUNT_SID: fake.accountSid,
      TWILIO_AUTH_TOKEN: fake.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_URL: fake.url,
      PUBLIC_URL,
    };
    // ROLE=api: no workers, so a queued message waits until a test starts one.
    api = await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ...env, ROLE: 'api' } });
  });
  afterAll(async () => {
    await worker?.close();
    await unconfigured?.close();
    await api?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const nextPhone = () => `+1213373${phoneSeq++}`;
  const sid = () => `SM${randomBytes(16).toString('hex')}`;
  /** The form Twilio posts, with a few of the fields we ignore. */
  const sms = (from: string, body: string, messageSid = sid()): Record<string, string> => ({
    MessageSid: messageSid,
    SmsSid: messageSid,
    AccountSid: fake.accountSid,
    From: from,
    To: '+15005550006',
    Body: body,
    NumMedia: '0',
  });
  const sign = (params: Record<string, string>, token = fake.authToken, url = URL_SIGNED) =>
    twilio.getExpectedTwilioSignature(token, url, params);
  /** Posts the form; `signature` undefined signs it correctly, null sends no signature. */
  const post = (
    params: Record<string, string>,
    signature: string | null = sign(params),
    app: TestApp = api,
  ) => {
    const req = request(app.app.getHttpServer()).post(PATH).type('form');
    if (signature !== null) req.set('X-Twilio-Signature', signature);
    return req.send(new URLSearchParams(params).toString());
  };

  const enrolSms = async (phone: string, campaign = 'upper-back-relief') =>
    api
      .get(EnrollmentsService)
      .enroll(
        { campaign, channel: 'sms', phone, timezone: 'America/New_York', sendTime: '08:00' },
        'test',
      );

  /** Everything an inbound message could change for this number. */
  const stateOf = async (phone: string) => {
    const db = tdb.db;
    const subscriber = await db
      .selectFrom('subscribers')
      .select('id')
      .where('phone', '=', phone)
      .executeTakeFirst();
    const ofSubscriber = async <T>(q: (id: string) => Promise<T[]>) =>
      subscriber ? q(subscriber.id) : [];
    return {
      inbound: await db
        .selectFrom('inbound_messages')
        .select(['kind', 'subscriber_id', 'provider_id', 'body'])
        .where('from_phone', '=', phone)
        .orderBy('created_at')
        .execute(),
      suppressions: await db
        .selectFrom('suppressions')
        .select(['channel', 'reason'])
        .where('address', '=', phone)
        .execute(),
      consent: (
        await ofSubscriber((id) =>
          db
            .selectFrom('consent_events')
            .select(['kind', 'source'])
            .where('subscriber_id', '=', id)
            .execute(),
        )
      )
        .map((e) => `${e.kind}/${e.source}`)
        .sort(),
      enrollments: await ofSubscriber((id) =>
        db
          .selectFrom('enrollments')
          .select(['id', 'status', 'step', 'cancel_reason', 'next_send_at'])
          .where('subscriber_id', '=', id)
          .orderBy('created_at')
          .execute(),
      ),
      painScores: await ofSubscriber((id) =>
        db
          .selectFrom('pain_scores')
          .select(['score', 'enrollment_id', 'source'])
          .where('subscriber_id', '=', id)
          .orderBy('created_at')
          .execute(),
      ),
    };
  };

  const countAll = (table: 'inbound_messages' | 'pain_scores' | 'suppressions') =>
    countRows(tdb.db, table);

  /** Unsigned, signed with another token, for another body, and for another URL: all refused. */
  const expectForgeriesRefused = async (params: Record<string, string>) => {
    const forged: [string, string | null][] = [
      ['unsigned', null],
      ['wrong token', sign(params, randomBytes(16).toString('hex'))],
      ['tampered body', sign({ ...params, Body: 'hello' })],
      ['wrong URL', sign(params, fake.authToken, `http://localhost:3000${PATH}`)],
    ];
    for (const [what, signature] of forged) {
      const res = await post(params, signature);
      expect({ what, status: res.status }).toEqual({ what, status: 403 });
      expect(res.body.message).toMatch(/X-Twilio-Signature: (missing|does not match)/);
    }
  };

  // First, so the scheduler pass here queues only its own enrolment.
  describe('opting out and back in', () => {
    it('withdraws a tip queued before STOP: the worker sends nothing, and START sends it after all', async () => {
      const phone = nextPhone();
      const e = await enrolSms(phone);
      await api.get(SchedulerService).runPass();
      const [queued] = await deliveriesOf(tdb.db, e.id);
      expect(queued).toMatchObject({ status: 'queued', step: 0 });

      expect(replyOf(await post(sms(phone, 'STOP')).expect(200))).toMatch(REPLY.stop);

      worker = await startApp({
        databaseUrl: tdb.url,
        prefix,
        clock,
        env: { ...env, ROLE: 'worker' },
      });
      const queue = api.get(QueuesService).queue(QueueName.Sms);
      await waitFor(
        async () => (await queue.getJob(queued!.id)) === undefined,
        'the worker to take the queued job',
      );
      expect(await deliveriesOf(tdb.db, e.id)).toEqual([]);
      expect((await stateOf(phone)).enrollments).toMatchObject([{ status: 'cancelled', step: 0 }]);
      expect(fake.messages.filter((m) => m.to === phone)).toHaveLength(0);

      // START restarts at the withdrawn step, so the welcome is not lost.
      await post(sms(phone, 'START')).expect(200);
      await api.get(SchedulerService).runPass();
      await waitFor(
        async () => (await deliveriesOf(tdb.db, e.id))[0]?.status === 'sent',
        'the welcome after START',
      );
      expect(fake.messages.filter((m) => m.to === phone)).toHaveLength(1);
      await worker.close();
      worker = undefined;
    });

    it('START after STOP lifts the suppression and restarts at the step where it stopped', async () => {
      const phone = nextPhone();
      const e = await enrolSms(phone);
      // Three tips in: the next one due is step 3.
      await tdb.db.updateTable('enrollments').set({ step: 3 }).where('id', '=', e.id).execute();
      await post(sms(phone, 'STOP')).expect(200);
      expect((await stateOf(phone)).enrollments).toMatchObject([
        { status: 'cancelled', step: 3, next_send_at: null },
      ]);

      expect(replyOf(await post(sms(phone, 'START')).expect(200))).toMatch(REPLY.start);
      const after = await stateOf(phone);
      expect(after.suppressions).toEqual([]);
      expect(after.enrollments).toMatchObject([{ status: 'active', step: 3, cancel_reason: null }]);
      // Its next daily send time: 08:00 tomorrow in New York.
      expect(after.enrollments[0]!.next_send_at).toEqual(new Date('2030-06-02T12:00:00Z'));
    });

    it('START after STOP and a new signup on the form starts the new signup, and keeps working', async () => {
      const phone = nextPhone();
      await enrolSms(phone);
      await post(sms(phone, 'STOP')).expect(200);
      // The form's page tells a stopped number to text START.
      await api.get(SignupService).subscribe(
        signupSchema.parse({
          channel: 'sms',
          phone,
          timezone: 'America/New_York',
          consent: true,
        }),
        { ip: null, userAgent: null },
      );
      expect((await stateOf(phone)).enrollments.map((e) => e.status).sort()).toEqual([
        'cancelled',
        'pending',
      ]);
      for (let i = 0; i < 2; i++) {
        const res = await post(sms(phone, 'START')).expect(200);
        expect(replyOf(res)).toMatch(REPLY.start);
      }
      const after = await stateOf(phone);
      expect(after.suppressions).toEqual([]);
      // The new signup is the live one; the stopped one stays stopped (one live per campaign).
      expect(after.enrollments.map((e) => e.status).sort()).toEqual(['active', 'cancelled']);
    });

    it('YES confirms a pending SMS signup, which then starts with the welcome', async () => {
      const phone = nextPhone();
      await api.get(SignupService).subscribe(
        signupSchema.parse({
          channel: 'sms',
          phone,
          name: 'Robin Park',
          timezone: 'America/New_York',
          consent: true,
        }),
        { ip: null, userAgent: null },
      );
      expect((await stateOf(phone)).enrollments).toMatchObject([{ status: 'pending' }]);

      const res = await post(sms(phone, 'yes')).expect(200);
      expect(replyOf(res)).toMatch(REPLY.start);
      const after = await stateOf(phone);
      expect(after.enrollments).toMatchObject([{ status: 'active', step: 0 }]);
      // The welcome is due at once (12:00 local), from the normal drip.
      expect(after.enrollments[0]!.next_send_at).toEqual(clock.now());
      expect(after.consent).toContain('confirmed/sms-keyword');
      expect(after.inbound).toMatchObject([{ kind: 'start' }]);
    });
  });

  describe('signatures and keywords', () => {
    it.each(STOP_WORDS)(
      '%s: forged requests change nothing; a signed one opts the number out at once',
      async (word) => {
        const phone = nextPhone();
        const e = await enrolSms(phone);
        const before = await stateOf(phone);
        await expectForgeriesRefused(sms(phone, word));
        expect(await stateOf(phone)).toEqual(before);
        expect(before.suppressions).toEqual([]);

        const res = await post(sms(phone, ` ${word.toLowerCase()}. `)).expect(200);
        expect(replyOf(res)).toMatch(REPLY.stop);
        const after = await stateOf(phone);
        expect(after.suppressions).toEqual([{ channel: 'sms', reason: 'sms-keyword' }]);
        expect(after.consent).toEqual(['enrolled/test', 'withdrawn/sms-keyword']);
        expect(after.enrollments).toMatchObject([
          { id: e.id, status: 'cancelled', cancel_reason: 'stop' },
        ]);
        expect(after.inbound).toEqual([
          expect.objectContaining({ kind: 'stop', subscriber_id: e.subscriberId }),
        ]);
      },
    );

    it('a STOP whose transaction loses a deadlock is run again, not lost', async () => {
      const phone = nextPhone();
      const e = await enrolSms(phone);
      const repo = api.get(EnrollmentsRepository);
      const real = repo.transaction.bind(repo);
      const spy = jest.spyOn(repo, 'transaction').mockImplementationOnce(async (fn) => {
        // The whole transaction runs, then PostgreSQL picks it as the deadlock's victim.
        await real(async (trx) => {
          await fn(trx);
          throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
        });
        throw new Error('unreachable');
      });
      try {
        const res = await post(sms(phone, 'STOP')).expect(200);
        expect(replyOf(res)).toMatch(REPLY.stop);
      } finally {
        spy.mockRestore();
      }
      const after = await stateOf(phone);
      expect(after.suppressions).toEqual([{ channel: 'sms', reason: 'sms-keyword' }]);
      expect(after.enrollments).toMatchObject([
        { id: e.id, status: 'cancelled', cancel_reason: 'stop' },
      ]);
      expect(after.inbound).toHaveLength(1);
    });

    it.each(START_WORDS)(
      '%s: forged requests leave the opt-out in place; a signed one lifts it',
      async (word) => {
        const phone = nextPhone();
        const e = await enrolSms(phone);
        await api.get(OptOutService).stopPhone(phone, 'STOP');
        const before = await stateOf(phone);
        expect(before.suppressions).toHaveLength(1);
        await expectForgeriesRefused(sms(phone, word));
        expect(await stateOf(phone)).toEqual(before);

        const res = await post(sms(phone, `${word[0]}${word.slice(1).toLowerCase()}!`)).expect(200);
        expect(replyOf(res)).toMatch(REPLY.start);
        const after = await stateOf(phone);
        expect(after.suppressions).toEqual([]);
        expect(after.consent).toEqual([
          'enrolled/test',
          'opted-in/sms-keyword',
          'withdrawn/sms-keyword',
        ]);
        expect(after.enrollments).toMatchObject([
          { id: e.id, status: 'active', cancel_reason: null },
        ]);
        expect(after.inbound).toMatchObject([{ kind: 'start', subscriber_id: e.subscriberId }]);
      },
    );

    it.each(HELP_WORDS)('%s: forged requests are refused; a signed one gets help', async (word) => {
      const phone = nextPhone();
      const e = await enrolSms(phone);
      const before = await stateOf(phone);
      await expectForgeriesRefused(sms(phone, word));
      expect(await stateOf(phone)).toEqual(before);

      const res = await post(sms(phone, word.toLowerCase())).expect(200);
      const reply = replyOf(res);
      expect(reply).toMatch(REPLY.help);
      expect(reply).toMatch(/Reply STOP to opt out/);
      const after = await stateOf(phone);
      expect({ ...after, inbound: [] }).toEqual({ ...before, inbound: [] });
      expect(after.inbound).toMatchObject([{ kind: 'help', subscriber_id: e.subscriberId }]);
    });

    it('answers HELP and STOP from a number we do not know, and remembers the STOP', async () => {
      const phone = nextPhone();
      expect(replyOf(await post(sms(phone, 'HELP')).expect(200))).toMatch(REPLY.help);
      expect(replyOf(await post(sms(phone, 'STOP')).expect(200))).toMatch(REPLY.stop);
      const after = await stateOf(phone);
      expect(after.suppressions).toEqual([{ channel: 'sms', reason: 'sms-keyword' }]);
      expect(after.inbound).toMatchObject([
        { kind: 'help', subscriber_id: null },
        { kind: 'stop', subscriber_id: null },
      ]);
      await expect(
        enrolSms(phone), // a clinic cannot override the person's STOP
      ).rejects.toThrow(/opted out/);
    });

    it('refuses everything with 403 when Twilio is not configured', async () => {
      unconfigured = await startApp({
        databaseUrl: tdb.url,
        prefix,
        clock,
        env: { ROLE: 'api', PUBLIC_URL },
      });
      const phone = nextPhone();
      const res = await post(sms(phone, 'STOP'), undefined, unconfigured).expect(403);
      expect(res.body.message).toMatch(/webhook is off/);
      expect(await stateOf(phone)).toMatchObject({ inbound: [], suppressions: [] });
      await unconfigured.close();
      unconfigured = undefined;
    });
  });

  describe('pain scores', () => {
    it.each([0, 10])(
      'stores %p against the latest SMS enrolment and thanks for it',
      async (score) => {
        const phone = nextPhone();
        await enrolSms(phone);
        clock.advance(1000); // so the second enrolment is the more recent one
        const latest = await enrolSms(phone, 'upper-back-relief-demo').finally(() =>
          clock.set(START),
        );
        const res = await post(sms(phone, ` ${score} `)).expect(200);
        expect(replyOf(res)).toMatch(REPLY.pain(score));
        const after = await stateOf(phone);
        expect(after.painScores).toEqual([{ score, enrollment_id: latest.id, source: 'sms' }]);
        expect(after.inbound).toMatchObject([{ kind: 'pain', subscriber_id: latest.subscriberId }]);
      },
    );

    it.each(['11', '-1', '7.5'])(
      'does not store %p and answers that it did not understand',
      async (body) => {
        const phone = nextPhone();
        await enrolSms(phone);
        const res = await post(sms(phone, body)).expect(200);
        expect(replyOf(res)).toMatch(REPLY.unknown);
        const after = await stateOf(phone);
        expect(after.painScores).toEqual([]);
        expect(after.inbound).toMatchObject([{ kind: 'unknown', body }]);
      },
    );

    it('stores nothing for a score from a number we do not know', async () => {
      const phone = nextPhone();
      const before = await countAll('pain_scores');
      const res = await post(sms(phone, '6')).expect(200);
      expect(replyOf(res)).toMatch(REPLY.unknown);
      expect(await countAll('pain_scores')).toBe(before);
      expect((await stateOf(phone)).inbound).toMatchObject([
        { kind: 'unknown', subscriber_id: null },
      ]);
    });

    it('answers nothing but a keyword to a number that opted out', async () => {
      const phone = nextPhone();
      await enrolSms(phone);
      await post(sms(phone, 'STOP')).expect(200);
      expect(replyOf(await post(sms(phone, 'ok thanks')).expect(200))).toBeNull();
      expect(replyOf(await post(sms(phone, '4')).expect(200))).toBeNull();
      expect(replyOf(await post(sms(phone, 'HELP')).expect(200))).toMatch(REPLY.help);
      // The score they chose to send is still kept.
      expect((await stateOf(phone)).painScores).toMatchObject([{ score: 4 }]);
    });
  });

  describe('warning signs', () => {
    it('pauses every active enrolment (SMS and email) and answers with the emergency text', async () => {
      const phone = nextPhone();
      const sms1 = await enrolSms(phone);
      // The same person also gets the email programme.
      await tdb.db
        .updateTable('subscribers')
        .set({ email: `${phone.slice(1)}@example.com` })
        .where('id', '=', sms1.subscriberId)
        .execute();
      const email = await api.get(EnrollmentsService).enroll(
        {
          campaign: 'upper-back-relief-demo',
          channel: 'email',
          email: `${phone.slice(1)}@example.com`,
          timezone: 'America/New_York',
          sendTime: '08:00',
        },
        'test',
      );
      expect(email.subscriberId).toBe(sms1.subscriberId);

      const res = await post(sms(phone, '9 and chest pain')).expect(200);
      expect(replyOf(res)).toMatch(REPLY.redFlag);
      const after = await stateOf(phone);
      expect(after.enrollments.map((e) => [e.id, e.status])).toEqual([
        [sms1.id, 'paused'],
        [email.id, 'paused'],
      ]);
      expect(after.painScores).toEqual([]); // the warning sign wins over the score
      expect(after.inbound).toMatchObject([{ kind: 'red-flag', subscriber_id: sms1.subscriberId }]);
    });

    it.each(["I can't breathe", 'pain down my left arm', 'I passed out', 'HEART ATTACK'])(
      'answers %p from anyone, known or not, with the emergency text',
      async (body) => {
        const known = nextPhone();
        const e = await enrolSms(known);
        expect(replyOf(await post(sms(known, body)).expect(200))).toMatch(REPLY.redFlag);
        expect((await stateOf(known)).enrollments).toMatchObject([{ id: e.id, status: 'paused' }]);

        const stranger = nextPhone();
        expect(replyOf(await post(sms(stranger, body)).expect(200))).toMatch(REPLY.redFlag);
        expect((await stateOf(stranger)).inbound).toMatchObject([{ kind: 'red-flag' }]);
      },
    );

    it('answers anything else with the safety line and how to reach the clinic, and keeps it', async () => {
      const phone = nextPhone();
      await enrolSms(phone);
      expect(replyOf(await post(sms(phone, 'my back feels better')).expect(200))).toMatch(
        REPLY.unknown,
      );
    });
  });

  describe('replies in ordinary words (issue 7, items 2 and 6)', () => {
    const safetyEvents = (subscriberId: string) =>
      tdb.db
        .selectFrom('safety_events')
        .select(['kind', 'source', 'signs'])
        .where('subscriber_id', '=', subscriberId)
        .orderBy('created_at')
        .execute();

    it.each(['stop texting me', 'Opt-out', 'no more texts please', 'BAJA', 'unsubscribe me'])(
      'opts out on %p, answers once, and keeps the words as evidence',
      async (body) => {
        const phone = nextPhone();
        const e = await enrolSms(phone);
        const res = await post(sms(phone, body)).expect(200);
        expect(replyOf(res)).toMatch(REPLY.stop);
        expect(res.text.match(/<Message>/g)).toHaveLength(1);
        const after = await stateOf(phone);
        expect(after.suppressions).toEqual([{ channel: 'sms', reason: 'sms-keyword' }]);
        expect(after.enrollments).toMatchObject([{ id: e.id, status: 'cancelled' }]);
        const words = await tdb.db
          .selectFrom('consent_events')
          .select('words')
          .where('subscriber_id', '=', e.subscriberId)
          .where('kind', '=', 'withdrawn')
          .execute();
        expect(words).toEqual([{ words: body }]);
      },
    );

    it('advises a physician for a see-a-physician sign, keeps it for the clinic, and goes on', async () => {
      const phone = nextPhone();
      const e = await enrolSms(phone);
      const res = await post(sms(phone, 'the pain started after a car accident')).expect(200);
      expect(replyOf(res)).toMatch(/Please see a physician about this in the next day or two/);
      expect((await stateOf(phone)).enrollments).toMatchObject([{ id: e.id, status: 'active' }]);
      expect(await safetyEvents(e.subscriberId)).toEqual([
        { kind: 'see-physician', source: 'sms', signs: expect.stringMatching(/injury/) },
      ]);
      expect((await stateOf(phone)).inbound).toMatchObject([{ kind: 'see-physician' }]);
    });

    it('holds the person and opts them out when one message has a warning sign and a STOP', async () => {
      const phone = nextPhone();
      const e = await enrolSms(phone);
      const res = await post(sms(phone, 'chest feels tight, stop texting me')).expect(200);
      const reply = replyOf(res)!;
      expect(reply).toMatch(REPLY.redFlag);
      expect(reply).toMatch(/You are unsubscribed/);
      const after = await stateOf(phone);
      expect(after.suppressions).toHaveLength(1);
      expect(after.enrollments).toMatchObject([{ id: e.id, status: 'cancelled' }]);
      expect(await safetyEvents(e.subscriberId)).toMatchObject([{ kind: 'emergency' }]);
    });
  });

  describe('Twilio retries (the same MessageSid)', () => {
    it('acts on a STOP once and answers the retry the same way', async () => {
      const phone = nextPhone();
      await enrolSms(phone);
      const params = sms(phone, 'STOP');
      const first = replyOf(await post(params).expect(200));
      const second = replyOf(await post(params).expect(200));
      expect(first).toMatch(REPLY.stop);
      expect(second).toBe(first);
      const after = await stateOf(phone);
      expect(after.inbound).toHaveLength(1);
      expect(after.consent.filter((c) => c.startsWith('withdrawn'))).toHaveLength(1);
    });

    it('stores a pain score once, even when the retries arrive together', async () => {
      const phone = nextPhone();
      await enrolSms(phone);
      const params = sms(phone, '7');
      const replies = await Promise.all([post(params), post(params), post(params)]);
      for (const res of replies) {
        expect(res.status).toBe(200);
        expect(replyOf(res)).toMatch(REPLY.pain(7));
      }
      const after = await stateOf(phone);
      expect(after.painScores).toHaveLength(1);
      expect(after.inbound).toHaveLength(1);
    });

    it('pauses once on a repeated warning sign', async () => {
      const phone = nextPhone();
      const e = await enrolSms(phone);
      const params = sms(phone, 'chest tight');
      await post(params).expect(200);
      // A clinic looked and lifted the hold.
      await api.get(SafetyService).lift(e.subscriberId, 'clinic');
      expect(replyOf(await post(params).expect(200))).toMatch(REPLY.redFlag);
      expect((await stateOf(phone)).enrollments).toMatchObject([{ status: 'active' }]);
    });
  });

  describe('bad input', () => {
    it.each<[string, (phone: string) => Record<string, string>, RegExp]>([
      [
        'missing From',
        (phone) => {
          const { From: _omit, ...rest } = sms(phone, 'STOP');
          return rest;
        },
        /^From: /,
      ],
      ['From "abc"', () => sms('abc', 'STOP'), /^From: is not a phone number/],
      [
        'Body over 1600 characters',
        (phone) => sms(phone, `7${' '.repeat(1600)}`),
        /^Body: must be at most 1600/,
      ],
      [
        'missing Body',
        (phone) => {
          const { Body: _omit, ...rest } = sms(phone, 'STOP');
          return rest;
        },
        /^Body: /,
      ],
      [
        'a malformed MessageSid',
        (phone) => ({ ...sms(phone, 'STOP'), MessageSid: 'SM-1; drop' }),
        /^MessageSid: /,
      ],
    ])('answers %s with 400 naming the field, and stores nothing', async (_what, make, message) => {
      const phone = nextPhone();
      await enrolSms(phone);
      const before = await stateOf(phone);
      const inboundBefore = await countAll('inbound_messages');
      const res = await post(make(phone)).expect(400);
      expect(res.body.message).toMatch(message);
      expect(await stateOf(phone)).toEqual(before);
      expect(await countAll('inbound_messages')).toBe(inboundBefore);
    });

    it('accepts a Body of exactly 1600 characters, counting an emoji as one', async () => {
      const phone = nextPhone();
      await enrolSms(phone);
      const body = `\u{1F600}${'a'.repeat(1599)}`;
      expect(body.length).toBe(1601); // UTF-16 units
      expect(replyOf(await post(sms(phone, body)).expect(200))).toMatch(REPLY.unknown);
    });

    it('normalises From to E.164 before looking the person up', async () => {
      const phone = nextPhone();
      await enrolSms(phone);
      const spaced = `+1 (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
      await post(sms(spaced, 'STOP')).expect(200);
      expect((await stateOf(phone)).suppressions).toHaveLength(1);
    });
  });
});
