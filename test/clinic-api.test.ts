import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ManualClock } from '../src/common/clock.js';
import { QueueName, QueuesService } from '../src/delivery/index.js';
import { LinksService } from '../src/links/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { startContract, type Contract } from './support/contract.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

/**
 * Clinics as tenants, through the real HTTP API: the operator adds clinics and keys, a clinic
 * enrols its patients with its key. ROLE=api: no workers or scheduler, so the test sees
 * exactly what the API wrote. Every request and answer goes through the contract checker
 * (test/support/contract.ts): a difference from the OpenAPI document fails the test.
 */
describe('clinic API', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T14:00:00Z'));
  let seq = 0;
  let contract: Contract;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ROLE: 'api' } });
    contract = await startContract(t.app);
  });
  afterEach(() => contract.assertNoViolations());
  afterAll(async () => {
    await contract?.close();
    await t?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const http = () => request(contract.server);
  const admin = {
    post: (path: string, body: unknown = {}) =>
      http()
        .post(`/api/v1/admin${path}`)
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send(body as object),
    get: (path: string) =>
      http().get(`/api/v1/admin${path}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
    patch: (path: string, body: unknown) =>
      http()
        .patch(`/api/v1/admin${path}`)
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send(body as object),
    delete: (path: string) =>
      http().delete(`/api/v1/admin${path}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
  };
  const clinicBody = (over: Record<string, unknown> = {}) => ({
    name: 'Riverside Chiropractic',
    timezone: 'America/New_York',
    senderName: 'Riverside Chiropractic',
    replyTo: 'desk@riverside.example',
    phone: '+1 212 555 0199',
    postalAddress: '12 River St, Springfield, NY 10001',
    bookingUrl: 'https://riverside.example/book',
    chiropractorName: 'Dr. Ana Ruiz',
    ...over,
  });
  async function newClinic(over: Record<string, unknown> = {}) {
    const res = await admin.post('/clinics', clinicBody(over)).expect(201);
    return res.body as { id: string; slug: string };
  }
  async function newKey(clinicId: string, scopes?: string[]) {
    const res = await admin
      .post(`/clinics/${clinicId}/api-keys`, scopes ? { scopes } : {})
      .expect(201);
    return res.body as { id: string; prefix: string; apiKey: string };
  }
  const as = (key: string) => ({
    post: (path: string, body?: unknown, idem?: string) => {
      const r = http().post(`/api/v1${path}`).set('Authorization', `Bearer ${key}`);
      if (idem) r.set('Idempotency-Key', idem);
      return body === undefined ? r : r.send(body as object);
    },
    get: (path: string) => http().get(`/api/v1${path}`).set('Authorization', `Bearer ${key}`),
    delete: (path: string) => http().delete(`/api/v1${path}`).set('Authorization', `Bearer ${key}`),
    patch: (path: string, body: unknown) =>
      http()
        .patch(`/api/v1${path}`)
        .set('Authorization', `Bearer ${key}`)
        .send(body as object),
  });
  const consent = {
    method: 'written',
    obtainedAt: '2026-06-01T13:30:00Z',
    collectedBy: 'Front desk (Sam)',
  };
  const patient = (over: Record<string, unknown> = {}) => ({
    campaign: 'upper-back-relief',
    channel: 'sms',
    phone: `+1213375${String(1000 + seq++)}`,
    name: 'Pat Doe',
    consent,
    ...over,
  });
  const enrolments = () => tdb.db.selectFrom('enrollments').selectAll().execute();

  describe('clinics and keys (admin API)', () => {
    it('adds a clinic with a slug made from its name, lists, reads and changes it', async () => {
      const c = await newClinic({ name: 'Back & Neck Clinic, Leeds' });
      expect(c).toMatchObject({
        slug: 'back-neck-clinic-leeds',
        consentMode: 'confirm',
        phone: '+12125550199',
        signupUrl: expect.stringMatching(/\/c\/back-neck-clinic-leeds$/),
      });
      const again = await newClinic({ name: 'Back & Neck Clinic, Leeds' });
      expect(again.slug).toBe('back-neck-clinic-leeds-2');
      const list = await admin.get('/clinics').expect(200);
      expect(list.body.map((x: { id: string }) => x.id)).toEqual(
        expect.arrayContaining([c.id, again.id]),
      );
      await admin.get(`/clinics/${c.id}`).expect(200);
      const changed = await admin
        .patch(`/clinics/${c.id}`, { consentMode: 'attested', chiropractorName: null })
        .expect(200);
      expect(changed.body).toMatchObject({ consentMode: 'attested', chiropractorName: null });
    });

    it('refuses bad clinic input naming every field, and a taken slug, changing nothing', async () => {
      const before = await admin.get('/clinics').expect(200);
      const bad = await admin
        .post(
          '/clinics',
          clinicBody({ replyTo: 'nope', bookingUrl: 'ftp://x', timezone: 'Mars/Base' }),
        )
        .expect(400);
      expect(bad.body.message).toMatch(/replyTo/);
      expect(bad.body.message).toMatch(/bookingUrl/);
      expect(bad.body.message).toMatch(/timezone/);
      const { slug } = await newClinic();
      const taken = await admin.post('/clinics', clinicBody({ slug })).expect(409);
      expect(taken.body.message).toMatch(/slug/);
      expect((await admin.get('/clinics').expect(200)).body.length).toBe(before.body.length + 1);
      await admin
        .patch(`/clinics/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`, { name: 'X' })
        .expect(404);
      await admin.get('/clinics/not-a-uuid').expect(404);
      await http().get('/api/v1/admin/clinics').expect(401);
    });

    it('issues a key once, stores only a hash, and lists keys without secrets', async () => {
      const c = await newClinic();
      const key = await newKey(c.id);
      expect(key.apiKey).toMatch(/^sdk_live_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(key.prefix).toBe(`sdk_live_${key.id}`);
      const row = await tdb.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', key.id)
        .executeTakeFirstOrThrow();
      // The secret (base64url: it may hold '_' itself) is all after the 16-hex id.
      const secret = /^sdk_live_[0-9a-f]{16}_(.+)$/.exec(key.apiKey)![1]!;
      expect(secret).toHaveLength(43);
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(JSON.stringify(row)).not.toContain(Buffer.from(secret).toString('hex'));
      const list = await admin.get(`/clinics/${c.id}/api-keys`).expect(200);
      expect(JSON.stringify(list.body)).not.toContain(key.apiKey);
      expect(list.body[0]).toMatchObject({
        id: key.id,
        scopes: ['enrollments:write', 'enrollments:read'],
      });
      await admin.post(`/clinics/${c.id}/api-keys`, { scopes: ['everything'] }).expect(400);
      await admin.post('/clinics/not-a-uuid/api-keys').expect(404);
    });
  });

  describe('key edges (found by mutation testing)', () => {
    it('a rotated key keeps its name and scopes; a revoked or another clinic’s key cannot be rotated', async () => {
      const c = await newClinic();
      const other = await newClinic();
      const res = await admin
        .post(`/clinics/${c.id}/api-keys`, { name: 'Front desk', scopes: ['enrollments:read'] })
        .expect(201);
      const rotated = await admin
        .post(`/clinics/${c.id}/api-keys/${res.body.id}/rotate`)
        .expect(201);
      expect(rotated.body.next).toMatchObject({ name: 'Front desk', scopes: ['enrollments:read'] });
      await admin.post(`/clinics/${other.id}/api-keys/${res.body.id}/rotate`).expect(404);
      await admin.delete(`/clinics/${c.id}/api-keys/${rotated.body.next.id}`).expect(200);
      await admin.post(`/clinics/${c.id}/api-keys/${rotated.body.next.id}/rotate`).expect(404);
      const unnamed = await admin.post(`/clinics/${c.id}/api-keys`).expect(201);
      expect(unnamed.body.name).toBeNull();
    });

    it('reads the key only from a well-formed Bearer header', async () => {
      const c = await newClinic();
      const { apiKey } = await newKey(c.id);
      const get = (header: string) =>
        http().get('/api/v1/enrollments').set('Authorization', header);
      await get(`Bearer ${apiKey}`).expect(200);
      const basic = await get(`xBearer ${apiKey}`).expect(401);
      expect(basic.body.message).toBe('Authorization: Bearer <api key> is missing');
      await get(`Bearer ${apiKey} extra`).expect(401);
      await get(`Bearer${apiKey}`).expect(401);
      const malformed = await get('Bearer sdk_live_short').expect(401);
      expect(malformed.body.message).toMatch(/not in the form sdk_live_<keyId>_<secret>/);
    });
  });

  describe('keys at the door', () => {
    it('refuses a missing, malformed, unknown, revoked or tampered key (401) and a key without the scope (403)', async () => {
      const c = await newClinic();
      const key = await newKey(c.id);
      const readOnly = await newKey(c.id, ['enrollments:read']);
      await http().get('/api/v1/enrollments').expect(401);
      await as('not-a-key').get('/enrollments').expect(401);
      const tampered = key.apiKey.slice(0, -1) + (key.apiKey.endsWith('A') ? 'B' : 'A');
      const r = await as(tampered).get('/enrollments').expect(401);
      expect(r.body.message).toMatch(/not known/);
      await as(`sdk_live_${'0'.repeat(16)}_${'A'.repeat(43)}`)
        .get('/enrollments')
        .expect(401);
      await as(key.apiKey).get('/enrollments').expect(200);
      const denied = await as(readOnly.apiKey).post('/enrollments', patient()).expect(403);
      expect(denied.body.message).toMatch(/enrollments:write/);
      expect(await enrolments()).toHaveLength(0);
      await as(readOnly.apiKey).get('/enrollments').expect(200);
      await admin.delete(`/clinics/${c.id}/api-keys/${key.id}`).expect(200);
      const revoked = await as(key.apiKey).get('/enrollments').expect(401);
      expect(revoked.body.message).toMatch(/revoked/);
      // Another clinic's key id through this clinic: not found.
      const other = await newClinic();
      await admin.delete(`/clinics/${other.id}/api-keys/${readOnly.id}`).expect(404);
      await as(readOnly.apiKey).get('/enrollments').expect(200);
    });

    it('rotation: the old key works through the overlap, then stops; the new one works; use is recorded', async () => {
      const c = await newClinic();
      const key = await newKey(c.id);
      const rotated = await admin
        .post(`/clinics/${c.id}/api-keys/${key.id}/rotate`, { overlapHours: 2 })
        .expect(201);
      const next = rotated.body.next.apiKey as string;
      expect(rotated.body.previous.expiresAt).toBe('2026-06-01T16:00:00.000Z');
      clock.advance(3600_000);
      await as(key.apiKey).get('/enrollments').expect(200);
      await as(next).get('/enrollments').expect(200);
      clock.advance(3600_000);
      const expired = await as(key.apiKey).get('/enrollments').expect(401);
      expect(expired.body.message).toMatch(/expired/);
      await as(next).get('/enrollments').expect(200);
      const used = await tdb.db
        .selectFrom('api_keys')
        .select('last_used_at')
        .where('id', '=', rotated.body.next.id)
        .executeTakeFirstOrThrow();
      expect(used.last_used_at).toEqual(clock.now());
      clock.set('2026-06-01T14:00:00Z');
    });
  });

  describe('enrolments', () => {
    let clinicA: { id: string };
    let keyA: string;
    let keyB: string;
    beforeAll(async () => {
      clinicA = await newClinic({ name: 'Clinic A' });
      keyA = (await newKey(clinicA.id)).apiKey;
      const clinicB = await newClinic({ name: 'Clinic B' });
      keyB = (await newKey(clinicB.id)).apiKey;
    });

    it('enrols a patient pending their one confirmation, with the attestation as a consent event', async () => {
      const body = patient({ externalId: 'visit-1' });
      const res = await as(keyA).post('/enrollments', body).expect(201);
      expect(res.body).toMatchObject({
        status: 'pending',
        awaiting: 'patient-confirmation',
        externalId: 'visit-1',
        phone: body.phone,
        timezone: 'America/New_York', // the clinic's, none given
        sendTime: '08:00',
        deliveries: [],
      });
      expect(res.body.consentEvents).toEqual([
        expect.objectContaining({
          kind: 'attested',
          source: 'clinic-api',
          method: 'written',
          obtainedAt: '2026-06-01T13:30:00.000Z',
          collectedBy: 'Front desk (Sam)',
          text: expect.stringContaining('Clinic A'),
        }),
      ]);
      const row = await tdb.db
        .selectFrom('enrollments')
        .selectAll()
        .where('id', '=', res.body.id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ clinic_id: clinicA.id, source: 'clinic-api', confirm_count: 1 });
      // The confirmation is queued, its job naming the clinic beside the enrolment.
      const job = await t.get(QueuesService).queue(QueueName.Sms).getJob(`confirm-${row.id}-1`);
      expect(job?.data).toEqual({ enrollmentId: row.id, clinicId: clinicA.id });
    });

    it('starts at once where the clinic attests written consent', async () => {
      const c = await newClinic({ consentMode: 'attested' });
      const key = (await newKey(c.id)).apiKey;
      const res = await as(key)
        .post(
          '/enrollments',
          patient({
            channel: 'email',
            phone: undefined,
            email: `p${seq++}@example.com`,
            consent: { ...consent, text: 'I agree to the tips.' },
          }),
        )
        .expect(201);
      expect(res.body).toMatchObject({
        status: 'active',
        awaiting: null,
        nextSendAt: '2026-06-01T14:00:00.000Z',
      });
      expect(res.body.consentEvents[0]).toMatchObject({ text: 'I agree to the tips.' });
    });

    it('refuses bad input with a 400 naming the field, and changes nothing', async () => {
      const before = (await enrolments()).length;
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ consent: undefined }, /consent/],
        [{ consent: { ...consent, method: 'telepathy' } }, /consent\.method/],
        [{ consent: { ...consent, obtainedAt: 'yesterday' } }, /consent\.obtainedAt/],
        [
          { consent: { ...consent, obtainedAt: '2026-06-02T14:00:00Z' } },
          /consent\.obtainedAt: is in the future/,
        ],
        [{ phone: '12' }, /phone/],
        [{ campaign: 'nope' }, /campaign: unknown campaign/],
        [{ sendTime: '25:00' }, /sendTime/],
        [{ surprise: 1 }, /surprise/],
      ];
      for (const [over, message] of cases) {
        const res = await as(keyA).post('/enrollments', patient(over)).expect(400);
        expect(res.body.message).toMatch(message);
      }
      expect((await enrolments()).length).toBe(before);
    });

    it('a second enrolment of the same patient by the same clinic is a 409; another clinic may enrol them', async () => {
      const body = patient();
      await as(keyA).post('/enrollments', body).expect(201);
      const again = await as(keyA).post('/enrollments', body).expect(409);
      expect(again.body.message).toMatch(/already enrolled/);
      await as(keyB).post('/enrollments', body).expect(201);
    });

    it('a patient who unsubscribed from the clinic’s emails cannot be enrolled again by it (409)', async () => {
      const c = await newClinic({ consentMode: 'attested' });
      const key = (await newKey(c.id)).apiKey;
      const body = patient({ channel: 'email', phone: undefined, email: `u${seq++}@example.com` });
      const { id } = (await as(key).post('/enrollments', body).expect(201)).body;
      const e = await tdb.db
        .selectFrom('enrollments')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const url = t
        .get(LinksService)
        .unsubscribeUrl({ subscriberId: e.subscriber_id, channel: 'email', clinicId: c.id });
      // A page, outside the API document: straight to the app.
      await request(t.app.getHttpServer())
        .post(new URL(url).pathname)
        .type('form')
        .send('List-Unsubscribe=One-Click')
        .expect(200);
      const refused = await as(key).post('/enrollments', body).expect(409);
      expect(refused.body.message).toMatch(/unsubscribed from this clinic/);
      // Another clinic's programme is another matter.
      await as(keyB).post('/enrollments', body).expect(201);
    });

    it('refuses an address that opted out of everything (409), and queues no confirmation when attested', async () => {
      const body = patient();
      await tdb.db
        .insertInto('suppressions')
        .values({
          address: body.phone as string,
          channel: 'sms',
          reason: 'sms-keyword',
          created_at: clock.now(),
        })
        .execute();
      const refused = await as(keyA).post('/enrollments', body).expect(409);
      expect(refused.body.message).toMatch(/^phone: this address opted out of all messages/);
      const c = await newClinic({ consentMode: 'attested' });
      const key = (await newKey(c.id)).apiKey;
      const { id } = (await as(key).post('/enrollments', patient()).expect(201)).body;
      const jobs = await t
        .get(QueuesService)
        .queue(QueueName.Sms)
        .getJobs(['waiting', 'delayed', 'prioritized']);
      expect(jobs.filter((j) => (j.data as { enrollmentId?: string }).enrollmentId === id)).toEqual(
        [],
      );
    });

    it('shows the address of the enrolment’s own channel, and links the other to the person', async () => {
      const email = `both${seq++}@example.com`;
      const body = patient({ email, name: '  Sam Lee  ' });
      const res = await as(keyA).post('/enrollments', body).expect(201);
      expect(res.body).toMatchObject({ phone: body.phone, email: null, name: 'Sam Lee' });
      const people = await tdb.db
        .selectFrom('subscribers')
        .select(['email', 'phone', 'person_id'])
        .where((eb) => eb.or([eb('email', '=', email), eb('phone', '=', body.phone as string)]))
        .execute();
      expect(people).toHaveLength(2);
      expect(people[0]!.person_id).toBe(people[1]!.person_id);
      const byEmail = await as(keyB)
        .post('/enrollments', patient({ channel: 'email', phone: undefined, email }))
        .expect(201);
      expect(byEmail.body).toMatchObject({ email, phone: null });
    });

    it('reads an enrolment with its deliveries, pain scores and the patient’s own STOP', async () => {
      const c = await newClinic({ consentMode: 'attested' });
      const key = (await newKey(c.id)).apiKey;
      const { id } = (await as(key).post('/enrollments', patient()).expect(201)).body;
      const e = await tdb.db
        .selectFrom('enrollments')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      await tdb.db
        .insertInto('deliveries')
        .values({
          enrollment_id: id,
          step: 0,
          step_key: 'welcome',
          channel: 'sms',
          status: 'sent',
          sent_at: clock.now(),
          created_at: clock.now(),
        })
        .execute();
      await tdb.db
        .insertInto('pain_scores')
        .values({
          subscriber_id: e.subscriber_id,
          enrollment_id: id,
          score: 6,
          source: 'sms-reply',
          created_at: clock.now(),
        })
        .execute();
      await tdb.db
        .insertInto('consent_events')
        .values({
          subscriber_id: e.subscriber_id,
          kind: 'withdrawn',
          channel: 'sms',
          source: 'sms-keyword',
          words: 'STOP',
          created_at: clock.now(),
        })
        .execute();
      const paused = await as(key).post(`/enrollments/${id}/pause`).expect(200);
      expect(paused.body).toMatchObject({ pauseReason: 'operator', cancelReason: null });
      const detail = await as(key).get(`/enrollments/${id}`).expect(200);
      expect(detail.body.deliveries).toEqual([
        expect.objectContaining({
          stepKey: 'welcome',
          status: 'sent',
          sentAt: clock.now().toISOString(),
        }),
      ]);
      expect(detail.body.painScores).toEqual([
        { score: 6, source: 'sms-reply', at: clock.now().toISOString() },
      ]);
      expect(detail.body.consentEvents.map((x: { kind: string }) => x.kind)).toEqual([
        'attested',
        'withdrawn',
      ]);
      expect(detail.body.consentEvents[0]).toMatchObject({
        obtainedAt: '2026-06-01T13:30:00.000Z',
      });
      expect(detail.body.consentEvents[1]).toMatchObject({ obtainedAt: null, words: 'STOP' });
      const cancelled = await as(key).delete(`/enrollments/${id}`).expect(200);
      expect(cancelled.body).toMatchObject({ pauseReason: null, cancelReason: 'clinic' });
    });

    it('takes consent given up to five minutes ahead (clocks differ), not later', async () => {
      const soon = new Date(clock.now().getTime() + 5 * 60_000).toISOString();
      await as(keyA)
        .post('/enrollments', patient({ consent: { ...consent, obtainedAt: soon } }))
        .expect(201);
      const late = new Date(clock.now().getTime() + 5 * 60_000 + 1000).toISOString();
      await as(keyA)
        .post('/enrollments', patient({ consent: { ...consent, obtainedAt: late } }))
        .expect(400);
    });

    it('lists the clinic’s own enrolments a page at a time, filtered by status and externalId', async () => {
      const c = await newClinic();
      const key = (await newKey(c.id)).apiKey;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        clock.advance(1000);
        ids.push(
          (
            await as(key)
              .post('/enrollments', patient({ externalId: `x-${i}` }))
              .expect(201)
          ).body.id,
        );
      }
      const first = await as(key).get('/enrollments?limit=2').expect(200);
      expect(first.body.data.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
      const second = await as(key)
        .get(`/enrollments?limit=2&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect(second.body).toEqual({
        data: [expect.objectContaining({ id: ids[0] })],
        nextCursor: null,
      });
      const byExternal = await as(key).get('/enrollments?externalId=x-1').expect(200);
      expect(byExternal.body.data.map((e: { id: string }) => e.id)).toEqual([ids[1]]);
      expect((await as(key).get('/enrollments?status=active').expect(200)).body.data).toEqual([]);
      await as(key).get('/enrollments?status=gone').expect(400);
      await as(key).get('/enrollments?limit=0').expect(400);
      await as(key).get('/enrollments?cursor=bm9wZQ').expect(400);
      const exact = await as(key).get('/enrollments?limit=3').expect(200);
      expect(exact.body.nextCursor).toBeNull();
      const badId = Buffer.from(`${new Date().toISOString()}|not-a-uuid`).toString('base64url');
      await as(key).get(`/enrollments?cursor=${badId}`).expect(400);
      const badTime = Buffer.from(`yesterday|${ids[0]}`).toString('base64url');
      await as(key).get(`/enrollments?cursor=${badTime}`).expect(400);
      // Another clinic sees none of these.
      const theirs = await as(keyB).get('/enrollments?limit=200').expect(200);
      expect(theirs.body.data.map((e: { id: string }) => e.id)).not.toEqual(
        expect.arrayContaining([ids[0]]),
      );
    });

    it('pauses, resumes, reschedules and cancels its own enrolments', async () => {
      const c = await newClinic({ consentMode: 'attested' });
      const key = (await newKey(c.id)).apiKey;
      const { id } = (await as(key).post('/enrollments', patient()).expect(201)).body;
      expect((await as(key).post(`/enrollments/${id}/pause`).expect(200)).body.status).toBe(
        'paused',
      );
      expect((await as(key).post(`/enrollments/${id}/resume`).expect(200)).body.status).toBe(
        'active',
      );
      const moved = await as(key).patch(`/enrollments/${id}`, { sendTime: '09:30' }).expect(200);
      expect(moved.body).toMatchObject({ sendTime: '09:30', status: 'active' });
      await as(key).patch(`/enrollments/${id}`, { sendTime: 'noon' }).expect(400);
      const cancelled = await as(key).delete(`/enrollments/${id}`).expect(200);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelReason: 'clinic' });
      const r = await as(key).post(`/enrollments/${id}/pause`).expect(409);
      expect(r.body.message).toMatch(/cannot pause an enrolment that is cancelled/);
    });

    it('another clinic’s enrolment is not found (404) on every route with an id, and stays as it was', async () => {
      const { id } = (await as(keyA).post('/enrollments', patient()).expect(201)).body;
      const before = await tdb.db
        .selectFrom('enrollments')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const answers = [
        await as(keyB).get(`/enrollments/${id}`),
        await as(keyB).post(`/enrollments/${id}/pause`),
        await as(keyB).post(`/enrollments/${id}/resume`),
        await as(keyB).delete(`/enrollments/${id}`),
        await as(keyB).patch(`/enrollments/${id}`, { sendTime: '09:00' }),
      ];
      for (const res of answers) {
        expect(res.status).toBe(404);
        expect(res.body.message).toBe(`enrollment ${id} not found`);
      }
      // The same answer as an id that does not exist at all.
      const none = '00000000-0000-4000-8000-000000000000';
      expect((await as(keyB).get(`/enrollments/${none}`).expect(404)).body.message).toBe(
        `enrollment ${none} not found`,
      );
      await as(keyB).get('/enrollments/not-a-uuid').expect(404);
      expect(
        await tdb.db
          .selectFrom('enrollments')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirstOrThrow(),
      ).toEqual(before);
    });
  });

  describe('Idempotency-Key', () => {
    let key: string;
    let otherKey: string;
    beforeAll(async () => {
      const c = await newClinic();
      key = (await newKey(c.id)).apiKey;
      otherKey = (await newKey((await newClinic()).id)).apiKey;
    });
    const countFor = async (phone: string) =>
      (
        await tdb.db
          .selectFrom('enrollments')
          .innerJoin('subscribers', 'subscribers.id', 'enrollments.subscriber_id')
          .select('enrollments.id')
          .where('subscribers.phone', '=', phone)
          .execute()
      ).length;

    it('a retry with the same key and body replays the first answer and enrols once', async () => {
      const body = patient();
      const first = await as(key).post('/enrollments', body, 'idem-1').expect(201);
      const again = await as(key).post('/enrollments', body, 'idem-1').expect(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(await countFor(body.phone as string)).toBe(1);
      // Keys are per clinic: another clinic's same key is its own.
      await as(otherKey).post('/enrollments', body, 'idem-1').expect(201);
    });

    it('a body with its keys in another order is the same request; another route is not', async () => {
      const body = patient({ externalId: 'order-1' });
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const first = await as(key).post('/enrollments', body, 'idem-order').expect(201);
      const again = await as(key).post('/enrollments', reordered, 'idem-order').expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      // The same key (and no body) on another route is another request.
      await as(key)
        .post(`/enrollments/${first.body.id}/pause`, undefined, 'idem-order')
        .expect(422);
      // A pause (200, not 201) replays as it answered.
      const attested = (await newKey((await newClinic({ consentMode: 'attested' })).id)).apiKey;
      const { id } = (await as(attested).post('/enrollments', patient()).expect(201)).body;
      const paused = await as(attested)
        .post(`/enrollments/${id}/pause`, undefined, 'idem-pause')
        .expect(200);
      const replay = await as(attested)
        .post(`/enrollments/${id}/pause`, undefined, 'idem-pause')
        .expect(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(paused.body);
      // Resume with the pause's key: the same (empty) body, another route.
      await as(attested).post(`/enrollments/${id}/resume`, undefined, 'idem-pause').expect(422);
    });

    it('the same key with another body is a 422, and changes nothing', async () => {
      await as(key).post('/enrollments', patient(), 'idem-2').expect(201);
      const other = patient();
      const res = await as(key).post('/enrollments', other, 'idem-2').expect(422);
      expect(res.body.message).toMatch(
        /Idempotency-Key: this key was used with a different request/,
      );
      expect(await countFor(other.phone as string)).toBe(0);
    });

    it('two racing at once enrol once: one answers 201, the other replays it or is told to retry (409)', async () => {
      for (let round = 0; round < 5; round++) {
        const body = patient();
        const [a, b] = await Promise.all([
          as(key).post('/enrollments', body, `race-${round}`),
          as(key).post('/enrollments', body, `race-${round}`),
        ]);
        const statuses = [a.status, b.status].sort();
        expect([
          [201, 201],
          [201, 409],
        ]).toContainEqual(statuses);
        const loser = a.status === 409 ? a : b.status === 409 ? b : null;
        if (loser) expect(loser.body.message).toMatch(/still being processed/);
        // A replay is the first answer, whole.
        else expect(a.body).toEqual(b.body);
        expect((a.status === 201 ? a : b).body).toMatchObject({
          status: 'pending',
          phone: body.phone,
        });
        expect(await countFor(body.phone as string)).toBe(1);
      }
    });

    it('a refused request frees its key for the corrected one; keys are forgotten after 24 hours', async () => {
      const body = patient();
      await as(key)
        .post('/enrollments', { ...body, consent: undefined }, 'idem-3')
        .expect(400);
      await as(key).post('/enrollments', body, 'idem-3').expect(201);
      await as(key).post('/enrollments', body, 'idem-3').expect(201);
      clock.advance(24 * 3600_000 + 1000);
      const kept = () =>
        tdb.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'idem-3').execute();
      expect(await kept()).toHaveLength(1);
      expect((await t.get(SchedulerService).housekeeping()).forgotten).toBeGreaterThan(0);
      expect(await kept()).toHaveLength(0);
      const late = await as(key).post('/enrollments', body, 'idem-3').expect(409);
      expect(late.body.message).toMatch(/already enrolled/);
      clock.set('2026-06-01T14:00:00Z');
      await as(key).post('/enrollments', body, 'x'.repeat(256)).expect(400);
    });
  });

  describe('dashboard staff (admin API)', () => {
    it('invites, lists and removes staff; names the problem with bad input', async () => {
      const c = await newClinic();
      const first = await admin
        .post(`/clinics/${c.id}/staff`, {
          email: 'Lead@Riverside.example',
          name: 'Morgan',
          role: 'admin',
        })
        .expect(201);
      expect(first.body).toMatchObject({
        created: true,
        staff: { email: 'lead@riverside.example', role: 'admin', disabledAt: null },
      });
      const again = await admin
        .post(`/clinics/${c.id}/staff`, {
          email: 'lead@riverside.example',
          name: 'Morgan',
          role: 'admin',
        })
        .expect(201);
      expect(again.body.created).toBe(false);
      const clash = await admin
        .post(`/clinics/${c.id}/staff`, {
          email: 'lead@riverside.example',
          name: 'Morgan',
          role: 'staff',
        })
        .expect(409);
      expect(clash.body.message).toMatch(/already on this clinic's staff as admin/);
      const bad = await admin
        .post(`/clinics/${c.id}/staff`, { email: 'nope', name: 'X', role: 'boss' })
        .expect(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['email', 'role']);
      await admin
        .post('/clinics/7d0e3b52-4f8a-4c1e-9a61-2b7f0c9d1e34/staff', {
          email: 'a@b.example',
          name: 'A',
          role: 'staff',
        })
        .expect(404);
      const list = await admin.get(`/clinics/${c.id}/staff`).expect(200);
      expect(list.body).toHaveLength(1);
      const removed = await admin
        .delete(`/clinics/${c.id}/staff/${first.body.staff.id}`)
        .expect(200);
      expect(removed.body.disabledAt).not.toBeNull();
      await admin.delete(`/clinics/${c.id}/staff/${randomUUID()}`).expect(404);
      // Another clinic's member is not found through this clinic.
      const other = await newClinic();
      await admin.delete(`/clinics/${other.id}/staff/${first.body.staff.id}`).expect(404);
    });
  });

  describe('the contract', () => {
    it('reached every documented clinic operation (the contract test covers the rest)', () => {
      // CSV import routes are test/import.test.ts's to exercise.
      const clinics = (op: string) =>
        / \/api\/v1\/(?!admin\/|enrollments\/import)|\/api\/v1\/admin\/clinics/.test(op);
      expect(contract.unexercised(clinics)).toEqual([]);
    });
  });
});
