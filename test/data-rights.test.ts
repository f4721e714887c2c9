import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import request from 'supertest';
import { AuditService } from '../src/clinics/index.js';
import { ManualClock } from '../src/common/clock.js';
import { DataRightsService } from '../src/data-rights/index.js';
import type { Database } from '../src/database/index.js';
import { ERROR_PURGED } from '../src/deliveries/index.js';
import { QueueName, QueuesService } from '../src/delivery/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { startContract, type Contract } from './support/contract.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, twilioEnv, type FakeTwilio } from './support/fake-twilio.js';
import { waitFor } from './support/wait.js';

/**
 * GDPR data rights (docs/data-rights.md): the operator's export and erasure through the real
 * admin API (checked against the OpenAPI document), the clinic's through DataRightsService,
 * a queued message of an erased person meeting a real worker, and retention's purge.
 */
describe('data rights', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let fake: FakeTwilio;
  let contract: Contract;
  const prefix = uniquePrefix();
  // 14:00 in New York: inside the SMS window.
  const T0 = new Date('2026-06-01T18:00:00Z');
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fake = await startFakeTwilio();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: { ...twilioEnv(fake), ROLE: 'api' },
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

  const http = () => request(contract.server);
  const admin = {
    get: (path: string) =>
      http().get(`/api/v1/admin${path}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`),
    post: (path: string, body?: object) => {
      const req = http().post(`/api/v1/admin${path}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
      return body === undefined ? req : req.send(body);
    },
  };
  const clinicApi = (key: string, body: object) =>
    http().post('/api/v1/enrollments').set('Authorization', `Bearer ${key}`).send(body);
  const rights = () => t.get(DataRightsService);
  const db = () => tdb.db;

  async function newClinic(name: string) {
    const c = await admin
      .post('/clinics', {
        name,
        timezone: 'America/New_York',
        senderName: name,
        replyTo: 'desk@clinic.example',
        phone: '+1 212 555 0199',
        postalAddress: '12 River St, Springfield, NY 10001',
        bookingUrl: 'https://clinic.example/book',
      })
      .expect(201);
    const id = c.body.id as string;
    await db()
      .updateTable('clinics')
      .set({ consent_mode: 'attested' })
      .where('id', '=', id)
      .execute();
    const key = await admin.post(`/clinics/${id}/api-keys`, {}).expect(201);
    const staff = await db()
      .insertInto('staff_users')
      .values([
        { clinic_id: id, email: `lead@${c.body.slug}.example`, name: 'Lead', role: 'admin' },
        { clinic_id: id, email: `desk@${c.body.slug}.example`, name: 'Desk', role: 'staff' },
      ])
      .returning(['id', 'role'])
      .execute();
    return {
      id,
      key: key.body.apiKey as string,
      admin: staff.find((s) => s.role === 'admin')!.id,
      desk: staff.find((s) => s.role === 'staff')!.id,
    };
  }

  const consent = { method: 'written', obtainedAt: '2026-06-01T13:00:00Z', collectedBy: 'Sam' };
  const patientOf = (over: object) => ({
    campaign: 'upper-back-relief',
    channel: 'sms',
    timezone: 'America/New_York',
    consent,
    ...over,
  });

  // P: a patient of clinics A and B and of the public programme; Q: another patient of A.
  const P = { phone: '+12133747001', email: 'pat.erasable@example.com', name: 'Patricia Erasable' };
  const Q = { phone: '+12133747002', email: 'quinn.kept@example.com', name: 'Quinn Kept' };
  let A: Awaited<ReturnType<typeof newClinic>>;
  let B: Awaited<ReturnType<typeof newClinic>>;
  const ids = {} as {
    pPhone: string;
    pEmail: string;
    pA: string;
    pB: string;
    pPublic: string;
    q: string;
    qA: string;
  };

  /** Every row of every table that mentions `needle` anywhere, as `table: row`. */
  async function rowsMentioning(needle: string): Promise<string[]> {
    const tables: (keyof Database)[] = [
      'subscribers',
      'enrollments',
      'deliveries',
      'consent_events',
      'suppressions',
      'inbound_messages',
      'pain_scores',
      'safety_holds',
      'safety_events',
      'triage_items',
      'audit_log',
    ];
    const found: string[] = [];
    for (const table of tables) {
      const { rows } = await sql<{ row: string }>`
        SELECT t::text AS row FROM ${sql.table(table)} t WHERE t::text ILIKE ${`%${needle}%`}`.execute(
        db(),
      );
      found.push(...rows.map((r) => `${table}: ${r.row}`));
    }
    return found;
  }

  it('sets up two clinics, their patients and every kind of record', async () => {
    A = await newClinic('Alder Chiropractic');
    B = await newClinic('Birch Chiropractic');
    const pA = await clinicApi(A.key, patientOf({ ...P, externalId: 'a-1' })).expect(201);
    const pB = await clinicApi(B.key, patientOf({ phone: P.phone, name: P.name })).expect(201);
    const pPublic = await admin
      .post('/enrollments', {
        campaign: 'upper-back-relief-demo',
        channel: 'sms',
        phone: P.phone,
        name: P.name,
        timezone: 'America/New_York',
      })
      .expect(201);
    const qA = await clinicApi(A.key, patientOf(Q)).expect(201);
    const sub = (column: 'phone' | 'email', v: string) =>
      db().selectFrom('subscribers').selectAll().where(column, '=', v).executeTakeFirstOrThrow();
    Object.assign(ids, {
      pPhone: (await sub('phone', P.phone)).id,
      pEmail: (await sub('email', P.email)).id,
      pA: pA.body.id,
      pB: pB.body.id,
      pPublic: pPublic.body.id,
      q: (await sub('phone', Q.phone)).id,
      qA: qA.body.id,
    });
    // The scheduler queues everyone's welcome (no worker in this app: they stay queued).
    expect((await t.get(SchedulerService).runPass()).claimed).toBe(4);

    const inbound = await db()
      .insertInto('inbound_messages')
      .values([
        {
          from_phone: P.phone,
          body: 'P-REPLY my back is a 7',
          kind: 'pain',
          subscriber_id: ids.pPhone,
        },
        { from_phone: Q.phone, body: 'Q-REPLY a 3', kind: 'pain', subscriber_id: ids.q },
      ])
      .returning('id')
      .execute();
    await db()
      .insertInto('pain_scores')
      .values([
        {
          subscriber_id: ids.pPhone,
          enrollment_id: ids.pA,
          clinic_id: A.id,
          score: 7,
          source: 'sms',
        },
        {
          subscriber_id: ids.pPhone,
          enrollment_id: ids.pB,
          clinic_id: B.id,
          score: 5,
          source: 'sms',
        },
        { subscriber_id: ids.q, enrollment_id: ids.qA, clinic_id: A.id, score: 3, source: 'sms' },
      ])
      .execute();
    const person = await sub('phone', P.phone);
    await db()
      .insertInto('safety_events')
      .values({
        person_id: person.person_id,
        subscriber_id: ids.pPhone,
        kind: 'see-physician',
        source: 'sms',
        signs: 'numbness',
        inbound_message_id: inbound[0]!.id,
        created_at: T0,
      })
      .execute();
    await db()
      .insertInto('triage_items')
      .values([
        {
          clinic_id: A.id,
          enrollment_id: ids.pA,
          subscriber_id: ids.pPhone,
          source: 'sms',
          signs: 'numbness',
          note: 'P-NOTE called her',
        },
        {
          clinic_id: B.id,
          enrollment_id: ids.pB,
          subscriber_id: ids.pPhone,
          source: 'sms',
          signs: 'numbness',
        },
      ])
      .execute();
    const audit = t.get(AuditService);
    await audit.record({
      clinicId: A.id,
      actor: { kind: 'staff', staffUserId: A.admin },
      action: 'patient.viewed',
      enrollmentId: ids.pA,
      subscriberId: ids.pPhone,
      detail: { note: 'P-AUDIT detail' },
    });
    await audit.record({
      clinicId: B.id,
      actor: { kind: 'staff', staffUserId: B.admin },
      action: 'patient.viewed',
      enrollmentId: ids.pB,
      subscriberId: ids.pPhone,
    });
    await audit.record({
      clinicId: A.id,
      actor: { kind: 'staff', staffUserId: A.admin },
      action: 'patient.viewed',
      enrollmentId: ids.qA,
      subscriberId: ids.q,
    });
  });

  describe('export', () => {
    it('gives the operator every kind of record of the person, and nothing of anyone else', async () => {
      const res = await admin.get(`/subscribers/${ids.pEmail}/export`).expect(200);
      const x = res.body;
      expect(x.addresses.map((a: { subscriberId: string }) => a.subscriberId).sort()).toEqual(
        [ids.pPhone, ids.pEmail].sort(),
      );
      expect(x.addresses).toEqual(
        expect.arrayContaining([expect.objectContaining({ phone: P.phone, name: P.name })]),
      );
      const enrolments = x.enrollments as {
        id: string;
        clinicName: string | null;
        deliveries: unknown[];
      }[];
      expect(enrolments.map((e) => e.id).sort()).toEqual([ids.pA, ids.pB, ids.pPublic].sort());
      expect(enrolments.find((e) => e.id === ids.pA)!.clinicName).toBe('Alder Chiropractic');
      expect(enrolments.find((e) => e.id === ids.pPublic)!.clinicName).toBeNull();
      for (const e of enrolments)
        expect(e.deliveries).toEqual([expect.objectContaining({ status: 'queued', step: 0 })]);
      expect(x.consentEvents.map((c: { kind: string }) => c.kind)).toEqual(
        expect.arrayContaining(['attested', 'enrolled']),
      );
      expect(x.inboundMessages).toEqual([
        expect.objectContaining({ body: 'P-REPLY my back is a 7', fromPhone: P.phone }),
      ]);
      expect(x.painScores.map((p: { score: number }) => p.score).sort()).toEqual([5, 7]);
      expect(x.safetyEvents).toEqual([expect.objectContaining({ kind: 'see-physician' })]);
      expect(x.safetyHold).toEqual({
        held: false,
        since: null,
        signs: null,
        inboundMessageId: null,
      });
      expect(x.triageItems).toHaveLength(2);
      expect(x.auditLog.map((a: { clinicId: string }) => a.clinicId).sort()).toEqual(
        [A.id, B.id].sort(),
      );
      const text = JSON.stringify(x);
      for (const other of [Q.phone, Q.email, Q.name, ids.q, ids.qA, 'Q-REPLY'])
        expect(text).not.toContain(other);
      // The export itself is in each clinic's audit log.
      const exported = await db()
        .selectFrom('audit_log')
        .select('clinic_id')
        .where('action', '=', 'patient.exported')
        .execute();
      expect(exported.map((r) => r.clinic_id).sort()).toEqual([A.id, B.id].sort());
    });

    it('answers 404 for an unknown or malformed id', async () => {
      await admin.get('/subscribers/00000000-0000-4000-8000-000000000000/export').expect(404);
      const bad = await admin.get('/subscribers/not-a-uuid/export').expect(404);
      expect(bad.body.message).toMatch(/not found/);
    });

    it('gives a clinic only its own part: its enrolments, scores, triage and audit rows', async () => {
      const x = await rights().exportForClinic(A.id, ids.pA);
      expect(x.clinic).toEqual({ id: A.id, name: 'Alder Chiropractic' });
      expect(x.enrollments.map((e) => e.id)).toEqual([ids.pA]);
      expect(x.enrollments[0]!.deliveries).toHaveLength(1);
      expect(x.addresses.map((a) => a.phone)).toEqual([P.phone]);
      expect(x.painScores.map((p) => p.score)).toEqual([7]);
      expect(x.triageItems.map((i) => i.clinicId)).toEqual([A.id]);
      expect(x.auditLog.length).toBeGreaterThan(0);
      expect(x.auditLog.every((a) => a.clinicId === A.id)).toBe(true);
      expect(x.consentEvents.map((c) => c.kind)).toContain('attested');
      const text = JSON.stringify(x);
      for (const other of [B.id, ids.pB, ids.pPublic, 'Birch', Q.phone, ids.qA, '"ip"'])
        expect(text).not.toContain(other);
      // B's view of the same person is B's alone.
      const b = await rights().exportForClinic(B.id, ids.pB);
      expect(b.enrollments.map((e) => e.id)).toEqual([ids.pB]);
      expect(b.painScores.map((p) => p.score)).toEqual([5]);
    });

    it("answers 404 for another clinic's enrolment, an unknown one or a malformed id", async () => {
      await expect(rights().exportForClinic(B.id, ids.pA)).rejects.toMatchObject({
        kind: 'not-found',
      });
      await expect(rights().exportForClinic(A.id, 'nope')).rejects.toMatchObject({
        kind: 'not-found',
      });
      await expect(
        rights().exportForClinic('00000000-0000-4000-8000-000000000000', ids.pA),
      ).rejects.toMatchObject({ kind: 'not-found' });
    });
  });

  describe('erasure', () => {
    it('lets only an admin of the clinic erase', async () => {
      await expect(rights().eraseForClinic(A.id, ids.pA, A.desk)).rejects.toMatchObject({
        kind: 'forbidden',
      });
      await expect(rights().eraseForClinic(A.id, ids.pA, B.admin)).rejects.toMatchObject({
        kind: 'forbidden',
      });
      await expect(rights().eraseForClinic(B.id, ids.pA, B.admin)).rejects.toMatchObject({
        kind: 'not-found',
      });
    });

    it("erases only the clinic's part of a person who is another programme's patient too", async () => {
      const done = await rights().eraseForClinic(A.id, ids.pA, A.admin);
      expect(done).toEqual({
        scope: 'clinic',
        enrollmentsStopped: 1,
        enrollmentsDeleted: 1,
        addressesSuppressed: 0,
      });
      const left = await db()
        .selectFrom('enrollments')
        .select('id')
        .where('subscriber_id', '=', ids.pPhone)
        .execute();
      expect(left.map((e) => e.id).sort()).toEqual([ids.pB, ids.pPublic].sort());
      const scores = await db()
        .selectFrom('pain_scores')
        .select(['score', 'clinic_id'])
        .where('subscriber_id', '=', ids.pPhone)
        .execute();
      expect(scores).toEqual([{ score: 5, clinic_id: B.id }]);
      const triage = await db()
        .selectFrom('triage_items')
        .select('clinic_id')
        .where('subscriber_id', '=', ids.pPhone)
        .execute();
      expect(triage).toEqual([{ clinic_id: B.id }]);
      expect(await rowsMentioning('P-NOTE')).toEqual([]);
      expect(await rowsMentioning('P-AUDIT')).toEqual([]);
      const aAudit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('clinic_id', '=', A.id)
        .execute();
      expect(
        aAudit.filter((r) => r.subscriber_id === ids.pPhone || r.enrollment_id === ids.pA),
      ).toEqual([]);
      expect(aAudit.find((r) => r.action === 'patient.erased')).toMatchObject({
        actor: 'staff',
        staff_user_id: A.admin,
        subscriber_id: null,
        detail: { scope: 'clinic', enrollments: 1 },
      });
      // Q, A's other patient, is untouched.
      expect(aAudit.filter((r) => r.subscriber_id === ids.q)).toHaveLength(1);
      // Nothing suppressed (B and the public programme go on), but A cannot enrol them again.
      expect(await db().selectFrom('suppressions').selectAll().execute()).toEqual([]);
      const again = await clinicApi(A.key, patientOf({ ...P })).expect(409);
      expect(again.body.message).toMatch(/phone/);
      await expect(rights().exportForClinic(A.id, ids.pA)).rejects.toMatchObject({
        kind: 'not-found',
      });
    });

    it('erases the whole person for the operator, keeping only the suppression of each address', async () => {
      const res = await admin.post(`/subscribers/${ids.pPhone}/erase`).expect(200);
      expect(res.body).toEqual({
        scope: 'person',
        enrollmentsStopped: 2,
        enrollmentsDeleted: 2,
        addressesSuppressed: 2,
      });
      for (const needle of [P.name, 'P-REPLY', ids.pPhone, ids.pEmail, ids.pB, ids.pPublic])
        expect({ needle, rows: await rowsMentioning(needle) }).toEqual({ needle, rows: [] });
      // The addresses are left in one place only: the suppression list.
      expect(await rowsMentioning(P.phone.slice(1))).toEqual([
        expect.stringMatching(/^suppressions: \(\+12133747001,sms,erased,/),
      ]);
      expect(await rowsMentioning(P.email)).toEqual([
        expect.stringMatching(/^suppressions: \(pat\.erasable@example\.com,email,erased,/),
      ]);
      expect(
        await db()
          .selectFrom('suppressions')
          .select(['address', 'reason'])
          .orderBy('address')
          .execute(),
      ).toEqual([
        { address: P.phone, reason: 'erased' },
        { address: P.email, reason: 'erased' },
      ]);
      const erased = await db()
        .selectFrom('audit_log')
        .select(['clinic_id', 'actor', 'subscriber_id', 'detail'])
        .where('action', '=', 'patient.erased')
        .where('actor', '=', 'operator')
        .execute();
      expect(erased).toEqual([
        {
          clinic_id: B.id,
          actor: 'operator',
          subscriber_id: null,
          detail: { scope: 'person', enrollments: 1 },
        },
      ]);
      await admin.get(`/subscribers/${ids.pPhone}/export`).expect(404);
      await admin.post(`/subscribers/${ids.pPhone}/erase`).expect(404);
      await admin.post('/subscribers/not-a-uuid/erase').expect(404);
    });

    it('refuses to enrol an erased address again, by operator or clinic', async () => {
      const op = await admin
        .post('/enrollments', {
          campaign: 'upper-back-relief',
          channel: 'sms',
          phone: P.phone,
          timezone: 'UTC',
        })
        .expect(409);
      expect(op.body.message).toMatch(/phone: this address opted out/);
      await clinicApi(B.key, patientOf({ phone: P.phone })).expect(409);
      await clinicApi(A.key, patientOf({ channel: 'email', email: P.email })).expect(409);
    });

    it('never sends a queued message of an erased person: a worker skips the job of a deleted delivery', async () => {
      // A public signup of the erased number: a confirmation is asked for, and must not go.
      await http()
        .post('/subscriptions')
        .send({
          channel: 'sms',
          phone: P.phone,
          timezone: 'America/New_York',
          consent: true,
          campaign: 'upper-back-relief',
        })
        .expect(202);
      const queue = t.get(QueuesService).queue(QueueName.Sms);
      {
        // P's welcomes were queued (jobs in Redis) before the erasure; Q's is still to go.
        const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
        expect(jobs.length).toBeGreaterThanOrEqual(3);
        const worker = await startApp({
          databaseUrl: tdb.url,
          prefix,
          clock: new ManualClock(clock.now()),
          env: { ...twilioEnv(fake), ROLE: 'worker' },
        });
        try {
          await waitFor(() => fake.messages.find((m) => m.to === Q.phone), "Q's welcome");
          await waitFor(async () => {
            const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
            return Object.values(c).every((n) => n === 0) || undefined;
          }, 'the sms queue to drain');
        } finally {
          await worker.close();
        }
        expect(fake.messages.filter((m) => m.to === P.phone)).toEqual([]);
        expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
      }
      const confirmations = await t.get(SchedulerService).housekeeping();
      expect(confirmations.purged).toEqual({
        inboundMessages: 0,
        painScores: 0,
        deliveries: 0,
        deliveryErrors: 0,
        webhookLog: 0,
      });
    });
  });

  describe('retention (RETENTION_MONTHS=1)', () => {
    const later = new Date('2026-08-05T18:00:00Z');
    const laterClock = new ManualClock(later);
    let r: TestApp;
    beforeAll(async () => {
      r = await startApp({
        databaseUrl: tdb.url,
        prefix: `${prefix}-r`,
        clock: laterClock,
        env: { ROLE: 'api', RETENTION_MONTHS: '1' },
      });
    });
    afterAll(async () => {
      await r?.close();
      await dropPrefix(`${prefix}-r`);
    });

    const deliveriesOf = (enrollmentId: string) =>
      db()
        .selectFrom('deliveries')
        .selectAll()
        .where('enrollment_id', '=', enrollmentId)
        .orderBy('step')
        .execute();

    it('purges only what is old and final, and never makes a step go again', async () => {
      const sub = await db()
        .insertInto('subscribers')
        .values({ phone: '+12133747010', name: 'Rita' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const enrolment = (
        status: 'active' | 'completed' | 'cancelled',
        cancel: 'stop' | 'clinic' | null,
        campaign: string,
      ) =>
        db()
          .insertInto('enrollments')
          .values({
            subscriber_id: sub.id,
            campaign_id: campaign,
            channel: 'sms',
            timezone: 'America/New_York',
            send_time: '08:00',
            status,
            cancel_reason: cancel,
            step: 1,
            step_key: status === 'active' ? 'stress' : null,
            next_send_at: status === 'active' ? later : null,
            source: 'test',
            created_at: T0,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
      const live = await enrolment('active', null, 'upper-back-relief');
      const done = await enrolment('completed', null, 'upper-back-relief-demo');
      const stopped = await enrolment('cancelled', 'stop', 'upper-back-relief-demo');
      const ended = await enrolment('cancelled', 'clinic', 'upper-back-relief-demo');
      const old = { created_at: T0, updated_at: T0, channel: 'sms' as const };
      await db()
        .insertInto('deliveries')
        .values([
          {
            ...old,
            enrollment_id: live.id,
            step: 0,
            step_key: 'welcome',
            status: 'failed',
            error: 'Twilio 30003 to +12133747010',
          },
          { ...old, enrollment_id: done.id, step: 0, step_key: 'welcome', status: 'delivered' },
          // Old but open: the last message of a completed enrolment, still queued.
          { ...old, enrollment_id: done.id, step: 1, step_key: 'stress', status: 'queued' },
          { ...old, enrollment_id: stopped.id, step: 0, step_key: 'welcome', status: 'sent' },
          {
            ...old,
            enrollment_id: ended.id,
            step: 0,
            step_key: 'welcome',
            status: 'skipped',
            error: 'cancelled: clinic',
          },
          // Final, of an ended enrolment, but recent.
          {
            enrollment_id: ended.id,
            step: 1,
            step_key: 'stress',
            status: 'sent',
            channel: 'sms',
            created_at: later,
            updated_at: later,
          },
        ])
        .execute();
      const recent = new Date(later.getTime() - 86_400_000);
      await db()
        .insertInto('inbound_messages')
        .values([
          {
            from_phone: '+12133747010',
            body: 'R-OLD',
            kind: 'pain',
            subscriber_id: sub.id,
            created_at: T0,
          },
          {
            from_phone: '+12133747010',
            body: 'R-NEW',
            kind: 'pain',
            subscriber_id: sub.id,
            created_at: recent,
          },
        ])
        .execute();
      await db()
        .insertInto('pain_scores')
        .values([
          {
            subscriber_id: sub.id,
            enrollment_id: live.id,
            score: 8,
            source: 'sms',
            created_at: T0,
          },
          {
            subscriber_id: sub.id,
            enrollment_id: live.id,
            score: 4,
            source: 'sms',
            created_at: recent,
          },
        ])
        .execute();

      const scheduler = r.get(SchedulerService);
      const first = await scheduler.housekeeping();
      expect(first.purged).toEqual({
        inboundMessages: 1,
        painScores: 1,
        deliveries: 2,
        deliveryErrors: 1,
        webhookLog: 0,
      });
      expect((await scheduler.housekeeping()).purged).toEqual({
        inboundMessages: 0,
        painScores: 0,
        deliveries: 0,
        deliveryErrors: 0,
        webhookLog: 0,
      });

      expect(
        (
          await db()
            .selectFrom('inbound_messages')
            .select('body')
            .where('subscriber_id', '=', sub.id)
            .execute()
        ).map((m) => m.body),
      ).toEqual(['R-NEW']);
      expect(
        (
          await db()
            .selectFrom('pain_scores')
            .select('score')
            .where('subscriber_id', '=', sub.id)
            .execute()
        ).map((p) => p.score),
      ).toEqual([4]);
      // The live enrolment keeps its history (only the error text goes), the open delivery
      // stays, START's enrolment keeps what it had; the ended one loses only its old row.
      expect(await deliveriesOf(live.id)).toEqual([
        expect.objectContaining({ step_key: 'welcome', status: 'failed', error: ERROR_PURGED }),
      ]);
      expect((await deliveriesOf(done.id)).map((d) => d.status)).toEqual(['queued']);
      expect((await deliveriesOf(stopped.id)).map((d) => d.status)).toEqual(['sent']);
      expect((await deliveriesOf(ended.id)).map((d) => d.step_key)).toEqual(['stress']);

      // The scheduler goes on from where the live enrolment was: never the welcome again.
      for (let day = 0; day < 3; day++) {
        await scheduler.runPass();
        await db()
          .updateTable('deliveries')
          .set({ status: 'delivered' })
          .where('enrollment_id', '=', live.id)
          .where('status', '=', 'queued')
          .execute();
        laterClock.advance(86_400_000);
      }
      const keys = (await deliveriesOf(live.id)).map((d) => d.step_key);
      expect(keys).toEqual(['welcome', 'stress', 'foam-roller', 'exercises']);
    });

    it('is off unless RETENTION_MONTHS is set', async () => {
      const off = await t.get(SchedulerService).housekeeping();
      expect(off.purged).toEqual({
        inboundMessages: 0,
        painScores: 0,
        deliveries: 0,
        deliveryErrors: 0,
        webhookLog: 0,
      });
    });
  });

  describe('the contract', () => {
    it('reached every documented data-rights operation', () => {
      const ours = (op: string) => /\/admin\/subscribers\/\{id\}\/(export|erase)$/.test(op);
      expect(contract.unexercised(ours)).toEqual([]);
    });
  });
});
