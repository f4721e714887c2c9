import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ManualClock } from '../src/common/clock.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

const PATH = '/api/v1/admin/enrollments';

describe('admin enrolment API', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T14:00:00Z'));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    // ROLE=api: no scheduler loop or workers, so the test sees exactly what the API wrote.
    t = await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ROLE: 'api' } });
  });
  afterAll(async () => {
    await t.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  const post = (body: unknown, token = ADMIN_TOKEN) =>
    request(t.app.getHttpServer())
      .post(PATH)
      .set('Authorization', `Bearer ${token}`)
      .send(body as object);

  const counts = async () => {
    const [s, e, c] = await Promise.all(
      (['subscribers', 'enrollments', 'consent_events'] as const).map((table) =>
        tdb.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
      ),
    );
    return { subscribers: Number(s!.n), enrollments: Number(e!.n), consent: Number(c!.n) };
  };

  const valid = {
    campaign: 'upper-back-relief',
    channel: 'email',
    email: 'Pat.Doe@Example.com',
    name: 'Pat Doe',
    timezone: 'Europe/London',
  };

  it('rejects a missing or wrong admin token with 401, and answers 201 with the enrolment when right', async () => {
    await request(t.app.getHttpServer()).post(PATH).send(valid).expect(401);
    await post(valid, 'wrong-token-wrong-token').expect(401);
    expect(await counts()).toEqual({ subscribers: 0, enrollments: 0, consent: 0 });

    const res = await post(valid).expect(201);
    expect(res.body).toMatchObject({ status: 'active', nextSendAt: '2026-06-01T14:00:00.000Z' });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.subscriberId).toMatch(/^[0-9a-f-]{36}$/);
    const sub = await tdb.db.selectFrom('subscribers').selectAll().executeTakeFirstOrThrow();
    expect(sub.email).toBe('pat.doe@example.com');
    const consent = await tdb.db.selectFrom('consent_events').selectAll().executeTakeFirstOrThrow();
    expect(consent).toMatchObject({
      subscriber_id: sub.id,
      kind: 'enrolled',
      source: 'admin',
      channel: 'email',
    });
  });

  it('refuses a second live enrolment of the same person in the same campaign with 409', async () => {
    const before = await counts();
    const res = await post({ ...valid, email: 'pat.doe@example.com' }).expect(409);
    expect(res.body.message).toMatch(/already enrolled/);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['unknown campaign', { ...valid, campaign: 'no-such-campaign' }, 'campaign'],
    ['bad zone', { ...valid, timezone: 'Mars/Olympus' }, 'timezone'],
    [
      'missing zone',
      { campaign: 'upper-back-relief', channel: 'email', email: 'a@example.com' },
      'timezone',
    ],
    ['bad phone', { ...valid, channel: 'sms', email: undefined, phone: '12345' }, 'phone'],
    [
      'landline',
      { ...valid, channel: 'sms', email: undefined, phone: '+44 20 7946 0000' },
      'phone',
    ],
    ['missing contact for email', { ...valid, email: undefined }, 'email'],
    ['missing contact for sms', { ...valid, channel: 'sms', email: undefined }, 'phone'],
    ['bad email', { ...valid, email: 'not-an-email' }, 'email'],
    ['bad channel', { ...valid, channel: 'pigeon' }, 'channel'],
    ['wrong type for name', { ...valid, name: 42 }, 'name'],
    ['wrong type for campaign', { ...valid, campaign: ['upper-back-relief'] }, 'campaign'],
    ['bad send time', { ...valid, sendTime: '25:00' }, 'sendTime'],
    ['send time as number', { ...valid, sendTime: 800 }, 'sendTime'],
    ['name with a line break', { ...valid, name: 'Pat\r\nBcc: x@example.com' }, 'name'],
    ['10 kB name', { ...valid, name: 'x'.repeat(10_000) }, 'name'],
    ['unknown field', { ...valid, admin: true }, 'admin'],
  ])('answers 400 naming the field for %s, and stores nothing', async (_what, body, field) => {
    const before = await counts();
    const res = await post(body).expect(400);
    expect(res.body.message).toMatch(new RegExp(`^${field}\\b|; ${field}\\b`));
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it('answers 400 for malformed JSON and 413 for an oversized body, and stores nothing', async () => {
    const before = await counts();
    const bad = await request(t.app.getHttpServer())
      .post(PATH)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .set('Content-Type', 'application/json')
      .send('{"campaign": ')
      .expect(400);
    expect(bad.body.message).toMatch(/body: is not valid JSON/);
    const big = await post({ ...valid, name: 'x'.repeat(200_000) }).expect(413);
    expect(big.body.message).toMatch(/body: is larger than/);
    expect(await counts()).toEqual(before);
  });

  it('normalises a phone number to E.164 and defers a late SMS welcome to 08:00 local', async () => {
    clock.set('2026-06-01T23:30:00Z'); // 19:30 in New York
    const early = await post({
      campaign: 'upper-back-relief',
      channel: 'sms',
      phone: '(415) 555-2671',
      country: 'US',
      timezone: 'America/New_York',
    }).expect(201);
    expect(early.body.nextSendAt).toBe('2026-06-01T23:30:00.000Z');
    clock.set('2026-06-02T02:30:00Z'); // 22:30 in New York
    const late = await post({
      campaign: 'upper-back-relief',
      channel: 'sms',
      phone: '+1 415 555 2672',
      timezone: 'America/New_York',
    }).expect(201);
    expect(late.body.nextSendAt).toBe('2026-06-02T12:00:00.000Z'); // 08:00 EDT
    const phones = await tdb.db
      .selectFrom('subscribers')
      .select('phone')
      .where('phone', 'is not', null)
      .orderBy('phone')
      .execute();
    expect(phones.map((p) => p.phone)).toEqual(['+14155552671', '+14155552672']);
  });

  it('pauses, resumes and cancels, keeping the step; shows deliveries; 404 for unknown ids', async () => {
    clock.set('2026-06-03T09:00:00Z');
    const created = await post({
      ...valid,
      email: 'sam@example.com',
      timezone: 'Europe/London',
      sendTime: '07:30',
    }).expect(201);
    const id = created.body.id as string;
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const server = t.app.getHttpServer();

    // Pretend two steps went out: the next one is step 2.
    await tdb.db
      .updateTable('enrollments')
      .set({ step: 2, next_send_at: new Date('2026-06-04T06:30:00Z') })
      .where('id', '=', id)
      .execute();
    const paused = await request(server).post(`${PATH}/${id}/pause`).set(auth).expect(200);
    expect(paused.body).toMatchObject({ status: 'paused', step: 2, nextSendAt: null });
    await request(server).post(`${PATH}/${id}/pause`).set(auth).expect(200); // idempotent

    clock.set('2026-06-10T12:00:00Z');
    const resumed = await request(server).post(`${PATH}/${id}/resume`).set(auth).expect(200);
    expect(resumed.body).toMatchObject({
      status: 'active',
      step: 2,
      nextSendAt: '2026-06-11T06:30:00.000Z',
    });

    const moved = await request(server)
      .patch(`${PATH}/${id}`)
      .set(auth)
      .send({ sendTime: '19:00' })
      .expect(200);
    expect(moved.body.nextSendAt).toBe('2026-06-11T18:00:00.000Z');
    const badPatch = await request(server)
      .patch(`${PATH}/${id}`)
      .set(auth)
      .send({ sendTime: '7pm' })
      .expect(400);
    expect(badPatch.body.message).toMatch(/^sendTime:/);

    const shown = await request(server).get(`${PATH}/${id}`).set(auth).expect(200);
    expect(shown.body).toMatchObject({
      id,
      status: 'active',
      sendTime: '19:00',
      timezone: 'Europe/London',
      deliveries: [],
    });

    const cancelled = await request(server).post(`${PATH}/${id}/cancel`).set(auth).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', nextSendAt: null });
    const again = await request(server).post(`${PATH}/${id}/resume`).set(auth).expect(409);
    expect(again.body.message).toMatch(/cancelled/);

    await request(server).get(`${PATH}/00000000-0000-4000-8000-000000000000`).set(auth).expect(404);
    await request(server).get(`${PATH}/not-a-uuid`).set(auth).expect(404);
  });

  it('lists campaigns and previews every step by email and SMS, with clear 4xx for bad requests', async () => {
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const server = t.app.getHttpServer();
    const list = await request(server).get('/api/v1/admin/campaigns').set(auth).expect(200);
    expect(list.body.map((c: { id: string }) => c.id)).toEqual([
      'upper-back-relief',
      'upper-back-relief-demo',
    ]);
    expect(list.body[1]).toMatchObject({
      cadence: 'every 10s',
      quietHours: false,
      audience: 'demo',
    });
    const base = '/api/v1/admin/campaigns/upper-back-relief/steps';
    const html = await request(server).get(`${base}/heat/preview`).set(auth).expect(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.text).toMatch(/chest pain/i);
    const text = await request(server).get(`${base}/5/preview?format=text`).set(auth).expect(200);
    expect(text.text).toMatch(/^Subject: /);
    const sms = await request(server).get(`${base}/1/preview?channel=sms`).set(auth).expect(200);
    expect(sms.body).toMatchObject({ encoding: 'GSM-7', segments: 2 });
    expect(
      (await request(server).get(`${base}/9/preview`).set(auth).expect(400)).body.message,
    ).toMatch(/^step: use 1-7/);
    expect(
      (await request(server).get(`${base}/1/preview?channel=fax`).set(auth).expect(400)).body
        .message,
    ).toMatch(/^channel:/);
    await request(server).get('/api/v1/admin/campaigns/nope/steps/1/preview').set(auth).expect(404);
    await request(server).get(`${base}/1/preview`).expect(401);
  });

  it('serves the queue dashboard behind HTTP Basic auth with ADMIN_TOKEN', async () => {
    const server = t.app.getHttpServer();
    const refused = await request(server).get('/admin/queues').expect(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Basic/);
    await request(server).get('/admin/queues').auth('ops', 'wrong-password').expect(401);
    const page = await request(server).get('/admin/queues').auth('ops', ADMIN_TOKEN).expect(200);
    expect(page.text).toMatch(/<html/i);
    const api = await request(server)
      .get('/admin/queues/api/queues')
      .auth('ops', ADMIN_TOKEN)
      .expect(200);
    expect(api.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['email', 'sms']);
  });

  it('serves the OpenAPI document and health', async () => {
    const server = t.app.getHttpServer();
    const health = await request(server).get('/health').expect(200);
    expect(health.body.status).toBe('ok');
    const docs = await request(server).get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toContain('/api/v1/admin/enrollments');
  });
});
