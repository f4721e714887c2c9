import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import twilio from 'twilio';
import { SendError } from '../src/channels/index.js';
import { ManualClock } from '../src/common/clock.js';
import { ChannelFaults, DeliveriesRepository, QueueName } from '../src/delivery/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import {
  ContractChecker,
  operationsOf,
  startContract,
  type Contract,
  type Exchange,
  type OpenApiDocument,
  type Operation,
} from './support/contract.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { deliveriesOf } from './support/journey.js';
import { startFakeTwilio, twilioEnv, type FakeTwilio } from './support/fake-twilio.js';

/**
 * The OpenAPI document at /docs-json tells the truth: representative traffic for every
 * admin route and every public JSON route, good and bad, goes through a proxy that checks each
 * exchange against the document (test/support/contract.ts), and any difference fails.
 */
describe('OpenAPI contract', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let fake: FakeTwilio;
  let contract: Contract;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date());
  const SIGNUP_LIMIT = 20;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fake = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        ...twilioEnv(fake),
        ROLE: 'api',
        SIGNUP_RATE_PER_MINUTE: String(SIGNUP_LIMIT),
      },
    });
    contract = await startContract(t.app);
  });
  afterEach(() => contract.assertNoViolations());
  afterAll(async () => {
    await contract?.close();
    await t?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const api = () => request(contract.server);
  const admin = {
    get: (path: string) => api().get(path).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
    post: (path: string, body?: object) => {
      const req = api().post(path).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      return body === undefined ? req : req.send(body);
    },
    patch: (path: string, body: object) =>
      api().patch(path).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send(body),
  };
  const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
  const ENROLMENTS = '/api/v1/admin/enrollments';
  const SUBSCRIBERS = '/api/v1/admin/subscribers';

  const person = (n: number, extra: object = {}) => ({
    campaign: 'upper-back-relief',
    channel: 'email',
    email: `contract-${n}@example.com`,
    name: 'Pat',
    timezone: 'Europe/London',
    ...extra,
  });

  describe('the document', () => {
    it('names the two bearer schemes: admin (opaque token) and clinicKey (API key, not JWT)', () => {
      const schemes = contract.document.components?.securitySchemes ?? {};
      expect(schemes.clinicKey).toMatchObject({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
      });
      expect(schemes.clinicKey!.description).toMatch(/sdk_live_<keyId>_<secret>/);
      expect(schemes.admin).toMatchObject({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque token',
      });
      expect(JSON.stringify(schemes)).not.toMatch(/JWT"/);
    });

    it('puts every admin route behind the admin scheme, and every /api/v1 route behind one', () => {
      for (const { name, path, op } of operationsOf(contract.document)) {
        if (!path.startsWith('/api/v1/')) continue;
        const expected = path.startsWith('/api/v1/admin/') ? [{ admin: [] }] : [{ clinicKey: [] }];
        expect({ name, security: op.security }).toEqual({ name, security: expected });
      }
    });

    it('documents POST /subscriptions as 202 with a JSON or form body, not 201', () => {
      const op = contract.document.paths['/subscriptions']!.post as Operation;
      expect(Object.keys(op.requestBody?.content ?? {}).sort()).toEqual([
        'application/json',
        'application/x-www-form-urlencoded',
      ]);
      expect(op.requestBody?.required).toBe(true);
      expect(Object.keys(op.responses ?? {}).sort()).toEqual(['200', '202', '400', '429', '503']);
      expect(op.responses!['202']!.content!['application/json']!.schema).toEqual({
        $ref: '#/components/schemas/SignupAcceptedDto',
      });
    });

    it('gives every answer a schema: errors as ErrorBody, successes as what the route returns', () => {
      // /health answers its report with 503 too: that is its contract, not an error body.
      const ownShape = new Set(['GET /health 503']);
      const missing: string[] = [];
      for (const { name, op } of operationsOf(contract.document)) {
        for (const [status, res] of Object.entries(op.responses ?? {})) {
          const where = `${name} ${status}`;
          const content = res.content ?? {};
          if (status === '204') continue;
          if (Object.keys(content).length === 0) missing.push(`${where}: no content`);
          for (const [type, media] of Object.entries(content)) {
            if (!media.schema) missing.push(`${where} ${type}: no schema`);
            if (Number(status) >= 400 && type === 'application/json') {
              const errorBody = media.schema?.$ref === '#/components/schemas/ErrorBody';
              if (!errorBody && !ownShape.has(where)) {
                missing.push(`${where}: not an ErrorBody`);
              }
            }
          }
        }
      }
      expect(missing).toEqual([]);
    });
  });

  describe('public routes', () => {
    it('POST /subscriptions: 202 for JSON and for a form, 200 for a warning sign', async () => {
      const json = await api()
        .post('/subscriptions')
        .send({ ...person(1), consent: true });
      expect(json.status).toBe(202);
      expect(json.body).toMatchObject({ status: 'pending-confirmation' });
      const form = await api()
        .post('/subscriptions')
        .set('Accept', 'text/html')
        .type('form')
        .send(
          new URLSearchParams({
            channel: 'email',
            email: 'contract-form@example.com',
            timezone: 'Europe/London',
            sendTime: '07:30',
            consent: 'on',
          }).toString(),
        );
      expect(form.status).toBe(202);
      expect(form.type).toBe('text/html');
      const care = await api()
        .post('/subscriptions')
        .send({ redFlags: ['chest'] });
      expect(care.status).toBe(200);
      expect(care.body).toEqual({
        status: 'not-enrolled',
        reason: 'red-flags',
        emergency: true,
        flags: ['chest'],
      });
    });

    it('POST /subscriptions: 400 for bad input, as JSON or as the form again', async () => {
      for (const body of [
        { ...person(2), email: 'not-an-address', consent: true },
        { ...person(2), timezone: undefined, consent: true },
        { ...person(2), consent: false },
        { ...person(2), consent: true, colour: 'red' },
      ]) {
        const res = await api().post('/subscriptions').send(body);
        expect(res.status).toBe(400);
        expect(res.body.errors.length).toBeGreaterThan(0);
      }
      const res = await api()
        .post('/subscriptions')
        .set('Content-Type', 'application/json')
        .send('{"channel":');
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('body: is not valid JSON');
      const page = await api()
        .post('/subscriptions')
        .set('Accept', 'text/html')
        .type('form')
        .send('channel=email&email=nope');
      expect(page.status).toBe(400);
      expect(page.type).toBe('text/html');
    });

    it('refuses JSON consent: false (it used to count as agreement)', async () => {
      const res = await api()
        .post('/subscriptions')
        .send({ ...person(3), consent: false });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { field: 'consent', message: 'tick the box to agree to receive the messages' },
      ]);
    });

    it('GET /health answers its report; GET /metrics the Prometheus text', async () => {
      const health = await api().get('/health');
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('ok');
      const metrics = await api().get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^# HELP /m);
    });

    it('the Twilio webhooks: signed 200/204, unsigned 403, bad fields 400', async () => {
      const signed = (path: string, params: Record<string, string>) =>
        api()
          .post(path)
          .type('form')
          .set(
            'X-Twilio-Signature',
            twilio.getExpectedTwilioSignature(fake.authToken, t.config.publicUrl + path, params),
          )
          .send(new URLSearchParams(params).toString());
      const inbound = '/webhooks/twilio/inbound';
      const stop = { From: '+12133734253', Body: 'STOP', MessageSid: 'SM' + 'a'.repeat(32) };
      const ok = await signed(inbound, stop);
      expect(ok.status).toBe(200);
      expect(ok.type).toBe('text/xml');
      expect((await signed(inbound, { From: '+12133734253' })).status).toBe(400);
      const unsigned = await api()
        .post(inbound)
        .type('form')
        .send(new URLSearchParams(stop).toString());
      expect(unsigned.status).toBe(403);

      const status = '/webhooks/twilio/status';
      const delivered = { MessageSid: 'SM' + 'b'.repeat(32), MessageStatus: 'delivered' };
      expect((await signed(status, delivered)).status).toBe(204);
      expect((await signed(status, { ...delivered, MessageStatus: 'lost' })).status).toBe(400);
      expect((await api().post(status).type('form').send('MessageStatus=sent')).status).toBe(403);
    });

    it('answers 429 once a network sends more signups than the limit in a minute', async () => {
      let res;
      for (let i = 0; i <= SIGNUP_LIMIT; i++) {
        res = await api()
          .post('/subscriptions')
          .send({ ...person(100 + i), consent: true });
        if (res.status === 429) break;
      }
      expect(res!.status).toBe(429);
      expect(res!.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    });
  });

  describe('admin routes', () => {
    let enrolment: { id: string; subscriberId: string };

    it('401 without the admin token, or with a wrong one', async () => {
      expect((await api().get('/api/v1/admin/campaigns')).status).toBe(401);
      const wrong = await api()
        .get('/api/v1/admin/campaigns')
        .set('Authorization', 'Bearer wrong-token-0123456789');
      expect(wrong.status).toBe(401);
      expect((await api().post(ENROLMENTS).send(person(10))).status).toBe(401);
    });

    it('campaigns: the list, and previews as HTML, text and JSON', async () => {
      const list = await admin.get('/api/v1/admin/campaigns');
      expect(list.status).toBe(200);
      expect(list.body.map((c: { id: string }) => c.id)).toContain('upper-back-relief');
      const preview = '/api/v1/admin/campaigns/upper-back-relief/steps/1/preview';
      expect((await admin.get(preview)).type).toBe('text/html');
      expect((await admin.get(`${preview}?format=text`)).type).toBe('text/plain');
      expect((await admin.get(`${preview}?format=json`)).body).toHaveProperty('subject');
      expect((await admin.get(`${preview}?channel=sms`)).body).toHaveProperty('segments');
      expect((await admin.get(`${preview}?channel=fax`)).status).toBe(400);
      expect((await admin.get(preview.replace('/1/', '/99/'))).status).toBe(400);
      expect((await admin.get(preview.replace('upper-back-relief', 'nope'))).status).toBe(404);
    });

    it('enrolments: 201, then 400 for bad input and 409 for a second one', async () => {
      const res = await admin.post(ENROLMENTS, person(20));
      expect(res.status).toBe(201);
      enrolment = res.body;
      expect((await admin.post(ENROLMENTS, person(20))).status).toBe(409);
      const sms = await admin.post(ENROLMENTS, {
        campaign: 'upper-back-relief',
        channel: 'sms',
        phone: '+12133734254',
        timezone: 'America/Los_Angeles',
        sendTime: '09:15',
      });
      expect(sms.status).toBe(201);
      for (const bad of [
        { ...person(21), timezone: 'Mars/Olympus' },
        { ...person(21), channel: 'pigeon' },
        { ...person(21), campaign: 'nope' },
        { ...person(21), colour: 'red' },
        {},
      ]) {
        expect((await admin.post(ENROLMENTS, bad)).status).toBe(400);
      }
    });

    it('an enrolment with its deliveries; 404 for an unknown or malformed id', async () => {
      await t.get(SchedulerService).runPass();
      const res = await admin.get(`${ENROLMENTS}/${enrolment.id}`);
      expect(res.status).toBe(200);
      expect(res.body.deliveries.length).toBeGreaterThan(0);
      expect((await admin.get(`${ENROLMENTS}/${UNKNOWN_ID}`)).status).toBe(404);
      expect((await admin.get(`${ENROLMENTS}/not-an-id`)).status).toBe(404);
    });

    it('reschedule, pause, resume and cancel: 200, 400, 404 and 409', async () => {
      const at = (action: string, id = enrolment.id) => `${ENROLMENTS}/${id}/${action}`;
      const retime = async (body: object, id = enrolment.id) =>
        (await admin.patch(`${ENROLMENTS}/${id}`, body)).status;
      expect(await retime({ sendTime: '18:30' })).toBe(200);
      expect(await retime({})).toBe(400);
      expect(await retime({ sendTime: '25:00' })).toBe(400);
      expect(await retime({ sendTime: '18:30' }, UNKNOWN_ID)).toBe(404);
      const paused = await admin.post(at('pause'));
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ status: 'paused', pauseReason: 'operator' });
      expect((await admin.post(at('resume'))).body).toMatchObject({ status: 'active' });
      expect((await admin.post(at('resume'))).status).toBe(200); // active: answered as it is
      const cancelled = await admin.post(at('cancel'));
      expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelReason: 'operator' });
      expect((await admin.post(at('cancel'))).status).toBe(200); // safe to repeat
      expect((await admin.post(at('pause'))).status).toBe(409);
      expect((await admin.post(at('resume'))).status).toBe(409);
      expect(await retime({ sendTime: '07:00' })).toBe(409);
      for (const action of ['pause', 'resume', 'cancel']) {
        expect((await admin.post(at(action, UNKNOWN_ID))).status).toBe(404);
      }
    });

    it('subscribers: find, consent export, safety hold and its lift', async () => {
      const phone = '+12133734255';
      const held = await admin.post(ENROLMENTS, {
        campaign: 'upper-back-relief',
        channel: 'sms',
        phone,
        timezone: 'America/New_York',
      });
      expect(held.status).toBe(201);
      const params = {
        From: phone,
        Body: 'my chest is really tight',
        MessageSid: 'SM' + 'c'.repeat(32),
      };
      const path = '/webhooks/twilio/inbound';
      const reply = await api()
        .post(path)
        .type('form')
        .set(
          'X-Twilio-Signature',
          twilio.getExpectedTwilioSignature(fake.authToken, t.config.publicUrl + path, params),
        )
        .send(new URLSearchParams(params).toString());
      expect(reply.status).toBe(200);

      const found = await admin.get(`${SUBSCRIBERS}?phone=${encodeURIComponent(phone)}`);
      expect(found.body).toEqual({ id: held.body.subscriberId });
      const id = found.body.id as string;
      expect((await admin.get(`${SUBSCRIBERS}?email=contract-20@example.com`)).status).toBe(200);
      expect((await admin.get(`${SUBSCRIBERS}?email=nobody@example.com`)).status).toBe(404);
      expect((await admin.get(`${SUBSCRIBERS}?email=nope`)).status).toBe(400);
      expect((await admin.get(SUBSCRIBERS)).status).toBe(400);

      const consent = await admin.get(`${SUBSCRIBERS}/${id}/consent`);
      expect(consent.status).toBe(200);
      expect(consent.body.consentEvents.length).toBeGreaterThan(0);
      expect((await admin.get(`${SUBSCRIBERS}/${UNKNOWN_ID}/consent`)).status).toBe(404);

      const safety = await admin.get(`${SUBSCRIBERS}/${id}/safety`);
      expect(safety.body).toMatchObject({ held: true, signs: expect.arrayContaining(['chest']) });
      expect((await admin.get(`${SUBSCRIBERS}/bad-id/safety`)).status).toBe(404);

      const lift = `${SUBSCRIBERS}/${id}/safety-hold/lift`;
      expect((await admin.post(lift, { by: 'nobody' })).status).toBe(400);
      expect((await admin.post(lift, { by: 'clinic', extra: 1 })).status).toBe(400);
      const lifted = await admin.post(lift, { by: 'clinic', note: 'Seen by Dr Lee; cleared.' });
      expect(lifted.status).toBe(200);
      expect(lifted.body).toMatchObject({ lifted: true, resumed: 1, safety: { held: false } });
      expect(
        (await admin.post(`${SUBSCRIBERS}/${UNKNOWN_ID}/safety-hold/lift`, { by: 'operator' }))
          .status,
      ).toBe(404);
    });

    it('deliveries in trouble and channel state; 400 for a bad query', async () => {
      const e = await admin.post(ENROLMENTS, person(30));
      await t.get(SchedulerService).runPass();
      const [d] = await deliveriesOf(tdb.db, e.body.id);
      const repo = t.get(DeliveriesRepository);
      await repo.claim(d!.id, 60_000);
      await repo.markFailed(d!.id, 'undeliverable: SMTP 550 5.1.1 at RCPT TO', 1);
      const failed = await admin.get('/api/v1/admin/deliveries?kind=failed&limit=10');
      expect(failed.status).toBe(200);
      expect(failed.body.deliveries.map((x: { id: string }) => x.id)).toContain(d!.id);
      for (const query of ['kind=lost', 'since=yesterday', 'limit=0', 'colour=red']) {
        expect((await admin.get(`/api/v1/admin/deliveries?${query}`)).status).toBe(400);
      }

      expect((await admin.get('/api/v1/admin/channels')).body).toEqual({
        email: { status: 'sending' },
        sms: { status: 'sending' },
      });
      await t
        .get(ChannelFaults)
        .trip(QueueName.Sms, new SendError('Twilio 401 error 20003', 'config', 20003));
      const paused = await admin.get('/api/v1/admin/channels');
      expect(paused.body.sms).toMatchObject({ status: 'paused', code: 20003 });
    });
  });

  describe('coverage and the checker itself', () => {
    it('reached every documented admin and public operation', () => {
      // Clinics and their keys (admin) and the clinic API are the clinic tests' to exercise,
      // through the same checker (startContract); every answer's schema is checked above.
      const clinics = (op: string) => / \/api\/v1\/(?!admin\/)|\/api\/v1\/admin\/clinics/.test(op);
      // Export and erasure are test/data-rights.test.ts's, through the same checker.
      const dataRights = (op: string) => /\/admin\/subscribers\/\{id\}\/(export|erase)$/.test(op);
      expect(contract.unexercised((op) => !clinics(op) && !dataRights(op))).toEqual([]);
    });

    /** A real exchange of this run, to replay against a document with one thing changed. */
    const recorded = (operation: string, status: number): Exchange => {
      const x = contract.exchanges.find((e) => e.operation === operation && e.status === status);
      if (!x) throw new Error(`no ${operation} ${status} was recorded`);
      return x;
    };
    const tampered = (change: (doc: OpenApiDocument) => void) => {
      const doc = structuredClone(contract.document);
      change(doc);
      return new ContractChecker(doc);
    };

    it('fails an answer whose body breaks the documented schema', () => {
      const x = recorded(`POST ${ENROLMENTS}`, 201);
      expect(contract.checker.check(x).violations).toEqual([]);
      const checker = tampered((doc) => {
        doc.components!.schemas!.EnrollmentSummaryDto!.properties = {
          ...(doc.components!.schemas!.EnrollmentSummaryDto!.properties as object),
          step: { type: 'string' },
        };
      });
      expect(checker.check(x).violations).toEqual([
        expect.stringMatching(/→ 201: response body\/step must be string/),
      ]);
    });

    it('fails a property the document does not name, and an undocumented status', () => {
      const x = recorded(`GET ${SUBSCRIBERS}`, 200);
      const extra = {
        ...x,
        responseBody: Buffer.from(JSON.stringify({ id: UNKNOWN_ID, email: 'x' })),
      };
      expect(contract.checker.check(extra).violations).toEqual([
        expect.stringMatching(/must NOT have additional properties \(email\)/),
      ]);
      expect(contract.checker.check({ ...x, status: 418 }).violations).toEqual([
        expect.stringMatching(/status 418 is not documented/),
      ]);
    });

    it('fails an accepted request that breaks the documented body, and an undocumented route', () => {
      const x = recorded(`POST ${ENROLMENTS}`, 201);
      const bad = { ...x, body: Buffer.from(JSON.stringify({ campaign: 'upper-back-relief' })) };
      expect(contract.checker.check(bad).violations).toEqual([
        expect.stringMatching(
          /accepted a request the document calls wrong: body must have required/,
        ),
      ]);
      // The same request refused is fine: that is how 400s are tested.
      const refused = recorded(`POST ${ENROLMENTS}`, 400);
      expect(contract.checker.check({ ...refused, body: bad.body }).violations).toEqual([]);
      expect(contract.checker.check({ ...x, url: '/api/v1/admin/everything' }).violations).toEqual([
        expect.stringMatching(/the document has no such path/),
      ]);
      expect(contract.checker.check({ ...x, method: 'DELETE' }).violations).toEqual([
        expect.stringMatching(/the document has no DELETE/),
      ]);
    });
  });
});
