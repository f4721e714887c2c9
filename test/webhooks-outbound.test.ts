import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { MAX_ATTEMPTS, WebhookSender, WebhooksRepository } from '../src/clinic-webhooks/index.js';
import { CampaignsService } from '../src/campaigns/index.js';
import { ManualClock } from '../src/common/clock.js';
import { EnrollmentLifecycle } from '../src/enrollments/index.js';
import { LinksService } from '../src/links/index.js';
import { CONFIG, type AppConfig } from '../src/config/index.js';
import { RetentionService } from '../src/data-rights/index.js';
import { DB, Transactions, type Db } from '../src/database/index.js';
import { MetricsService } from '../src/metrics/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { WebhookOutbox } from '../src/webhook-outbox/index.js';
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

/** One request the receiver got. */
interface Hit {
  headers: IncomingHttpHeaders;
  body: string;
  json: {
    id: string;
    type: string;
    createdAt: string;
    clinicId: string;
    data: Record<string, unknown>;
  };
}

/**
 * A clinic's receiving system: a real HTTP server on a free port. `answers` is what it does
 * with the next requests (a status, or 'hang' to never answer); after them it answers 204.
 */
async function startReceiver() {
  const hits: Hit[] = [];
  const answers: (number | 'hang')[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body, json: JSON.parse(body) as Hit['json'] });
      const a = answers.shift() ?? 204;
      if (a === 'hang') return; // the socket is destroyed by the sender's timeout
      res.statusCode = a;
      if (a === 429) res.setHeader('Retry-After', '120');
      res.end(a >= 300 ? 'nope' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/selfcare`,
    hits,
    answers,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The secret shown on a page (Handlebars writes "=" as an entity, as browsers read it). */
const secretIn = (html: string): string | undefined =>
  /value="(whsec_[^"]+)"/.exec(html)?.[1]?.replace(/&#x3D;/g, '=');

/** The receiver's check, written here from the scheme, not with the service's own code. */
function signatureOk(secret: string, h: Hit): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const id = String(h.headers['webhook-id']);
  const ts = String(h.headers['webhook-timestamp']);
  const mac = createHmac('sha256', key).update(`${id}.${ts}.${h.body}`).digest('base64');
  return String(h.headers['webhook-signature']).split(' ').includes(`v1,${mac}`);
}

/**
 * Outbound webhooks end to end: a clinic admin adds an endpoint on the dashboard, real events
 * (a YES, a pain score text, a red-flag text, STOP, the last step of a programme) land in the
 * outbox in their own transactions, and the sender posts them, signed, to a real HTTP
 * receiver, retrying with backoff. ROLE=api with a manual clock: the test drives the sender.
 */
describe('outbound webhooks', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let smtp: SmtpSink;
  let fake: FakeTwilio;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sender: WebhookSender;
  let repo: WebhooksRepository;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-06-01T16:00:00Z'));
  let seq = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    fake = await startFakeTwilio();
    receiver = await startReceiver();
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
        WEBHOOK_TIMEOUT_MS: '700',
      },
    });
    // The worker role's sender, on the api app's clock and database.
    repo = new WebhooksRepository(t.app.get<Db>(DB));
    sender = new WebhookSender(
      t.app.get<AppConfig>(CONFIG),
      repo,
      t.app.get(MetricsService),
      clock,
    );
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
    await fake?.close();
    await receiver?.close();
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
        phone: `+1213376${String(3000 + seq++)}`,
        name: 'Pat Doe',
        externalId: `chart-${seq}`,
        consent: { method: 'written', obtainedAt: '2030-06-01T15:00:00Z', collectedBy: 'Sam' },
        ...over,
      })
      .expect(201);
    return res.body as { id: string; phone: string; status: string };
  }

  const text = (from: string, body: string) =>
    signedTexts(() => t.app.getHttpServer(), fake, PUBLIC_URL)(from, body);
  class Browser extends StaffBrowser {
    constructor() {
      super(() => t.app.getHttpServer());
    }
  }

  async function signIn(clinicId: string, role: 'staff' | 'admin'): Promise<Browser> {
    const email = `person${seq++}@clinic.example`;
    const before = smtp.messages.length;
    await admin('post', `/clinics/${clinicId}/staff`, { email, name: `Sam ${seq}`, role }).expect(
      201,
    );
    const mail = await waitFor(
      () => smtp.messages.slice(before).find((m) => recipientOf(m) === email),
      `an invitation to ${email}`,
    );
    const link = /https:\/\/drip\.example(\/clinic\/sign-in\/[A-Za-z0-9_-]{43})/.exec(
      mail.text ?? '',
    )![1]!;
    const b = new Browser();
    const page = await b.get(link);
    expect((await b.post(link, { _csrf: Browser.csrf(page.text) })).status).toBe(303);
    return b;
  }

  /** Adds an endpoint through the dashboard form; returns its id and the secret shown once. */
  async function addEndpoint(b: Browser, url: string, events?: string[]) {
    const page = await b.get('/clinic/webhooks');
    expect(page.status).toBe(200);
    const res = await b.post('/clinic/webhooks', {
      _csrf: Browser.csrf(page.text),
      url,
      description: 'Practice management',
      events: events ?? [
        'enrollment.confirmed',
        'enrollment.completed',
        'enrollment.opted_out',
        'pain_score.received',
        'red_flag.raised',
      ],
    });
    expect(res.status).toBe(200);
    const secret = secretIn(res.text);
    expect(secret).toBeDefined();
    const id = /\/clinic\/webhooks\/([0-9a-f-]{36})\/test/.exec(res.text)![1]!;
    return { id, secret: secret!, csrf: Browser.csrf(res.text) };
  }

  const rowsOf = (clinicId: string) =>
    tdb.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .orderBy('id')
      .execute();

  // Each test starts with nothing waiting: the sender is shared by every clinic.
  beforeEach(async () => {
    await tdb.db
      .updateTable('webhook_deliveries')
      .set({ status: 'cancelled' })
      .where('status', '=', 'pending')
      .execute();
  });

  /** Runs sender passes until nothing due is left. */
  async function drain() {
    while ((await sender.sendDue()) > 0);
  }

  it('lets a clinic admin add an endpoint, shows its secret once, and keeps staff out', async () => {
    const c = await newClinic('Hook Setup Clinic');
    const b = await signIn(c.id, 'admin');
    const home = await b.get('/clinic');
    expect(home.text).toContain('href="/clinic/webhooks"');
    const { id, secret } = await addEndpoint(b, receiver.url);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const [row] = await tdb.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('clinic_id', '=', c.id)
      .execute();
    expect(row).toMatchObject({ id, url: receiver.url, secret });
    expect(row!.events).toHaveLength(5);
    // Shown once: the page afterwards lists the endpoint but never the secret.
    const later = await b.get('/clinic/webhooks');
    expect(later.text).toContain(receiver.url);
    expect(later.text).not.toContain(secret);
    const audit = await tdb.db
      .selectFrom('audit_log')
      .select('action')
      .where('clinic_id', '=', c.id)
      .execute();
    expect(audit.map((a) => a.action)).toContain('webhook.added');

    // Staff (not admin): no link, and the page and its forms answer 403.
    const s = await signIn(c.id, 'staff');
    const staffHome = await s.get('/clinic');
    expect(staffHome.text).not.toContain('href="/clinic/webhooks"');
    expect((await s.get('/clinic/webhooks')).status).toBe(403);
    const staffAdd = await s.post('/clinic/webhooks', {
      _csrf: Browser.csrf(staffHome.text),
      url: 'https://elsewhere.example/hook',
      events: 'red_flag.raised',
    });
    expect(staffAdd.status).toBe(403);
    expect(
      await tdb.db
        .selectFrom('webhook_endpoints')
        .select('id')
        .where('clinic_id', '=', c.id)
        .execute(),
    ).toHaveLength(1);

    // Five at most: the form goes away, and a post past it is refused.
    for (let i = 2; i <= 5; i++) await addEndpoint(b, `${receiver.url}?n=${i}`);
    const full = await b.get('/clinic/webhooks');
    expect(full.text).not.toContain('method="post" action="/clinic/webhooks"');
    const sixth = await b.post('/clinic/webhooks', {
      _csrf: Browser.csrf(full.text),
      url: `${receiver.url}?n=6`,
      events: 'red_flag.raised',
    });
    expect(sixth.status).toBe(409);
    expect(sixth.text).toMatch(/at most 5 webhook endpoints/);
  });

  it('refuses bad input with a message and stores nothing, and refuses a form without its CSRF token', async () => {
    const c = await newClinic('Hook Input Clinic');
    const b = await signIn(c.id, 'admin');
    const csrf = Browser.csrf((await b.get('/clinic/webhooks')).text);
    const cases: [Record<string, string | string[]>, RegExp][] = [
      [{ url: '', events: 'red_flag.raised' }, /url: is required/],
      [{ url: 'not a url', events: 'red_flag.raised' }, /url: must be a full URL/],
      [{ url: 'ftp://example.com/x', events: 'red_flag.raised' }, /url: must start with/],
      [
        { url: 'https://user:pw@example.com/x', events: 'red_flag.raised' },
        /user name or password/,
      ],
      [{ url: 'https://example.com/x' }, /events: choose at least one/],
      [
        { url: 'https://example.com/x', events: 'patient.deleted' },
        /unknown event &quot;patient\.deleted&quot;/,
      ],
      [
        { url: 'https://example.com/x', events: 'red_flag.raised', description: 'x'.repeat(201) },
        /description: must be at most 200/,
      ],
    ];
    for (const [form, message] of cases) {
      const res = await b.post('/clinic/webhooks', { _csrf: csrf, ...form });
      expect(res.status).toBe(400);
      expect(res.text).toMatch(message);
    }
    const forged = await b.post('/clinic/webhooks', {
      url: 'https://example.com/x',
      events: 'red_flag.raised',
    });
    expect(forged.status).toBe(403);
    expect(
      await tdb.db
        .selectFrom('webhook_endpoints')
        .select('id')
        .where('clinic_id', '=', c.id)
        .execute(),
    ).toEqual([]);
  });

  it('posts each event, signed, with the facts and no contact details', async () => {
    const c = await newClinic('Hook Events Clinic', { consentMode: 'confirm' });
    const b = await signIn(c.id, 'admin');
    const { secret } = await addEndpoint(b, receiver.url);
    const hitsBefore = receiver.hits.length;

    // Confirmed: the patient answers YES to the clinic's confirmation text.
    const p = await enrol(c.key, { name: 'Wendy Hook' });
    expect(p.status).toBe('pending');
    await text(p.phone, 'YES').expect(200);
    // A pain score by text; a red flag; then STOP.
    await text(p.phone, '6').expect(200);
    await text(p.phone, 'chest pain and my left arm hurts').expect(200);
    await text(p.phone, 'STOP').expect(200);
    // Completed: another patient's programme claims its last step.
    const q = await enrol(c.key, { name: 'Quinn Last' });
    await text(q.phone, 'YES').expect(200);
    // Every step falls due in turn (one per scheduler pass); the last pass completes it.
    const steps = t.app.get(CampaignsService).get('upper-back-relief')!.steps;
    for (let i = 0; i < steps.length; i++) {
      await tdb.db
        .updateTable('enrollments')
        .set({ next_send_at: new Date(clock.now().getTime() - 60_000) })
        .where('id', '=', q.id)
        .where('status', '=', 'active')
        .execute();
      await t.app.get(SchedulerService).runPass();
      // No worker runs here: the step's message counts as sent, so the next may follow.
      await tdb.db
        .updateTable('deliveries')
        .set({ status: 'sent', sent_at: clock.now() })
        .where('enrollment_id', '=', q.id)
        .where('status', '=', 'queued')
        .execute();
    }
    const done = await tdb.db
      .selectFrom('enrollments')
      .select('status')
      .where('id', '=', q.id)
      .executeTakeFirstOrThrow();
    expect(done.status).toBe('completed');

    const rows = await rowsOf(c.id);
    expect(rows.map((r) => r.event_type)).toEqual([
      'enrollment.confirmed',
      'pain_score.received',
      'red_flag.raised',
      'enrollment.opted_out',
      'enrollment.confirmed',
      'enrollment.completed',
    ]);
    expect(rows.every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);

    await drain();
    const hits = receiver.hits.slice(hitsBefore);
    // Posted in parallel: the order of arrival is not promised (createdAt orders them).
    expect(hits.map((h) => h.json.type).sort()).toEqual(rows.map((r) => r.event_type).sort());
    expect(new Set(hits.map((h) => h.json.id))).toEqual(new Set(rows.map((r) => r.event_id)));
    for (const h of hits) {
      expect(signatureOk(secret, h)).toBe(true);
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['webhook-id']).toBe(h.json.id);
      expect(Number(h.headers['webhook-timestamp'])).toBe(Math.floor(clock.now().getTime() / 1000));
      expect(h.json.clinicId).toBe(c.id);
      // Nothing that names or reaches the patient.
      expect(h.body).not.toMatch(/Wendy|Quinn|\+1213|@/);
    }
    // A signature under another secret does not pass the receiver's check.
    expect(signatureOk(secret.replace(/^whsec_./, 'whsec_A'), hits[0]!)).toBe(false);

    const byType = (type: string) => hits.filter((h) => h.json.type === type);
    expect(byType('enrollment.confirmed')[0]!.json.data).toMatchObject({
      enrollmentId: p.id,
      externalId: expect.stringMatching(/^chart-/),
      campaignId: 'upper-back-relief',
      channel: 'sms',
      status: 'active',
    });
    expect(byType('pain_score.received')[0]!.json.data).toMatchObject({
      enrollmentId: p.id,
      scale: 'nprs',
      score: 6,
      answer: '6 out of 10',
      source: 'sms',
    });
    expect(byType('red_flag.raised')[0]!.json.data).toMatchObject({
      enrollmentId: p.id,
      source: 'sms',
      signs: expect.arrayContaining(['chest']),
      triageUrl: `${PUBLIC_URL}/clinic/triage`,
    });
    expect(byType('enrollment.opted_out')[0]!.json.data).toMatchObject({
      enrollmentId: p.id,
      reason: 'stop',
      status: 'cancelled',
    });
    expect(byType('enrollment.completed')[0]!.json.data).toMatchObject({
      enrollmentId: q.id,
      status: 'completed',
    });
    const delivered = await rowsOf(c.id);
    expect(delivered.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    expect(delivered.every((r) => r.response_status === 204)).toBe(true);

    // The log shows them on the dashboard.
    const page = await b.get('/clinic/webhooks');
    expect(page.text).toContain('enrollment.completed');
    expect(page.text).toMatch(/Delivered/);
  });

  it('counts an email unsubscribe as opting out, and a clinic’s own stop as not', async () => {
    const c = await newClinic('Hook Unsubscribe Clinic');
    const b = await signIn(c.id, 'admin');
    await addEndpoint(b, receiver.url, ['enrollment.opted_out']);
    const p = await enrol(c.key, {
      channel: 'email',
      email: `u${seq}@home.example`,
      phone: undefined,
    });
    const e = await tdb.db
      .selectFrom('enrollments')
      .select('subscriber_id')
      .where('id', '=', p.id)
      .executeTakeFirstOrThrow();
    const url = t.app
      .get(LinksService)
      .unsubscribeUrl({ subscriberId: e.subscriber_id, channel: 'email', clinicId: c.id });
    await http()
      .post(new URL(url).pathname)
      .type('form')
      .send('List-Unsubscribe=One-Click')
      .expect(200);
    const stopped = await enrol(c.key);
    await http()
      .delete(`/api/v1/enrollments/${stopped.id}`)
      .set('Authorization', `Bearer ${c.key}`)
      .expect((res) => expect(res.status).toBeLessThan(300));
    const rows = await rowsOf(c.id);
    expect(
      rows.map((r) => [r.enrollment_id, (r.payload as { data: { reason: string } }).data.reason]),
    ).toEqual([[p.id, 'unsubscribe']]);
  });

  it('sends only the events an endpoint chose, and nothing for clinics without one', async () => {
    const c = await newClinic('Hook Choice Clinic');
    const b = await signIn(c.id, 'admin');
    await addEndpoint(b, receiver.url, ['red_flag.raised']);
    const other = await newClinic('No Hook Clinic');
    const p = await enrol(c.key);
    const o = await enrol(other.key);
    await text(p.phone, '4').expect(200);
    await text(p.phone, 'STOP').expect(200);
    await text(o.phone, 'STOP').expect(200);
    expect(await rowsOf(c.id)).toEqual([]);
    expect(await rowsOf(other.id)).toEqual([]);
    await text(p.phone, 'START').expect(200);
    await text(p.phone, 'I have a fever and my chest hurts').expect(200);
    expect((await rowsOf(c.id)).map((r) => r.event_type)).toEqual(['red_flag.raised']);
  });

  it('retries with backoff after a failure, under the same event id, and gives up after the last attempt', async () => {
    const c = await newClinic('Hook Retry Clinic');
    const b = await signIn(c.id, 'admin');
    const { secret } = await addEndpoint(b, receiver.url, ['pain_score.received']);
    const p = await enrol(c.key);
    await text(p.phone, '3').expect(200);
    const hitsBefore = receiver.hits.length;

    receiver.answers.push(500);
    expect(await sender.sendDue()).toBe(1);
    let [row] = await rowsOf(c.id);
    expect(row).toMatchObject({
      status: 'pending',
      attempts: 1,
      response_status: 500,
      last_error: 'HTTP 500',
    });
    const wait = row!.next_attempt_at.getTime() - clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(30_000);
    expect(wait).toBeLessThanOrEqual(33_000);
    // Not due yet: nothing is posted.
    expect(await sender.sendDue()).toBe(0);
    clock.advance(wait + 1);
    // 429 with Retry-After: 120 s, longer than the second wait (2 minutes), is honoured.
    receiver.answers.push(429);
    expect(await sender.sendDue()).toBe(1);
    [row] = await rowsOf(c.id);
    const wait2 = row!.next_attempt_at.getTime() - clock.now().getTime();
    expect(row).toMatchObject({ attempts: 2, response_status: 429 });
    expect(wait2).toBeGreaterThanOrEqual(120_000);
    clock.advance(wait2 + 1);
    expect(await sender.sendDue()).toBe(1);
    [row] = await rowsOf(c.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 3, response_status: 204 });
    expect(row!.last_error).toBeNull();
    const hits = receiver.hits.slice(hitsBefore);
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.headers['webhook-id'])).size).toBe(1);
    expect(hits.every((h) => signatureOk(secret, h))).toBe(true);

    // Now one that never succeeds: it fails for good after MAX_ATTEMPTS, then "Send again".
    await text(p.phone, '5').expect(200);
    const failing = (await rowsOf(c.id)).find((r) => r.status === 'pending')!;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      receiver.answers.push(503);
      expect(await sender.sendDue()).toBe(1);
      clock.advance(14 * 3_600_000);
    }
    let gaveUp = (await rowsOf(c.id)).find((r) => r.id === failing.id)!;
    expect(gaveUp).toMatchObject({
      status: 'failed',
      attempts: MAX_ATTEMPTS,
      response_status: 503,
    });
    expect(await sender.sendDue()).toBe(0);
    const b2 = await signIn(c.id, 'admin'); // days went by: the first session has ended
    const page = await b2.get('/clinic/webhooks?status=failed');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`/clinic/webhooks/deliveries/${failing.id}/retry`);
    const again = await b2.post(`/clinic/webhooks/deliveries/${failing.id}/retry`, {
      _csrf: Browser.csrf(page.text),
    });
    expect(again.status).toBe(303);
    gaveUp = (await rowsOf(c.id)).find((r) => r.id === failing.id)!;
    expect(gaveUp).toMatchObject({ status: 'pending', attempts: 0 });
    // A delivery that is not failed cannot be sent again.
    const notFailed = await b2.post(`/clinic/webhooks/deliveries/${failing.id}/retry`, {
      _csrf: Browser.csrf(page.text),
    });
    expect(notFailed.status).toBe(404);
    await drain();
    gaveUp = (await rowsOf(c.id)).find((r) => r.id === failing.id)!;
    expect(gaveUp).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('records a refused connection and a receiver that never answers as failed attempts', async () => {
    const c = await newClinic('Hook Down Clinic');
    const b = await signIn(c.id, 'admin');
    const closed = await startReceiver();
    const deadUrl = closed.url;
    await closed.close();
    await addEndpoint(b, deadUrl, ['pain_score.received']);
    await addEndpoint(b, receiver.url, ['pain_score.received']);
    const p = await enrol(c.key);
    await text(p.phone, '2').expect(200);
    receiver.answers.push('hang');
    await drain();
    const rows = await rowsOf(c.id);
    expect(rows).toHaveLength(2);
    const errors = rows.map((r) => r.last_error).sort();
    expect(errors).toEqual(['connection refused', expect.stringMatching(/^no answer within/)]);
    expect(rows.every((r) => r.status === 'pending' && r.attempts === 1)).toBe(true);
  });

  it('posts again what a dead sender had claimed once its lease runs out; a late result is ignored', async () => {
    const c = await newClinic('Hook Lease Clinic');
    const b = await signIn(c.id, 'admin');
    await addEndpoint(b, receiver.url, ['pain_score.received']);
    const p = await enrol(c.key);
    await text(p.phone, '8').expect(200);
    // A sender claims the row and dies before posting.
    const [claimed] = await repo.claimDue(clock.now(), 30_000, 10);
    expect(claimed).toBeDefined();
    expect(await sender.sendDue()).toBe(0); // leased: nobody else takes it
    clock.advance(30_001);
    const before = receiver.hits.length;
    expect(await sender.sendDue()).toBe(1);
    expect(receiver.hits.slice(before).map((h) => h.headers['webhook-id'])).toEqual([
      claimed!.eventId,
    ]);
    let [row] = await rowsOf(c.id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 2 });

    // Two claims of one row in flight (the first outlived its lease): only the latest
    // attempt's result is written, whichever finishes first.
    await text(p.phone, '9').expect(200);
    const [first] = await repo.claimDue(clock.now(), 30_000, 10);
    clock.advance(30_001);
    const [second] = await repo.claimDue(clock.now(), 30_000, 10);
    expect(second!.id).toBe(first!.id);
    expect(second!.attempts).toBe(first!.attempts + 1);
    const late = await repo.recordAttempt(first!.id, first!.attempts, {
      status: 'delivered',
      at: clock.now(),
      responseStatus: 200,
    });
    expect(late).toBe(false);
    row = (await rowsOf(c.id)).find((r) => String(r.id) === first!.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 2 });
    expect(
      await repo.recordAttempt(second!.id, second!.attempts, {
        status: 'delivered',
        at: clock.now(),
        responseStatus: 200,
      }),
    ).toBe(true);
  });

  it('writes an event only with the change that commits', async () => {
    const c = await newClinic('Hook Tx Clinic');
    const b = await signIn(c.id, 'admin');
    await addEndpoint(b, receiver.url, ['red_flag.raised', 'enrollment.completed']);
    const p = await enrol(c.key);
    const outbox = t.app.get(WebhookOutbox);
    await expect(
      t.app.get(Transactions).run(async (tx) => {
        await outbox.emit(tx, {
          clinicId: c.id,
          type: 'red_flag.raised',
          enrollmentId: p.id,
          data: {},
        });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await rowsOf(c.id)).toEqual([]);

    // A completion the scheduler planned for an enrolment paused meanwhile is not applied,
    // and not announced either.
    const e = await tdb.db
      .updateTable('enrollments')
      .set({ status: 'paused', next_send_at: null })
      .where('id', '=', p.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await t.app
      .get(Transactions)
      .run((tx) =>
        t.app
          .get(EnrollmentLifecycle)
          .advance(tx, [
            { id: e.id, step: e.step + 1, stepKey: null, nextSendAt: null, status: 'completed' },
          ]),
      );
    expect(await rowsOf(c.id)).toEqual([]);
  });

  it('keeps clinics apart: another clinic’s endpoint and deliveries are 404 and not shown', async () => {
    const a = await newClinic('Hook Tenant A');
    const bClinic = await newClinic('Hook Tenant B');
    const aa = await signIn(a.id, 'admin');
    const ba = await signIn(bClinic.id, 'admin');
    const { id } = await addEndpoint(aa, receiver.url, ['pain_score.received']);
    const p = await enrol(a.key);
    await text(p.phone, '1').expect(200);
    const [delivery] = await rowsOf(a.id);
    await tdb.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed' })
      .where('id', '=', delivery!.id)
      .execute();
    const page = await ba.get('/clinic/webhooks');
    expect(page.text).not.toContain(receiver.url);
    expect(page.text).not.toContain(id);
    const csrf = Browser.csrf(page.text);
    expect((await ba.get(`/clinic/webhooks/${id}/remove`)).status).toBe(404);
    expect((await ba.get(`/clinic/webhooks/${id}/rotate`)).status).toBe(404);
    for (const path of [
      `${id}/remove`,
      `${id}/rotate`,
      `${id}/test`,
      `deliveries/${delivery!.id}/retry`,
    ])
      expect((await ba.post(`/clinic/webhooks/${path}`, { _csrf: csrf })).status).toBe(404);
    expect((await ba.get('/clinic/webhooks/not-a-uuid/remove')).status).toBe(404);
    const [still] = await rowsOf(a.id);
    expect(still!.status).toBe('failed');
    const endpoint = await tdb.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(endpoint.disabled_at).toBeNull();
  });

  it('sends a test event, rotates the secret, and removes an endpoint (cancelling what waits)', async () => {
    const c = await newClinic('Hook Manage Clinic');
    const b = await signIn(c.id, 'admin');
    const { id, secret, csrf } = await addEndpoint(b, receiver.url, ['pain_score.received']);
    expect((await b.post(`/clinic/webhooks/${id}/test`, { _csrf: csrf })).status).toBe(303);
    const before = receiver.hits.length;
    await drain();
    const test = receiver.hits.slice(before);
    expect(test.map((h) => h.json.type)).toEqual(['webhook.test']);
    expect(signatureOk(secret, test[0]!)).toBe(true);

    const confirm = await b.get(`/clinic/webhooks/${id}/rotate`);
    expect(confirm.status).toBe(200);
    const rotated = await b.post(`/clinic/webhooks/${id}/rotate`, {
      _csrf: Browser.csrf(confirm.text),
    });
    expect(rotated.status).toBe(200);
    const fresh = secretIn(rotated.text)!;
    expect(fresh).not.toBe(secret);
    await b.post(`/clinic/webhooks/${id}/test`, { _csrf: csrf });
    const mark = receiver.hits.length;
    await drain();
    const signed = receiver.hits[mark]!;
    expect(signatureOk(fresh, signed)).toBe(true);
    expect(signatureOk(secret, signed)).toBe(false);

    // Removing: a waiting delivery is cancelled and later events are not written.
    const p = await enrol(c.key);
    await text(p.phone, '9').expect(200);
    const removePage = await b.get(`/clinic/webhooks/${id}/remove`);
    expect(
      (await b.post(`/clinic/webhooks/${id}/remove`, { _csrf: Browser.csrf(removePage.text) }))
        .status,
    ).toBe(303);
    const rows = await rowsOf(c.id);
    expect(rows.find((r) => r.event_type === 'pain_score.received')!.status).toBe('cancelled');
    await text(p.phone, '7').expect(200);
    expect((await rowsOf(c.id)).length).toBe(rows.length);
    expect(await sender.sendDue()).toBe(0);
    const actions = (
      await tdb.db.selectFrom('audit_log').select('action').where('clinic_id', '=', c.id).execute()
    ).map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'webhook.added',
        'webhook.test-sent',
        'webhook.secret-rotated',
        'webhook.removed',
      ]),
    );
  });

  it('forgets an erased patient’s events', async () => {
    const c = await newClinic('Hook Erase Clinic');
    const b = await signIn(c.id, 'admin');
    await addEndpoint(b, receiver.url, ['pain_score.received', 'enrollment.opted_out']);
    const p = await enrol(c.key);
    const keep = await enrol(c.key);
    await text(p.phone, '5').expect(200);
    await text(keep.phone, '5').expect(200);
    expect(await rowsOf(c.id)).toHaveLength(2);
    const { subscriber_id } = await tdb.db
      .selectFrom('enrollments')
      .select('subscriber_id')
      .where('id', '=', p.id)
      .executeTakeFirstOrThrow();
    await admin('post', `/subscribers/${subscriber_id}/erase`).expect(200);
    const rows = await rowsOf(c.id);
    expect(rows.map((r) => r.enrollment_id)).toEqual([keep.id]);

    // The log keeps finished deliveries for 30 days; a pending one stays however old.
    await text(keep.phone, '6').expect(200);
    const [finished, waiting] = await rowsOf(c.id);
    const old = new Date(clock.now().getTime() - 31 * 86_400_000);
    await tdb.db
      .updateTable('webhook_deliveries')
      .set({ created_at: old, status: 'delivered' })
      .where('id', '=', finished!.id)
      .execute();
    await tdb.db
      .updateTable('webhook_deliveries')
      .set({ created_at: old })
      .where('id', '=', waiting!.id)
      .execute();
    const purged = await t.app.get(RetentionService).purge();
    expect(purged.webhookLog).toBeGreaterThanOrEqual(1);
    expect((await rowsOf(c.id)).map((r) => r.id)).toEqual([waiting!.id]);
  });

  it('announces an email check-in answer once per change, not on a repeat tap', async () => {
    const c = await newClinic('Hook Email Clinic');
    const b = await signIn(c.id, 'admin');
    await addEndpoint(b, receiver.url, ['pain_score.received']);
    const p = await enrol(c.key, {
      channel: 'email',
      email: `pat${seq}@home.example`,
      phone: undefined,
    });
    await tdb.db
      .updateTable('enrollments')
      .set({ next_send_at: new Date(clock.now().getTime() - 60_000) })
      .where('id', '=', p.id)
      .execute();
    await t.app.get(SchedulerService).runPass();
    const welcome = await tdb.db
      .updateTable('deliveries')
      .set({ status: 'sent', sent_at: clock.now() })
      .where('enrollment_id', '=', p.id)
      .returning('id')
      .executeTakeFirstOrThrow();
    const links = t.app.get(LinksService);
    const path = (value: number) =>
      new URL(links.outcomeUrl({ kind: 'nprs', deliveryId: welcome.id, value })).pathname;
    await http().post(path(5)).type('form').send('').expect(200);
    await http().post(path(5)).type('form').send('').expect(200); // the same tap again
    await http().post(path(4)).type('form').send('').expect(200); // a change of mind
    const rows = await rowsOf(c.id);
    expect(rows.map((r) => (r.payload as { data: { score: number } }).data.score)).toEqual([5, 4]);
    expect((rows[0]!.payload as { data: unknown }).data).toMatchObject({
      enrollmentId: p.id,
      source: 'email-link',
      checkInId: welcome.id,
    });
  });

  it('runs the sender in a worker process, and reports the backlog in /metrics', async () => {
    const c = await newClinic('Hook Worker Clinic');
    const b = await signIn(c.id, 'admin');
    const { id, csrf } = await addEndpoint(b, receiver.url, ['pain_score.received']);
    await b.post(`/clinic/webhooks/${id}/test`, { _csrf: csrf });
    // The worker runs on real time; the test event was written on the manual clock (2030).
    const [row] = await rowsOf(c.id);
    await tdb.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: new Date(), created_at: new Date(Date.now() - 5_000) })
      .where('id', '=', row!.id)
      .execute();
    const worker = await startApp({
      databaseUrl: tdb.url,
      prefix,
      env: { ROLE: 'worker', PUBLIC_URL, WEBHOOK_POLL_MS: '100' },
    });
    try {
      await waitFor(async () => {
        const [r] = await rowsOf(c.id);
        return r!.status === 'delivered' ? r : undefined;
      }, 'the worker to deliver the test event');
      const metrics = await request(worker.app.getHttpServer()).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/selfcare_webhook_attempts_total\{result="delivered"\} 1/);
      expect(metrics.text).toMatch(/selfcare_webhook_pending \d+/);
      expect(metrics.text).toMatch(/selfcare_webhook_oldest_pending_seconds \d+/);
    } finally {
      await worker.close();
    }
  });
});
