import request from 'supertest';
import { expect } from '@jest/globals';
import type { Db } from '../../src/database/index.js';
import { ADMIN_TOKEN, type TestApp } from './app.js';
import { waitFor } from './wait.js';

export const DEMO_STEPS = [
  'welcome',
  'stress',
  'foam-roller',
  'exercises',
  'massage',
  'heat',
  'wrap-up',
];

export async function enrol(t: TestApp, body: Record<string, unknown>): Promise<string> {
  const res = await request(t.app.getHttpServer())
    .post('/api/v1/admin/enrollments')
    .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
    .send(body);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/**
 * Walks a demo enrolment through all its steps: waits for each message to arrive, then
 * moves the manual clock past the 10-second interval so the next one falls due.
 */
export async function walkDemo(t: TestApp, received: () => number, startCount = 0): Promise<void> {
  for (let i = 1; i <= DEMO_STEPS.length; i++) {
    await waitFor(() => received() >= startCount + i, `message ${i} of the demo journey`);
    t.clock!.advance(10_000);
  }
}

export async function deliveriesOf(db: Db, enrollmentId: string) {
  return db
    .selectFrom('deliveries')
    .selectAll()
    .where('enrollment_id', '=', enrollmentId)
    .orderBy('step')
    .execute();
}
