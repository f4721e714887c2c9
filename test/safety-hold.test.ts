import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import twilio from 'twilio';
import { CampaignsService } from '../src/campaigns/index.js';
import { ManualClock } from '../src/common/clock.js';
import {
  EnrollmentsRepository,
  EnrollmentsService,
  SafetyService,
} from '../src/enrollments/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { ConsentService } from '../src/consent/index.js';
import { SignupService } from '../src/signup/index.js';
import { signupSchema } from '../src/signup/signup.dto.js';
import { TokensService } from '../src/tokens/tokens.service.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { waitFor } from './support/wait.js';

const PUBLIC_URL = 'https://drip.example';
const PATH = '/webhooks/twilio/inbound';

/**
 * A warning sign holds the whole person (issue 7, item 5), an inbound message is claimed and
 * acted on in one transaction and STOP is taken from any number (item 7), and the consent
 * export keeps the words that were shown (item 4).
 */
describe('safety holds, inbound atomicity and consent words', () => {
  let tdb: TestDatabase;
  let fake: FakeTwilio;
  let api: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-06-01T16:00:00Z'));
  let seq = 7100;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fake = await startFakeTwilio();
    api = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        ROLE: 'api',
        TWILIO_ACCOUNT_SID: fake.accountSid,
        TWILIO_AUTH_TOKEN: fake.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: fake.url,
        PUBLIC_URL,
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const nextPhone = () => `+1213374${seq++}`;
  const emailOf = (phone: string) => `p${phone.slice(1)}@example.com`;
  const sms = (from: string, body: string, messageSid = `SM${randomBytes(16).toString('hex')}`) => {
    const params = { MessageSid: messageSid, From: from, To: '+15005550006', Body: body };
    const signature = twilio.getExpectedTwilioSignature(
      fake.authToken,
      `${PUBLIC_URL}${PATH}`,
      params,
    );
    return request(api.app.getHttpServer())
      .post(PATH)
      .type('form')
      .set('X-Twilio-Signature', signature)
      .send(new URLSearchParams(params).toString());
  };
  const admin = () => ({
    get: (path: string) =>
      request(api.app.getHttpServer()).get(path).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
    post: (path: string, body: object) =>
      request(api.app.getHttpServer())
        .post(path)
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send(body),
  });
  /** A clinic enrols the person on both channels, giving both addresses each time. */
  const enrolBoth = async (phone: string) => {
    const svc = api.get(EnrollmentsService);
    const base = { timezone: 'America/New_York', sendTime: '08:00', phone, email: emailOf(phone) };
    const bySms = await svc.enroll(
      { ...base, campaign: 'upper-back-relief', channel: 'sms' },
      'clinic',
    );
    const byEmail = await svc.enroll(
      { ...base, campaign: 'upper-back-relief-demo', channel: 'email' },
      'clinic',
    );
    return { bySms, byEmail };
  };
  const enrolmentsOf = (ids: string[]) =>
    tdb.db
      .selectFrom('enrollments')
      .select(['id', 'status', 'pause_reason', 'paused_until'])
      .where('id', 'in', ids)
      .orderBy('created_at')
      .execute();
  const eventsOf = async (subscriberId: string) =>
    (await api.get(SafetyService).status(subscriberId)).events.map((e) => `${e.kind}/${e.source}`);

  describe('a warning sign holds the whole person', () => {
    it('pauses the email tips of a person who texts a warning sign from their phone, until a clinic lifts it', async () => {
      const phone = nextPhone();
      const { bySms, byEmail } = await enrolBoth(phone);
      // One row per address, linked as one person by the clinic's enrolment.
      expect(byEmail.subscriberId).not.toBe(bySms.subscriberId);

      const res = await sms(phone, 'my chest is really tight').expect(200);
      expect(res.text).toMatch(/call your local emergency number straight away/);
      expect(await enrolmentsOf([bySms.id, byEmail.id])).toEqual([
        { id: bySms.id, status: 'paused', pause_reason: 'safety', paused_until: null },
        { id: byEmail.id, status: 'paused', pause_reason: 'safety', paused_until: null },
      ]);
      expect(await eventsOf(byEmail.subscriberId)).toEqual(['emergency/sms']);

      // Neither the person's own resume, an operator's plain resume, nor the clock lifts it.
      await expect(api.get(EnrollmentsService).resume(byEmail.id)).rejects.toThrow(/warning sign/);
      const through = await admin().post(`/api/v1/admin/enrollments/${bySms.id}/resume`, {});
      expect(through.status).toBe(409);
      expect(through.body.message).toMatch(/safety-hold\/lift/);
      clock.advance(40 * 24 * 3600_000);
      expect(await api.get(SchedulerService).housekeeping()).toMatchObject({ resumed: 0 });
      expect((await enrolmentsOf([bySms.id, byEmail.id])).map((e) => e.status)).toEqual([
        'paused',
        'paused',
      ]);

      const lift = await admin().post(
        `/api/v1/admin/subscribers/${byEmail.subscriberId}/safety-hold/lift`,
        { by: 'clinic', note: 'Seen by the clinic today; fine to go on.' },
      );
      expect(lift.status).toBe(200);
      expect(lift.body).toMatchObject({ lifted: true, resumed: 2, safety: { held: false } });
      expect((await enrolmentsOf([bySms.id, byEmail.id])).map((e) => e.status)).toEqual([
        'active',
        'active',
      ]);
      expect(await eventsOf(bySms.subscriberId)).toEqual(['emergency/sms', 'cleared/clinic']);
      // Lifting again changes nothing and records nothing.
      const again = await admin().post(
        `/api/v1/admin/subscribers/${byEmail.subscriberId}/safety-hold/lift`,
        { by: 'operator' },
      );
      expect(again.body).toMatchObject({ lifted: false, resumed: 0 });
      expect(await eventsOf(bySms.subscriberId)).toHaveLength(2);
    });

    it('turns a timed pause into a safety pause that its end date does not lift', async () => {
      const phone = nextPhone();
      const { bySms } = await enrolBoth(phone);
      const until = new Date(clock.now().getTime() + 2 * 24 * 3600_000);
      await api.get(EnrollmentsService).pause(bySms.id, until, 'person');
      await sms(phone, 'chest pain').expect(200);
      expect(await enrolmentsOf([bySms.id])).toEqual([
        { id: bySms.id, status: 'paused', pause_reason: 'safety', paused_until: null },
      ]);
      // Even with an end date written on it, housekeeping never resumes a safety pause.
      await tdb.db
        .updateTable('enrollments')
        .set({ paused_until: new Date(clock.now().getTime() - 1000) })
        .where('id', '=', bySms.id)
        .execute();
      await api.get(SchedulerService).housekeeping();
      expect((await enrolmentsOf([bySms.id]))[0]!.status).toBe('paused');
    });

    it('starts a signup confirmed while held as paused, to begin when the hold is lifted', async () => {
      const phone = nextPhone();
      const { bySms } = await enrolBoth(phone);
      await sms(phone, 'cant breathe').expect(200);
      // The person signs up for another programme on the form and confirms by text.
      await api.get(SignupService).subscribe(
        signupSchema.parse({
          campaign: 'upper-back-relief-demo',
          channel: 'sms',
          phone,
          timezone: 'America/New_York',
          consent: true,
        }),
        { ip: '203.0.113.9', userAgent: 'test' },
      );
      await sms(phone, 'YES').expect(200);
      const rows = await tdb.db
        .selectFrom('enrollments')
        .select(['campaign_id', 'status', 'pause_reason'])
        .where('subscriber_id', '=', bySms.subscriberId)
        .orderBy('created_at')
        .execute();
      expect(rows).toEqual([
        { campaign_id: 'upper-back-relief', status: 'paused', pause_reason: 'safety' },
        { campaign_id: 'upper-back-relief-demo', status: 'paused', pause_reason: 'safety' },
      ]);
    });

    it('lets the person lift it on the preferences page only by confirming a clinician has seen them', async () => {
      const phone = nextPhone();
      const { bySms, byEmail } = await enrolBoth(phone);
      await sms(phone, 'pain going into my left arm').expect(200);
      const token = api.get(TokensService).issue('preferences', byEmail.subscriberId, 60);
      const page = await request(api.app.getHttpServer()).get(`/preferences/${token}`).expect(200);
      expect(page.text).toMatch(/paused for your safety/);
      expect(page.text).not.toMatch(/Resume now/);

      const post = (form: Record<string, string>) =>
        request(api.app.getHttpServer())
          .post(`/preferences/${token}`)
          .type('form')
          .send(new URLSearchParams(form).toString());
      // "Resume" does not touch a safety pause; "seen" without the box is refused.
      await post({ action: 'resume' }).expect(200);
      const refused = await post({ action: 'seen' }).expect(400);
      expect(refused.text).toMatch(/tick the box to confirm that a clinician has seen you/);
      expect((await enrolmentsOf([bySms.id, byEmail.id])).map((e) => e.status)).toEqual([
        'paused',
        'paused',
      ]);

      await post({ action: 'seen', seen: 'yes' }).expect(200);
      expect((await enrolmentsOf([bySms.id, byEmail.id])).map((e) => e.status)).toEqual([
        'active',
        'active',
      ]);
      expect(await eventsOf(bySms.subscriberId)).toEqual(['emergency/sms', 'cleared/patient']);
    });

    it('refuses a lift with a bad body or id, changing nothing', async () => {
      const phone = nextPhone();
      const { bySms } = await enrolBoth(phone);
      await sms(phone, 'chest pain').expect(200);
      const path = `/api/v1/admin/subscribers/${bySms.subscriberId}/safety-hold/lift`;
      const bad = await admin().post(path, { by: 'patient' });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/^by: must be "clinic" or "operator"/);
      expect((await admin().post(path, { by: 'clinic', extra: 1 })).status).toBe(400);
      expect(
        (await admin().post('/api/v1/admin/subscribers/nope/safety-hold/lift', { by: 'clinic' }))
          .status,
      ).toBe(404);
      expect((await api.get(SafetyService).status(bySms.subscriberId)).held).toBe(true);
      expect(await eventsOf(bySms.subscriberId)).toEqual(['emergency/sms']);
    });
  });

  describe('inbound messages', () => {
    it.each([
      ['a UK landline', '+442079460123'],
      ['a US toll-free number', '+18005550199'],
    ])('takes STOP from %s, and remembers it', async (_what, from) => {
      await sms(from, 'STOP').expect(200);
      const row = await tdb.db
        .selectFrom('suppressions')
        .select(['channel', 'reason'])
        .where('address', '=', from)
        .executeTakeFirst();
      expect(row).toEqual({ channel: 'sms', reason: 'sms-keyword' });
    });

    it('claims a message and acts on it in one transaction: no claim is visible until the STOP is done', async () => {
      const phone = nextPhone();
      const { bySms } = await enrolBoth(phone);
      const messageSid = `SM${randomBytes(16).toString('hex')}`;
      // Another transaction holds the suppression key, so the STOP blocks part-way through.
      const blocker = new pg.Client({ connectionString: tdb.url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(
          `INSERT INTO suppressions (address, channel, reason, created_at) VALUES ($1, 'sms', 'test', now())`,
          [phone],
        );
        const pending = sms(phone, 'STOP', messageSid).then((r) => r);
        await waitFor(async () => {
          const { rows } = await blocker.query(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
              WHERE NOT l.granted AND a.datname = current_database()`,
          );
          return rows[0].n > 0 || undefined;
        }, 'the STOP waiting on the suppression key');
        // The claim is written but not committed: Twilio's retry would find nothing to skip.
        const seen = await tdb.db
          .selectFrom('inbound_messages')
          .select('id')
          .where('provider_id', '=', messageSid)
          .execute();
        expect(seen).toEqual([]);
        await blocker.query('ROLLBACK');
        expect((await pending).status).toBe(200);
      } finally {
        await blocker.end();
      }
      expect(
        await tdb.db
          .selectFrom('inbound_messages')
          .select('kind')
          .where('provider_id', '=', messageSid)
          .execute(),
      ).toEqual([{ kind: 'stop' }]);
      expect((await enrolmentsOf([bySms.id]))[0]!.status).toBe('cancelled');
    });

    it('leaves no claim behind when acting fails, so the retry acts', async () => {
      const phone = nextPhone();
      const { bySms } = await enrolBoth(phone);
      const messageSid = `SM${randomBytes(16).toString('hex')}`;
      // The act fails after the claim was written: a trigger refuses this suppression.
      await sql`CREATE TABLE IF NOT EXISTS blocked_numbers (address text PRIMARY KEY)`.execute(
        tdb.db,
      );
      await sql`INSERT INTO blocked_numbers VALUES (${phone})`.execute(tdb.db);
      await sql`CREATE OR REPLACE FUNCTION refuse_blocked() RETURNS trigger AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM blocked_numbers WHERE address = NEW.address) THEN
            RAISE EXCEPTION 'refused for the test';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql`.execute(tdb.db);
      await sql`CREATE OR REPLACE TRIGGER refuse_blocked BEFORE INSERT ON suppressions
        FOR EACH ROW EXECUTE FUNCTION refuse_blocked()`.execute(tdb.db);
      try {
        const failed = await sms(phone, 'STOP', messageSid);
        expect(failed.status).toBeGreaterThanOrEqual(500);
        expect(
          await tdb.db
            .selectFrom('inbound_messages')
            .select('id')
            .where('provider_id', '=', messageSid)
            .execute(),
        ).toEqual([]);
      } finally {
        await sql`DROP TRIGGER refuse_blocked ON suppressions`.execute(tdb.db);
      }
      await sms(phone, 'STOP', messageSid).expect(200);
      expect((await enrolmentsOf([bySms.id]))[0]!.status).toBe('cancelled');
    });
  });

  describe('consent evidence keeps the words', () => {
    it('exports the words shown at signup even after the campaign was renamed, and what STOP said', async () => {
      const phone = nextPhone();
      await api.get(SignupService).subscribe(
        signupSchema.parse({
          channel: 'sms',
          phone,
          timezone: 'America/New_York',
          consent: true,
        }),
        { ip: '203.0.113.9', userAgent: 'test' },
      );
      await sms(phone, 'YES').expect(200);
      await sms(phone, 'Stop please').expect(200);
      const campaign = api.get(CampaignsService).get('upper-back-relief')!;
      const name = campaign.name;
      try {
        (campaign as { name: string }).name = 'A Renamed Programme';
        const subscriber = await api
          .get(EnrollmentsRepository)
          .transaction((trx) =>
            trx
              .selectFrom('subscribers')
              .select('id')
              .where('phone', '=', phone)
              .executeTakeFirstOrThrow(),
          );
        const evidence = await api
          .get(ConsentService)
          .evidence(
            subscriber.id,
            await api.get(EnrollmentsRepository).forSubscriber(subscriber.id),
          );
        const [requested, , withdrawn] = evidence.consentEvents;
        expect(requested).toMatchObject({
          kind: 'requested',
          campaign: 'upper-back-relief',
          textStored: true,
        });
        expect(requested!.text).toContain(`I agree to receive ${name} from`);
        expect(requested!.text).not.toContain('A Renamed Programme');
        expect(withdrawn).toMatchObject({ kind: 'withdrawn', words: 'Stop please' });
      } finally {
        (campaign as { name: string }).name = name;
      }
    });

    it('says when the words of an event from before they were stored are rebuilt', async () => {
      const phone = nextPhone();
      const { bySms } = await enrolBoth(phone);
      await tdb.db
        .updateTable('consent_events')
        .set({ text: null, campaign_id: null })
        .where('subscriber_id', '=', bySms.subscriberId)
        .execute();
      const evidence = await api
        .get(ConsentService)
        .evidence(
          bySms.subscriberId,
          await api.get(EnrollmentsRepository).forSubscriber(bySms.subscriberId),
        );
      expect(evidence.consentEvents).toEqual([
        expect.objectContaining({ kind: 'enrolled', textStored: false, text: expect.any(String) }),
      ]);
    });
  });
});
