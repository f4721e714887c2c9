import { Inject, Injectable, Module } from '@nestjs/common';
import { sql } from 'kysely';
import { Clock } from '../common/index.js';
import { DB, type Db, type Tx } from '../database/index.js';
import { envelopeOf, type WebhookEvent } from './webhook-events.js';

/**
 * Writes webhook events into the outbox, inside the caller's transaction: an event exists
 * exactly when the change it reports committed. One row per subscribed, enabled endpoint of
 * the event's clinic; nothing at all when the clinic has none (one index probe). The sender
 * (WebhookSender) posts the rows afterwards.
 */
@Injectable()
export class WebhookOutbox {
  constructor(private readonly clock: Clock) {}

  emit(tx: Tx, event: WebhookEvent): Promise<void> {
    return this.emitMany(tx, [event]);
  }

  /** Any number of events in one statement. */
  async emitMany(tx: Tx, events: WebhookEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock.now();
    const rows = events.map((e) => {
      const envelope = envelopeOf(e, now);
      return {
        clinic_id: e.clinicId,
        event_id: envelope.id,
        event_type: e.type,
        enrollment_id: e.enrollmentId,
        payload: envelope,
      };
    });
    await sql`
      INSERT INTO webhook_deliveries
        (endpoint_id, clinic_id, event_id, event_type, enrollment_id, payload, status,
         next_attempt_at, created_at)
      SELECT w.id, v.clinic_id, v.event_id, v.event_type, v.enrollment_id, v.payload, 'pending',
             ${now}, ${now}
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
             AS v(clinic_id uuid, event_id uuid, event_type text, enrollment_id uuid, payload jsonb)
      JOIN webhook_endpoints w
        ON w.clinic_id = v.clinic_id AND w.disabled_at IS NULL AND v.event_type = ANY (w.events)
    `.execute(tx);
  }

  /**
   * enrollment.completed for those of `enrollmentIds` that belong to a clinic with a
   * subscribed endpoint (a scheduler batch's finished enrolments): one read, one write.
   */
  async emitCompleted(tx: Tx, enrollmentIds: string[]): Promise<void> {
    if (enrollmentIds.length === 0) return;
    const { rows } = await sql<{
      id: string;
      clinic_id: string;
      external_id: string | null;
      campaign_id: string;
      channel: string;
      step: number;
    }>`
      SELECT e.id, e.clinic_id, e.external_id, e.campaign_id, e.channel, e.step
      FROM enrollments e
      WHERE e.id = ANY (${enrollmentIds}::uuid[]) AND e.status = 'completed'
        AND e.clinic_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM webhook_endpoints w
                    WHERE w.clinic_id = e.clinic_id AND w.disabled_at IS NULL
                      AND 'enrollment.completed' = ANY (w.events))
    `.execute(tx);
    await this.emitMany(
      tx,
      rows.map((e) => ({
        clinicId: e.clinic_id,
        type: 'enrollment.completed' as const,
        enrollmentId: e.id,
        data: {
          enrollmentId: e.id,
          externalId: e.external_id,
          campaignId: e.campaign_id,
          channel: e.channel,
          status: 'completed',
          steps: e.step,
        },
      })),
    );
  }
}

/** How long the log of finished webhook deliveries is kept. */
export const WEBHOOK_LOG_DAYS = 30;

/** Erasure and retention of outbox rows (the payloads name the clinic's externalId). */
@Injectable()
export class WebhookOutboxRecords {
  constructor(@Inject(DB) private readonly db: Db) {}

  /** An erased patient's events, sent or not: nothing more is said about them. */
  async forgetEnrollments(tx: Tx, enrollmentIds: string[]): Promise<number> {
    if (enrollmentIds.length === 0) return 0;
    const r = await tx
      .deleteFrom('webhook_deliveries')
      .where('enrollment_id', 'in', enrollmentIds)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Finished deliveries created before `before`, at most `limit` of them. */
  async purgeFinished(before: Date, limit: number): Promise<number> {
    const r = await sql`
      DELETE FROM webhook_deliveries WHERE id IN (
        SELECT id FROM webhook_deliveries
        WHERE created_at < ${before} AND status <> 'pending'
        LIMIT ${limit})
    `.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }
}

/** The outbox alone: every role writes events (replies in the API, completions in the scheduler). */
@Module({
  providers: [WebhookOutbox, WebhookOutboxRecords],
  exports: [WebhookOutbox, WebhookOutboxRecords],
})
export class WebhookOutboxModule {}
