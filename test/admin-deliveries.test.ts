import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ManualClock } from '../src/common/clock.js';
import { SendError } from '../src/channels/index.js';
import { ChannelFaults, DeliveriesRepository, QueueName } from '../src/delivery/index.js';
import { EnrollmentsService } from '../src/enrollments/index.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { deliveriesOf } from './support/journey.js';

/** What an operator reads to explain a missing message: problem deliveries and channel state. */
describe('admin: deliveries that did not simply go, and channel state', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date());

  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({ databaseUrl: tdb.url, prefix, clock, env: { ROLE: 'api' } });
  });
  afterAll(async () => {
    await t.close();
    await dropPrefix(prefix);
    await tdb.drop();
  });

  const get = (path: string, token = ADMIN_TOKEN) =>
    request(t.app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  it('lists failed deliveries with their reason, and settled ones with how', async () => {
    const e = await t.get(EnrollmentsService).enroll(
      {
        campaign: 'upper-back-relief',
        channel: 'email',
        email: 'ops@example.com',
        timezone: 'UTC',
        sendTime: '08:00',
      },
      'test',
    );
    await t.get(SchedulerService).runPass();
    const [d] = await deliveriesOf(tdb.db, e.id);
    const repo = t.get(DeliveriesRepository);
    await repo.claim(d!.id, 60_000);
    await repo.markFailed(d!.id, 'undeliverable: SMTP 550 5.1.1 at RCPT TO', 1);

    const res = await get('/api/v1/admin/deliveries?kind=failed');
    expect(res.status).toBe(200);
    expect(res.body.deliveries).toEqual([
      expect.objectContaining({
        id: d!.id,
        enrollmentId: e.id,
        campaign: 'upper-back-relief',
        stepKey: 'welcome',
        status: 'failed',
        error: 'undeliverable: SMTP 550 5.1.1 at RCPT TO',
      }),
    ]);
    expect((await get('/api/v1/admin/deliveries?kind=skipped')).body.deliveries).toEqual([]);

    const e2 = await t.get(EnrollmentsService).enroll(
      {
        campaign: 'upper-back-relief',
        channel: 'email',
        email: 'ops2@example.com',
        timezone: 'UTC',
        sendTime: '08:00',
      },
      'test',
    );
    await t.get(SchedulerService).runPass();
    const [d2] = await deliveriesOf(tdb.db, e2.id);
    await repo.claim(d2!.id, 60_000);
    await repo.requeue(
      d2!.id,
      1,
      'lease expired; not in the provider log, sent again',
      clock.now(),
    );
    const settled = await get('/api/v1/admin/deliveries?kind=settled');
    expect(settled.body.deliveries).toEqual([
      expect.objectContaining({
        id: d2!.id,
        status: 'queued',
        resolution: 'lease expired; not in the provider log, sent again',
      }),
    ]);
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await get(`/api/v1/admin/deliveries?since=${later}`)).body.deliveries).toEqual([]);
  });

  it('answers 400 naming the bad query field, and 401 without the token', async () => {
    for (const [query, field] of [
      ['kind=lost', 'kind'],
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      ['limit=9999', 'limit'],
      ['colour=red', 'colour'],
    ]) {
      const res = await get(`/api/v1/admin/deliveries?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(new RegExp(`^${field}:`));
    }
    expect((await get('/api/v1/admin/deliveries', 'wrong-token-0123456789')).status).toBe(401);
  });

  it('shows a paused channel with why, and a working one as sending', async () => {
    expect((await get('/api/v1/admin/channels')).body).toEqual({
      email: { status: 'sending' },
      sms: { status: 'sending' },
    });
    await t
      .get(ChannelFaults)
      .trip(QueueName.Sms, new SendError('Twilio 401 error 20003', 'config', 20003));
    const res = await get('/api/v1/admin/channels');
    expect(res.body.sms).toMatchObject({
      status: 'paused',
      kind: 'config',
      error: 'Twilio 401 error 20003',
    });
    expect(res.body.email).toEqual({ status: 'sending' });
  });
});
