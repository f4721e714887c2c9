import { Inject, Injectable } from '@nestjs/common';
import { sql, type Transaction } from 'kysely';
import { Clock } from '../common/clock.js';
import {
  DB,
  type Channel,
  type DeliveryStatus,
  type Database,
  type Db,
  type Delivery,
} from '../database/index.js';

type Executor = Db | Transaction<Database>;

export interface DeliveryForSend {
  id: string;
  status: Delivery['status'];
  step: number;
  channel: Channel;
  attempts: number;
  enrollmentId: string;
  enrollmentStatus: string;
  campaignId: string;
  timezone: string;
  subscriberId: string;
  email: string | null;
  phone: string | null;
  name: string | null;
}

export type SkipReason = 'enrollment-not-active' | 'suppressed' | 'gone';

@Injectable()
export class DeliveriesRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Inserts one queued delivery per (enrolment, step); existing ones are left alone and not returned. */
  async insertQueued(
    trx: Executor,
    rows: { enrollment_id: string; step: number; step_key: string; channel: Channel }[],
  ): Promise<{ id: string; channel: Channel }[]> {
    if (rows.length === 0) return [];
    const now = this.clock.now();
    return trx
      .insertInto('deliveries')
      .values(
        rows.map((r) => ({ ...r, status: 'queued' as const, created_at: now, updated_at: now })),
      )
      .onConflict((oc) => oc.columns(['enrollment_id', 'step']).doNothing())
      .returning(['id', 'channel'])
      .execute();
  }

  async loadForSend(id: string): Promise<DeliveryForSend | undefined> {
    return this.db
      .selectFrom('deliveries as d')
      .innerJoin('enrollments as e', 'e.id', 'd.enrollment_id')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .select([
        'd.id',
        'd.status',
        'd.step',
        'd.channel',
        'd.attempts',
        'e.id as enrollmentId',
        'e.status as enrollmentStatus',
        'e.campaign_id as campaignId',
        'e.timezone',
        's.id as subscriberId',
        's.email',
        's.phone',
        's.name',
      ])
      .where('d.id', '=', id)
      .executeTakeFirst();
  }

  /**
   * Claims a delivery for sending in one statement: queued → sending, only if its enrolment
   * is still live, the person has an address on the channel and that address is not
   * suppressed. A STOP or pause that lands first wins. Returns what the send needs, or
   * undefined when there is nothing to send (see loadForSend for why).
   */
  async claim(id: string): Promise<DeliveryForSend | undefined> {
    const now = this.clock.now();
    const { rows } = await sql<DeliveryForSend>`
      UPDATE deliveries AS d
         SET status = 'sending', attempts = d.attempts + 1, updated_at = ${now}
        FROM enrollments AS e
        JOIN subscribers AS s ON s.id = e.subscriber_id
       WHERE d.id = ${id}
         AND d.status = 'queued'
         AND e.id = d.enrollment_id
         AND e.status IN ('active', 'completed')
         AND (CASE WHEN d.channel = 'email' THEN s.email ELSE s.phone END) IS NOT NULL
         AND NOT EXISTS (
               SELECT 1 FROM suppressions
                WHERE address = (CASE WHEN d.channel = 'email' THEN s.email ELSE s.phone END))
      RETURNING d.id, d.status, d.step, d.channel, d.attempts,
                e.id AS "enrollmentId", e.status AS "enrollmentStatus", e.campaign_id AS "campaignId",
                e.timezone, s.id AS "subscriberId", s.email, s.phone, s.name`.execute(this.db);
    return rows[0];
  }

  /** Undoes a claim that must wait (quiet hours): back to queued, the attempt not counted. */
  async release(id: string): Promise<void> {
    await this.db
      .updateTable('deliveries')
      .set((eb) => ({
        status: 'queued',
        attempts: eb('attempts', '-', 1),
        updated_at: this.clock.now(),
      }))
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .execute();
  }

  /**
   * Moves deliveries matched by `key` from one of `from` to `to`. The `from` condition makes
   * every transition safe to repeat and keeps late reports from undoing later states.
   */
  private async transition(
    key: { id: string } | { providerId: string } | { enrollmentId: string },
    from: DeliveryStatus[],
    to: DeliveryStatus,
    fields: { error?: string | null; providerId?: string; sent?: boolean } = {},
    trx: Executor = this.db,
  ): Promise<void> {
    const now = this.clock.now();
    const column = 'id' in key ? 'id' : 'providerId' in key ? 'provider_id' : 'enrollment_id';
    const value = 'id' in key ? key.id : 'providerId' in key ? key.providerId : key.enrollmentId;
    await trx
      .updateTable('deliveries')
      .set({
        status: to,
        updated_at: now,
        ...(fields.error !== undefined ? { error: fields.error?.slice(0, 500) ?? null } : {}),
        ...(fields.providerId ? { provider_id: fields.providerId } : {}),
        ...(fields.sent ? { sent_at: now } : {}),
      })
      .where(column, '=', value)
      .where('status', 'in', from)
      .execute();
  }

  markSent(id: string, providerId: string): Promise<void> {
    return this.transition({ id }, ['sending'], 'sent', { providerId, error: null, sent: true });
  }

  markFailed(id: string, error: string): Promise<void> {
    return this.transition({ id }, ['queued', 'sending'], 'failed', { error });
  }

  /** The provider confirmed the message reached the handset. Late or repeated reports are harmless. */
  markDelivered(providerId: string): Promise<void> {
    return this.transition({ providerId }, ['sent'], 'delivered');
  }

  /** The provider accepted the message but could not deliver it. */
  markUndelivered(providerId: string, error: string): Promise<void> {
    return this.transition({ providerId }, ['sent'], 'failed', { error });
  }

  /** Back to queued after a transient error, so the retry can claim it again. */
  markRetrying(id: string, error: string): Promise<void> {
    return this.transition({ id }, ['sending'], 'queued', { error });
  }

  markSkipped(id: string, reason: string): Promise<void> {
    return this.transition({ id }, ['queued'], 'skipped', { error: reason });
  }

  /** Deliveries still queued a while after they were last touched: their job may be lost. */
  async findStaleQueued(
    olderThan: Date,
    limit: number,
  ): Promise<{ id: string; channel: Channel }[]> {
    return this.db
      .selectFrom('deliveries')
      .select(['id', 'channel'])
      .where('status', '=', 'queued')
      .where('updated_at', '<', olderThan)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
  }

  /** Removes deliveries that never left (status queued); returns the lowest step removed. */
  async withdrawQueued(trx: Executor, enrollmentId: string): Promise<number | null> {
    const rows = await trx
      .deleteFrom('deliveries')
      .where('enrollment_id', '=', enrollmentId)
      .where('status', '=', 'queued')
      .returning('step')
      .execute();
    return rows.length ? Math.min(...rows.map((r) => r.step)) : null;
  }

  skipQueued(trx: Executor, enrollmentId: string, reason: string): Promise<void> {
    return this.transition({ enrollmentId }, ['queued'], 'skipped', { error: reason }, trx);
  }

  async listForEnrollment(enrollmentId: string): Promise<Delivery[]> {
    return this.db
      .selectFrom('deliveries')
      .selectAll()
      .where('enrollment_id', '=', enrollmentId)
      .orderBy('step')
      .execute();
  }
}
