import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Conflict } from '../src/common/index.js';
import { ManualClock } from '../src/common/clock.js';
import { Transactions, type EnrollmentStatus } from '../src/database/index.js';
import {
  EnrollmentLifecycle,
  EnrollmentsRepository,
  EnrollmentsService,
} from '../src/enrollments/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

/**
 * The enrolment state machine's walls, where the database holds them: every write goes
 * through EnrollmentLifecycle, which refuses a transition its table does not list, and the
 * bulk writes (a scheduler pass, an undeliverable address) touch only rows in a state they
 * may leave, even when the row changed after it was read.
 */
describe('enrolment lifecycle', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-06-03T16:00:00.000Z'));
  let seq = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ROLE: 'api' } });
  });
  afterAll(async () => {
    await t?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const lifecycle = () => t.get(EnrollmentLifecycle);
  const row = (id: string) =>
    tdb.db.selectFrom('enrollments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const setStatus = (id: string, status: EnrollmentStatus) =>
    tdb.db.updateTable('enrollments').set({ status }).where('id', '=', id).execute();
  const enrol = (channel: 'email' | 'sms' = 'email') =>
    t.get(EnrollmentsService).enroll(
      {
        campaign: 'upper-back-relief',
        channel,
        email: channel === 'email' ? `life${seq++}@example.com` : undefined,
        phone: channel === 'sms' ? `+1213374${1000 + seq++}` : undefined,
        timezone: 'America/New_York',
        sendTime: '08:00',
      },
      'admin',
    );
  /** Runs one lifecycle step on the row as it is now, locked. */
  const onLocked = <T>(
    id: string,
    step: (
      l: EnrollmentLifecycle,
      tx: Parameters<Parameters<Transactions['run']>[0]>[0],
      e: Awaited<ReturnType<EnrollmentsRepository['lock']>> & object,
    ) => Promise<T>,
  ) =>
    t.get(Transactions).run(async (tx) => {
      const e = await t.get(EnrollmentsRepository).lock(tx, id);
      return step(lifecycle(), tx, e!);
    });

  it('refuses a transition the table does not list, naming the status, and writes nothing', async () => {
    const e = await enrol();
    // confirm is only for a pending signup; nothing before the table stops it.
    await expect(onLocked(e.id, (l, tx, r) => l.confirm(tx, r))).rejects.toThrow(
      'status: cannot confirm an enrolment that is active',
    );
    await setStatus(e.id, 'completed');
    const before = await row(e.id);
    await expect(
      onLocked(e.id, (l, tx, r) => l.retime(tx, r, { sendTime: '09:00' })),
    ).rejects.toBeInstanceOf(Conflict);
    await expect(onLocked(e.id, (l, tx, r) => l.switchChannel(tx, r, 'sms'))).rejects.toThrow(
      'status: cannot move an enrolment that is completed',
    );
    expect(await row(e.id)).toEqual(before);
  });

  it('pausing a paused enrolment keeps who paused it, unless a warning sign outranks it', async () => {
    const e = await enrol();
    await t.get(EnrollmentsService).pause(e.id, new Date('2030-06-10T00:00:00Z'), 'person');
    await t.get(EnrollmentsService).pause(e.id, null, 'operator');
    expect(await row(e.id)).toMatchObject({ pause_reason: 'person' });
    await t.get(EnrollmentsService).pause(e.id, null, 'safety');
    expect(await row(e.id)).toMatchObject({ pause_reason: 'safety', paused_until: null });
  });

  it('a scheduler advance leaves alone an enrolment paused since it was claimed', async () => {
    const e = await enrol();
    await t.get(EnrollmentsService).pause(e.id);
    const paused = await row(e.id);
    await t
      .get(Transactions)
      .run((tx) =>
        lifecycle().advance(tx, [
          { id: e.id, step: 5, stepKey: null, nextSendAt: null, status: 'completed' },
        ]),
      );
    expect(await row(e.id)).toEqual(paused);
  });

  it('refuses to plan an advance to a state advance cannot reach', async () => {
    const e = await enrol();
    await expect(
      t
        .get(Transactions)
        .run((tx) =>
          lifecycle().advance(tx, [
            { id: e.id, step: 1, stepKey: null, nextSendAt: null, status: 'paused' },
          ]),
        ),
    ).rejects.toThrow('status: cannot advance an enrolment that is active');
  });

  it('an undeliverable address ends live enrolments on its channel, not finished ones', async () => {
    const live = await enrol('sms');
    const done = await enrol('sms');
    await setStatus(done.id, 'completed');
    const ended = await t
      .get(Transactions)
      .run((tx) => lifecycle().endUndeliverable(tx, done.subscriberId, 'sms'));
    expect(ended).toEqual([]);
    expect((await row(done.id)).status).toBe('completed');
    const ended2 = await t
      .get(Transactions)
      .run((tx) => lifecycle().endUndeliverable(tx, live.subscriberId, 'sms'));
    expect(ended2).toEqual([live.id]);
    expect(await row(live.id)).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'undeliverable',
    });
  });

  it('enrolling a person twice in a campaign is a 409 and keeps the first enrolment', async () => {
    const e = await enrol();
    const person = await row(e.id);
    const subscriber = await tdb.db
      .selectFrom('subscribers')
      .select('email')
      .where('id', '=', person.subscriber_id)
      .executeTakeFirstOrThrow();
    await expect(
      t.get(EnrollmentsService).enroll(
        {
          campaign: 'upper-back-relief',
          channel: 'email',
          email: subscriber.email!,
          timezone: 'Europe/London',
          sendTime: '07:00',
        },
        'admin',
      ),
    ).rejects.toThrow('campaign: this person is already enrolled in "upper-back-relief"');
    const all = await tdb.db
      .selectFrom('enrollments')
      .selectAll()
      .where('subscriber_id', '=', person.subscriber_id)
      .execute();
    expect(all).toEqual([person]);
  });
});
