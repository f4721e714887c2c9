import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ManualClock } from '../src/common/clock.js';
import { DeliveriesRepository } from '../src/delivery/index.js';
import { LinksService } from '../src/links/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import {
  adminApi,
  newClinicWithKey,
  signedTexts,
  StaffBrowser,
} from './support/clinic-fixtures.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { recipientOf } from './support/mail.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

const PUBLIC_URL = 'https://drip.example';

/**
 * The clinic's dashboard through HTTP, as a browser without JavaScript uses it: sign-in by
 * an emailed link (real SMTP), cookies and CSRF tokens, the patient pages and their actions,
 * and the triage queue fed by a real (signed) red-flag text. ROLE=api: nothing is sent but
 * what the requests themselves send.
 */
describe('clinic dashboard', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let smtp: SmtpSink;
  let fake: FakeTwilio;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-06-01T16:00:00Z'));
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
        ROLE: 'api',
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        TWILIO_ACCOUNT_SID: fake.accountSid,
        TWILIO_AUTH_TOKEN: fake.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: fake.url,
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const http = () => request(t.app.getHttpServer());
  const admin = adminApi(() => t.app.getHttpServer());
  const newClinic = (name: string, over: Record<string, unknown> = {}) =>
    newClinicWithKey(() => t.app.getHttpServer(), name, over);

  async function enrol(key: string, over: Record<string, unknown> = {}) {
    const res = await http()
      .post('/api/v1/enrollments')
      .set('Authorization', `Bearer ${key}`)
      .send({
        campaign: 'upper-back-relief',
        channel: 'sms',
        phone: `+1213375${String(3000 + seq++)}`,
        name: 'Pat Doe',
        consent: { method: 'written', obtainedAt: '2030-06-01T15:00:00Z', collectedBy: 'Sam' },
        ...over,
      })
      .expect(201);
    return res.body as { id: string; subscriberId?: string; phone: string };
  }

  /** The sign-in link in the latest mail to `address`. */
  async function linkFor(address: string, after = 0): Promise<string> {
    const mail = await waitFor(
      () => smtp.messages.slice(after).find((m) => recipientOf(m) === address),
      `a sign-in mail to ${address}`,
    );
    const m = /https:\/\/drip\.example(\/clinic\/sign-in\/[A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    if (!m) throw new Error('no sign-in link in the mail');
    return m[1]!;
  }

  class Browser extends StaffBrowser {
    constructor() {
      super(() => t.app.getHttpServer());
    }
  }

  async function signIn(address: string): Promise<Browser> {
    const b = new Browser();
    const before = smtp.messages.length;
    const form = await b.get('/clinic/sign-in');
    expect(form.status).toBe(200);
    const asked = await b.post('/clinic/sign-in', {
      _csrf: Browser.csrf(form.text),
      email: address,
    });
    expect(asked.status).toBe(200);
    const link = await linkFor(address, before);
    const page = await b.get(link);
    expect(page.status).toBe(200);
    const done = await b.post(link, { _csrf: Browser.csrf(page.text) });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/clinic');
    return b;
  }

  async function staffOf(clinicId: string, role: 'staff' | 'admin') {
    const email = `person${seq++}@clinic.example`;
    await admin('post', `/clinics/${clinicId}/staff`, { email, name: `Sam ${seq}`, role }).expect(
      201,
    );
    return email;
  }

  describe('sign-in', () => {
    it('signs in by the emailed link once; the GET of the link changes nothing; a replay is refused', async () => {
      const c = await newClinic('Sign-in Clinic');
      const email = await staffOf(c.id, 'staff');
      const invite = await linkFor(email);
      const b = new Browser();
      // A mail scanner opening the link twice: still usable.
      expect((await b.get(invite)).status).toBe(200);
      const page = await b.get(invite);
      const ok = await b.post(invite, { _csrf: Browser.csrf(page.text) });
      expect(ok.status).toBe(303);
      expect(b.cookies.has('__Host-sd_staff')).toBe(true);
      expect((await b.get('/clinic')).status).toBe(200);

      const again = new Browser();
      const p2 = await again.get(invite);
      expect(p2.status).toBe(410);
      expect(p2.text).toMatch(/already been used/);
      const form = await again.get('/clinic/sign-in');
      const replay = await again.post(invite, { _csrf: Browser.csrf(form.text) });
      expect(replay.status).toBe(410);
      expect(again.cookies.has('__Host-sd_staff')).toBe(false);
    });

    it('refuses an expired link and an unknown one, and answers the same for unknown addresses', async () => {
      const c = await newClinic('Expiry Clinic');
      const email = await staffOf(c.id, 'staff');
      const link = await linkFor(email);
      clock.advance(16 * 60_000);
      const b = new Browser();
      const expired = await b.get(link);
      expect(expired.status).toBe(410);
      expect(expired.text).toMatch(/run out/);
      const form0 = await b.get('/clinic/sign-in');
      expect((await b.post(link, { _csrf: Browser.csrf(form0.text) })).status).toBe(410);
      expect(b.cookies.has('__Host-sd_staff')).toBe(false);
      expect((await b.get(`/clinic/sign-in/${'A'.repeat(43)}`)).status).toBe(404);
      const form = await b.get('/clinic/sign-in');
      const before = smtp.messages.length;
      const nobody = await b.post('/clinic/sign-in', {
        _csrf: Browser.csrf(form.text),
        email: 'nobody@nowhere.example',
      });
      expect(nobody.status).toBe(200);
      expect(nobody.text).toMatch(/If nobody@nowhere\.example belongs/);
      await new Promise((r) => setTimeout(r, 200));
      expect(smtp.messages.length).toBe(before);
    });

    it('refuses a sign-in form without its CSRF token', async () => {
      const b = new Browser();
      await b.get('/clinic/sign-in');
      const res = await b.post('/clinic/sign-in', { email: 'x@clinic.example' });
      expect(res.status).toBe(403);
    });

    it('ends the session at sign-out: the cookie no longer opens any page', async () => {
      const c = await newClinic('Sign-out Clinic');
      const b = await signIn(await staffOf(c.id, 'staff'));
      const home = await b.get('/clinic');
      const cookie = b.header();
      const out = await b.post('/clinic/sign-out', { _csrf: Browser.csrf(home.text) });
      expect(out.status).toBe(200);
      const stale = await http().get('/clinic').set('Cookie', cookie);
      expect(stale.status).toBe(303);
      expect(stale.headers.location).toBe('/clinic/sign-in');
      const audit = await tdb.db
        .selectFrom('audit_log')
        .select('action')
        .where('clinic_id', '=', c.id)
        .execute();
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining(['staff.invited', 'staff.signed-in', 'staff.signed-out']),
      );
    });

    it('keeps a session alive while it is used, ends it after 8 idle hours', async () => {
      const c = await newClinic('Idle Clinic');
      const b = await signIn(await staffOf(c.id, 'staff'));
      clock.advance(7 * 3_600_000);
      expect((await b.get('/clinic')).status).toBe(200);
      clock.advance(7 * 3_600_000); // 14 h after sign-in, 7 h after the last request
      expect((await b.get('/clinic')).status).toBe(200);
      clock.advance(8 * 3_600_000 + 60_000);
      const idle = await b.get('/clinic');
      expect(idle.status).toBe(303);
      expect(idle.headers.location).toBe('/clinic/sign-in');
    });

    it('sends nobody in without a session', async () => {
      const res = await http().get('/clinic/patients');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/clinic/sign-in');
      const post = await http().post('/clinic/patients/x/pause').type('form').send({ _csrf: 'x' });
      expect(post.status).toBe(401);
    });
  });

  describe('patients', () => {
    let clinic: { id: string; key: string };
    let b: Browser;
    beforeAll(async () => {
      clinic = await newClinic('Patients Clinic');
      b = await signIn(await staffOf(clinic.id, 'admin'));
    });

    it('lists, searches and filters patients, and shows one with its history', async () => {
      const ada = await enrol(clinic.key, { name: 'Ada Lovelace', externalId: 'chart-77' });
      await enrol(clinic.key, { name: 'Grace Hopper' });
      const list = await b.get('/clinic/patients');
      expect(list.text).toMatch(/Ada Lovelace/);
      expect(list.text).toMatch(/Grace Hopper/);
      const byName = await b.get('/clinic/patients?q=lovel');
      expect(byName.text).toMatch(/Ada Lovelace/);
      expect(byName.text).not.toMatch(/Grace Hopper/);
      expect((await b.get('/clinic/patients?q=chart-77')).text).toMatch(/Ada Lovelace/);
      expect((await b.get(`/clinic/patients?q=${ada.phone.slice(-7)}`)).text).toMatch(
        /Ada Lovelace/,
      );
      expect((await b.get('/clinic/patients?status=completed')).text).not.toMatch(/Ada Lovelace/);
      expect((await b.get('/clinic/patients?status=bogus')).status).toBe(400);
      expect((await b.get('/clinic/patients?page=0')).status).toBe(400);
      const one = await b.get(`/clinic/patients/${ada.id}`);
      expect(one.status).toBe(200);
      expect(one.text).toMatch(/message 0 of 7/);
      expect(one.text).toMatch(/attested/);
      expect(one.headers['cache-control']).toBe('no-store');
    });

    it('pauses after asking, with the CSRF token, and writes it in the audit log', async () => {
      const p = await enrol(clinic.key);
      const ask = await b.get(`/clinic/patients/${p.id}/pause`);
      expect(ask.status).toBe(200);
      expect(ask.text).toMatch(/Pause tips for this patient\?/);
      expect(
        (
          await tdb.db
            .selectFrom('enrollments')
            .select('status')
            .where('id', '=', p.id)
            .executeTakeFirstOrThrow()
        ).status,
      ).toBe('active');
      // Without the token (a form posted from another site): refused, nothing changes.
      expect((await b.post(`/clinic/patients/${p.id}/pause`, {})).status).toBe(403);
      expect((await b.post(`/clinic/patients/${p.id}/pause`, { _csrf: 'forged' })).status).toBe(
        403,
      );
      const status = () =>
        tdb.db
          .selectFrom('enrollments')
          .select(['status', 'pause_reason'])
          .where('id', '=', p.id)
          .executeTakeFirstOrThrow();
      expect((await status()).status).toBe('active');
      const done = await b.post(`/clinic/patients/${p.id}/pause`, {
        _csrf: Browser.csrf(ask.text),
      });
      expect(done.status).toBe(303);
      expect(await status()).toEqual({ status: 'paused', pause_reason: 'operator' });
      const log = await b.get('/clinic/audit');
      expect(log.text).toMatch(/patient\.paused/);
      const resume = await b.get(`/clinic/patients/${p.id}/resume`);
      await b.post(`/clinic/patients/${p.id}/resume`, { _csrf: Browser.csrf(resume.text) });
      expect((await status()).status).toBe('active');
    });

    it('sends a failed tip again, once, and only a failed one', async () => {
      const p = await enrol(clinic.key);
      await t.get(SchedulerService).runPass();
      const d = await tdb.db
        .selectFrom('deliveries')
        .selectAll()
        .where('enrollment_id', '=', p.id)
        .executeTakeFirstOrThrow();
      const ask = await b.get(`/clinic/patients/${p.id}/deliveries/${d.id}/resend`);
      // Queued, not failed: refused.
      expect(
        (
          await b.post(`/clinic/patients/${p.id}/deliveries/${d.id}/resend`, {
            _csrf: Browser.csrf(ask.text),
          })
        ).status,
      ).toBe(409);
      // The statement itself moves only a failed delivery (a second wall behind the page's check).
      expect(await t.get(DeliveriesRepository).resendFailed(d.id, p.id)).toBeUndefined();
      await tdb.db
        .updateTable('deliveries')
        .set({ status: 'failed', error: 'carrier said no' })
        .where('id', '=', d.id)
        .execute();
      const page = await b.get(`/clinic/patients/${p.id}`);
      expect(page.text).toMatch(/carrier said no/);
      expect(page.text).toMatch(/Send again/);
      const again = await b.post(`/clinic/patients/${p.id}/deliveries/${d.id}/resend`, {
        _csrf: Browser.csrf(ask.text),
      });
      expect(again.status).toBe(303);
      const after = await tdb.db
        .selectFrom('deliveries')
        .selectAll()
        .where('id', '=', d.id)
        .executeTakeFirstOrThrow();
      expect(after).toMatchObject({ status: 'queued', error: null });
      // Paused: not sendable, so not sent again.
      await tdb.db
        .updateTable('deliveries')
        .set({ status: 'failed' })
        .where('id', '=', d.id)
        .execute();
      await tdb.db
        .updateTable('enrollments')
        .set({ status: 'paused', pause_reason: 'operator' })
        .where('id', '=', p.id)
        .execute();
      expect(await t.get(DeliveriesRepository).resendFailed(d.id, p.id)).toBeUndefined();
      await tdb.db
        .updateTable('enrollments')
        .set({ status: 'active', pause_reason: null })
        .where('id', '=', p.id)
        .execute();
      expect(await t.get(DeliveriesRepository).resendFailed(d.id, p.id)).toBeDefined();
      expect(
        (
          await b.post(`/clinic/patients/${p.id}/deliveries/${d.id}/resend`, {
            _csrf: Browser.csrf(ask.text),
          })
        ).status,
      ).toBe(409);
      const audit = await tdb.db
        .selectFrom('audit_log')
        .select('action')
        .where('enrollment_id', '=', p.id)
        .execute();
      expect(audit.map((a) => a.action)).toContain('delivery.resent');
    });

    it("answers 404 for another clinic's patient on every page and form", async () => {
      const other = await newClinic('Other Clinic');
      const theirs = await enrol(other.key);
      await t.get(SchedulerService).runPass();
      const d = await tdb.db
        .selectFrom('deliveries')
        .select('id')
        .where('enrollment_id', '=', theirs.id)
        .executeTakeFirstOrThrow();
      await tdb.db
        .updateTable('deliveries')
        .set({ status: 'failed' })
        .where('id', '=', d.id)
        .execute();
      const home = await b.get('/clinic');
      const csrf = Browser.csrf(home.text);
      const gets = [
        `/clinic/patients/${theirs.id}`,
        `/clinic/patients/${theirs.id}/pause`,
        `/clinic/patients/${theirs.id}/resume`,
        `/clinic/patients/${theirs.id}/cancel`,
        `/clinic/patients/${theirs.id}/deliveries/${d.id}/resend`,
        `/clinic/patients/${theirs.id}/lift-hold`,
      ];
      for (const path of gets) expect([path, (await b.get(path)).status]).toEqual([path, 404]);
      for (const path of gets.slice(1))
        expect([path, (await b.post(path, { _csrf: csrf })).status]).toEqual([path, 404]);
      const row = await tdb.db
        .selectFrom('enrollments')
        .select('status')
        .where('id', '=', theirs.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('active');
      const dd = await tdb.db
        .selectFrom('deliveries')
        .select('status')
        .where('id', '=', d.id)
        .executeTakeFirstOrThrow();
      expect(dd.status).toBe('failed');
      expect((await b.get('/clinic/patients')).text).not.toContain(theirs.id);
      // Another clinic's import: its progress page and its error report are not found.
      const imported = await http()
        .post('/api/v1/enrollments/import')
        .set('Authorization', `Bearer ${other.key}`)
        .set('Content-Type', 'text/csv')
        .send('name,phone,channel\nX,12,sms\n')
        .expect(202);
      expect((await b.get(`/clinic/imports/${imported.body.id}`)).status).toBe(404);
      expect((await b.get(`/clinic/imports/${imported.body.id}/errors.csv`)).status).toBe(404);
    });

    it("exports and erases a patient for the clinic's admins only, and only its own", async () => {
      const p = await enrol(clinic.key, { name: 'Erin Erase' });
      const other = await newClinic('Export Other');
      const theirs = await enrol(other.key);
      const staff = await signIn(await staffOf(clinic.id, 'staff'));
      expect((await staff.get(`/clinic/patients/${p.id}/export.json`)).status).toBe(403);
      expect((await staff.get(`/clinic/patients/${p.id}/erase`)).status).toBe(403);
      expect((await b.get(`/clinic/patients/${theirs.id}/export.json`)).status).toBe(404);
      const exported = await b.get(`/clinic/patients/${p.id}/export.json`);
      expect(exported.status).toBe(200);
      expect(exported.headers['content-disposition']).toMatch(/attachment/);
      expect(exported.text).toContain(p.phone);
      expect(exported.text).not.toContain(theirs.phone);
      const ask = await b.get(`/clinic/patients/${p.id}/erase`);
      expect(ask.text).toMatch(/cannot be undone/);
      expect((await b.post(`/clinic/patients/${p.id}/erase`, {})).status).toBe(403);
      expect(
        (await b.post(`/clinic/patients/${theirs.id}/erase`, { _csrf: Browser.csrf(ask.text) }))
          .status,
      ).toBe(404);
      const done = await b.post(`/clinic/patients/${p.id}/erase`, {
        _csrf: Browser.csrf(ask.text),
      });
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe('/clinic/patients?done=erased');
      expect(
        await tdb.db.selectFrom('subscribers').select('id').where('phone', '=', p.phone).execute(),
      ).toEqual([]);
      expect(
        await tdb.db
          .selectFrom('suppressions')
          .select('reason')
          .where('address', '=', p.phone)
          .execute(),
      ).toEqual([{ reason: 'erased' }]);
      expect((await b.get(`/clinic/patients/${p.id}`)).status).toBe(404);
      const still = await tdb.db
        .selectFrom('enrollments')
        .select('status')
        .where('id', '=', theirs.id)
        .executeTakeFirstOrThrow();
      expect(still.status).toBe('active');
    });

    it('keeps the audit log and the staff page to clinic admins', async () => {
      const staff = await signIn(await staffOf(clinic.id, 'staff'));
      expect((await staff.get('/clinic/audit')).status).toBe(403);
      expect((await staff.get('/clinic/staff')).status).toBe(403);
      expect((await b.get('/clinic/staff')).status).toBe(200);
    });
  });

  describe('red-flag triage', () => {
    const text = (from: string, body: string) =>
      signedTexts(() => t.app.getHttpServer(), fake, PUBLIC_URL)(from, body);

    it('opens an item, tells the clinic by email and on-call text, and closes it with a note', async () => {
      const c = await newClinic('Triage Clinic', { onCallPhone: '+12125550142' });
      const adminEmail = await staffOf(c.id, 'admin');
      const b = await signIn(adminEmail);
      const p = await enrol(c.key, { name: 'Tess Triage' });
      const mailsBefore = smtp.messages.length;
      const res = await text(p.phone, 'i have chest pain and my arm is numb');
      expect(res.status).toBe(200);
      expect(res.text).toMatch(/911|emergency/i);
      const item = await tdb.db
        .selectFrom('triage_items')
        .selectAll()
        .where('clinic_id', '=', c.id)
        .executeTakeFirstOrThrow();
      expect(item).toMatchObject({
        enrollment_id: p.id,
        source: 'sms',
        acknowledged_at: null,
        notified: 'email+sms',
      });
      const mail = await waitFor(
        () => smtp.messages.slice(mailsBefore).find((m) => recipientOf(m) === adminEmail),
        'the red-flag mail',
      );
      expect(mail.subject).toMatch(/Red flag/);
      expect(mail.text).not.toMatch(/Tess|\+1213/);
      expect(fake.messages.find((m) => m.to === '+12125550142')?.body).toMatch(/chest pain/);
      const status = await tdb.db
        .selectFrom('enrollments')
        .select(['status', 'pause_reason'])
        .where('id', '=', p.id)
        .executeTakeFirstOrThrow();
      expect(status).toEqual({ status: 'paused', pause_reason: 'safety' });

      const queue = await b.get('/clinic/triage');
      expect(queue.text).toMatch(/Tess Triage/);
      expect(queue.text).not.toMatch(/Waiting over an hour/);
      const metrics = async () => (await http().get('/metrics')).text;
      expect(await metrics()).toMatch(/selfcare_triage_open_items\{age="under_1h"\} [1-9]/);
      clock.advance(61 * 60_000);
      const late = await b.get('/clinic/triage');
      expect(late.text).toMatch(/Waiting over an hour/);
      expect(await metrics()).toMatch(/selfcare_triage_open_items\{age="over_1h"\} [1-9]/);

      const csrf = Browser.csrf(late.text.slice(late.text.indexOf('/acknowledge') - 200));
      // The hold cannot be lifted while the red flag is open.
      const liftPage = await b.get(`/clinic/patients/${p.id}/lift-hold`);
      expect(liftPage.text).toMatch(/still open/);
      const early = await b.post(`/clinic/patients/${p.id}/lift-hold`, {
        _csrf: csrf,
        note: 'seen',
      });
      expect(early.status).toBe(409);
      const empty = await b.post(`/clinic/triage/${item.id}/acknowledge`, {
        _csrf: csrf,
        note: '  ',
      });
      expect(empty.status).toBe(400);
      const ack = await b.post(`/clinic/triage/${item.id}/acknowledge`, {
        _csrf: csrf,
        note: 'Called her; on the way to the ER',
      });
      expect(ack.status).toBe(303);
      const closed = await tdb.db
        .selectFrom('triage_items')
        .selectAll()
        .where('id', '=', item.id)
        .executeTakeFirstOrThrow();
      expect(closed.note).toBe('Called her; on the way to the ER');
      expect(closed.acknowledged_by).not.toBeNull();
      expect(
        (await b.post(`/clinic/triage/${item.id}/acknowledge`, { _csrf: csrf, note: 'again' }))
          .status,
      ).toBe(409);
      // Acknowledged: a clinic member lifts the hold once a clinician has seen her, with a note.
      expect(
        (await b.post(`/clinic/patients/${p.id}/lift-hold`, { _csrf: csrf, note: ' ' })).status,
      ).toBe(400);
      const lifted = await b.post(`/clinic/patients/${p.id}/lift-hold`, {
        _csrf: csrf,
        note: 'Seen by Dr Ruiz: muscular, cleared',
      });
      expect(lifted.status).toBe(303);
      const after = await tdb.db
        .selectFrom('enrollments')
        .select(['status', 'pause_reason'])
        .where('id', '=', p.id)
        .executeTakeFirstOrThrow();
      expect(after).toEqual({ status: 'active', pause_reason: null });
      expect(
        (await b.post(`/clinic/patients/${p.id}/lift-hold`, { _csrf: csrf, note: 'x' })).status,
      ).toBe(409);
      const actions = await tdb.db
        .selectFrom('audit_log')
        .select('action')
        .where('clinic_id', '=', c.id)
        .execute();
      expect(actions.map((a) => a.action)).toEqual(
        expect.arrayContaining(['triage.raised', 'triage.acknowledged', 'safety.hold-lifted']),
      );

      // Another clinic's staff cannot see or close it.
      const other = await newClinic('Triage Other');
      const ob = await signIn(await staffOf(other.id, 'staff'));
      const theirs = await ob.get('/clinic/triage');
      expect(theirs.text).not.toMatch(/Tess Triage/);
      expect(
        (
          await ob.post(`/clinic/triage/${item.id}/acknowledge`, {
            _csrf: Browser.csrf(theirs.text),
            note: 'x',
          })
        ).status,
      ).toBe(404);
    });

    it("takes a warning sign from an email's link: GET changes nothing, POST holds and opens one item", async () => {
      const c = await newClinic('Email Flag Clinic');
      const adminEmail = await staffOf(c.id, 'admin');
      const p = await enrol(c.key, {
        channel: 'email',
        phone: undefined,
        email: `flag${seq++}@patient.example`,
      });
      const e = await tdb.db
        .selectFrom('enrollments')
        .select('subscriber_id')
        .where('id', '=', p.id)
        .executeTakeFirstOrThrow();
      const url = new URL(t.get(LinksService).warningSignUrl(e.subscriber_id));
      const items = () =>
        tdb.db.selectFrom('triage_items').selectAll().where('clinic_id', '=', c.id).execute();
      const state = async () =>
        (
          await tdb.db
            .selectFrom('enrollments')
            .select('status')
            .where('id', '=', p.id)
            .executeTakeFirstOrThrow()
        ).status;
      const page = await http().get(url.pathname).expect(200);
      expect(page.text).toMatch(/call 911 now/i);
      expect(await state()).toBe('active');
      expect(await items()).toHaveLength(0);
      const none = await http().post(url.pathname).type('form').send('');
      expect(none.status).toBe(400);
      expect(await state()).toBe('active');
      const odd = await http().post(url.pathname).type('form').send('sign=hiccups');
      expect(odd.status).toBe(400);
      const before = smtp.messages.length;
      const done = await http().post(url.pathname).type('form').send('sign=chest&sign=breathing');
      expect(done.status).toBe(200);
      expect(done.text).toMatch(/your clinic has been told/);
      expect(await state()).toBe('paused');
      expect(await items()).toMatchObject([{ source: 'email', signs: 'chest,breathing' }]);
      await waitFor(
        () => smtp.messages.slice(before).find((m) => recipientOf(m) === adminEmail),
        'the red-flag mail',
      );
      // A second press opens no second item.
      await http().post(url.pathname).type('form').send('sign=chest').expect(200);
      expect(await items()).toHaveLength(1);
      await http().get('/warning-sign/not-a-token').expect(404);
    });

    it('tells the clinic later when the mail server was down at first', async () => {
      const c = await newClinic('Retry Clinic');
      const adminEmail = await staffOf(c.id, 'admin');
      const p = await enrol(c.key);
      smtp.tempFailAll(421, '4.3.2 try later');
      try {
        await text(p.phone, 'crushing chest pressure').expect(200);
      } finally {
        smtp.tempFailAll(null);
      }
      const item = await tdb.db
        .selectFrom('triage_items')
        .selectAll()
        .where('clinic_id', '=', c.id)
        .executeTakeFirstOrThrow();
      expect(item.notified).toBeNull();
      clock.advance(2 * 60_000);
      const before = smtp.messages.length;
      await t.get(SchedulerService).housekeeping();
      await waitFor(
        () => smtp.messages.slice(before).find((m) => recipientOf(m) === adminEmail),
        'the red-flag mail, sent late',
      );
      const told = await tdb.db
        .selectFrom('triage_items')
        .select('notified')
        .where('id', '=', item.id)
        .executeTakeFirstOrThrow();
      expect(told.notified).toBe('email');
    });
  });
});
