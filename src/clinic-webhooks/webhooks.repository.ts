import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import {
  DB,
  type Db,
  type Tx,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../database/index.js';

/** A claimed delivery, with what the sender needs of its endpoint. */
export interface ClaimedDelivery {
  id: string;
  attempts: number;
  eventId: string;
  eventType: string;
  payload: unknown;
  url: string;
  secret: string;
}

export interface DeliveryLogRow {
  id: string;
  endpointId: string;
  url: string;
  eventId: string;
  eventType: string;
  enrollmentId: string | null;
  status: WebhookDeliveryStatus;
  attempts: number;
  createdAt: Date;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  responseStatus: number | null;
  lastError: string | null;
}

/** The clinic's webhook endpoints and the outbox / delivery log (webhook_deliveries). */
@Injectable()
export class WebhooksRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  endpoints(
    clinicId: string,
    opts: { includeDisabled?: boolean } = {},
  ): Promise<WebhookEndpoint[]> {
    let q = this.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .orderBy('created_at');
    if (!opts.includeDisabled) q = q.where('disabled_at', 'is', null);
    return q.execute();
  }

  endpoint(
    clinicId: string,
    id: string,
    tx: Tx | Db = this.db,
  ): Promise<WebhookEndpoint | undefined> {
    return tx
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .where('id', '=', id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
  }

  insertEndpoint(
    tx: Tx,
    row: {
      clinicId: string;
      url: string;
      description: string | null;
      events: WebhookEventType[];
      secret: string;
    },
  ): Promise<WebhookEndpoint> {
    return tx
      .insertInto('webhook_endpoints')
      .values({
        clinic_id: row.clinicId,
        url: row.url,
        description: row.description,
        events: sql<WebhookEventType[]>`${row.events}::text[]`,
        secret: row.secret,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async setSecret(tx: Tx, id: string, secret: string): Promise<void> {
    await tx.updateTable('webhook_endpoints').set({ secret }).where('id', '=', id).execute();
  }

  /** Turns an endpoint off; what it had pending is cancelled, the log is kept. */
  async disable(tx: Tx, id: string, at: Date): Promise<number> {
    await tx
      .updateTable('webhook_endpoints')
      .set({ disabled_at: at })
      .where('id', '=', id)
      .where('disabled_at', 'is', null)
      .execute();
    const r = await tx
      .updateTable('webhook_deliveries')
      .set({ status: 'cancelled', last_error: 'endpoint removed' })
      .where('endpoint_id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** A delivery for one endpoint only ("Send test event"). */
  async insertFor(
    tx: Tx,
    endpoint: WebhookEndpoint,
    e: { eventId: string; type: string; payload: unknown; at: Date },
  ): Promise<void> {
    await tx
      .insertInto('webhook_deliveries')
      .values({
        endpoint_id: endpoint.id,
        clinic_id: endpoint.clinic_id,
        event_id: e.eventId,
        event_type: e.type as WebhookEventType,
        enrollment_id: null,
        payload: JSON.stringify(e.payload),
        status: 'pending',
        next_attempt_at: e.at,
        created_at: e.at,
      })
      .execute();
  }

  /**
   * Claims up to `limit` due deliveries: each counts an attempt and moves `leaseMs` ahead,
   * so one whose sender dies falls due again by itself. SKIP LOCKED lets several senders
   * share the work; a row is never claimed twice at once.
   */
  async claimDue(now: Date, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await sql<{
      id: string;
      attempts: number;
      event_id: string;
      event_type: string;
      payload: unknown;
      url: string;
      secret: string;
    }>`
      UPDATE webhook_deliveries d
      SET attempts = d.attempts + 1,
          last_attempt_at = ${now},
          next_attempt_at = ${new Date(now.getTime() + leaseMs)}
      FROM webhook_endpoints w
      WHERE w.id = d.endpoint_id
        AND d.id IN (SELECT id FROM webhook_deliveries
                     WHERE status = 'pending' AND next_attempt_at <= ${now}
                     ORDER BY next_attempt_at
                     LIMIT ${limit}
                     FOR UPDATE SKIP LOCKED)
      RETURNING d.id, d.attempts, d.event_id, d.event_type, d.payload, w.url, w.secret
    `.execute(this.db);
    return rows.map((r) => ({
      id: String(r.id),
      attempts: r.attempts,
      eventId: r.event_id,
      eventType: r.event_type,
      payload: r.payload,
      url: r.url,
      secret: r.secret,
    }));
  }

  /**
   * The outcome of one claimed attempt. Fenced on the attempt number: a sender that took
   * longer than its lease (its row was claimed again meanwhile) writes nothing.
   */
  async recordAttempt(
    id: string,
    attempt: number,
    outcome:
      | { status: 'delivered'; at: Date; responseStatus: number }
      | {
          status: 'pending' | 'failed';
          nextAttemptAt: Date;
          responseStatus: number | null;
          error: string;
        },
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set(
        outcome.status === 'delivered'
          ? {
              status: 'delivered',
              delivered_at: outcome.at,
              response_status: outcome.responseStatus,
              last_error: null,
            }
          : {
              status: outcome.status,
              next_attempt_at: outcome.nextAttemptAt,
              response_status: outcome.responseStatus,
              last_error: outcome.error,
            },
      )
      .where('id', '=', id)
      .where('attempts', '=', attempt)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** "Try again" on a failed delivery: due now, with a fresh round of attempts. */
  async retry(
    tx: Tx,
    clinicId: string,
    id: string,
    now: Date,
  ): Promise<WebhookDelivery | undefined> {
    return tx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now })
      .where('id', '=', id)
      .where('clinic_id', '=', clinicId)
      .where('status', '=', 'failed')
      .where('endpoint_id', 'in', (eb) =>
        eb.selectFrom('webhook_endpoints').select('id').where('disabled_at', 'is', null),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /** The newest deliveries of a clinic, newest first; `before` pages on. */
  async log(
    clinicId: string,
    opts: { status?: WebhookDeliveryStatus; before?: string; limit: number },
  ): Promise<DeliveryLogRow[]> {
    let q = this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
      .select([
        'd.id',
        'd.endpoint_id',
        'w.url',
        'd.event_id',
        'd.event_type',
        'd.enrollment_id',
        'd.status',
        'd.attempts',
        'd.created_at',
        'd.last_attempt_at',
        'd.next_attempt_at',
        'd.delivered_at',
        'd.response_status',
        'd.last_error',
      ])
      .where('d.clinic_id', '=', clinicId)
      .orderBy('d.id', 'desc')
      .limit(opts.limit);
    if (opts.status) q = q.where('d.status', '=', opts.status);
    if (opts.before) q = q.where('d.id', '<', opts.before);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: String(r.id),
      endpointId: r.endpoint_id,
      url: r.url,
      eventId: r.event_id,
      eventType: r.event_type,
      enrollmentId: r.enrollment_id,
      status: r.status,
      attempts: r.attempts,
      createdAt: r.created_at,
      lastAttemptAt: r.last_attempt_at,
      nextAttemptAt: r.next_attempt_at,
      deliveredAt: r.delivered_at,
      responseStatus: r.response_status,
      lastError: r.last_error,
    }));
  }

  /** Per endpoint: deliveries by status over the last `since`. */
  async counts(
    clinicId: string,
    since: Date,
  ): Promise<Map<string, Record<WebhookDeliveryStatus, number>>> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select(['endpoint_id', 'status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('clinic_id', '=', clinicId)
      .where('created_at', '>=', since)
      .groupBy(['endpoint_id', 'status'])
      .execute();
    const out = new Map<string, Record<WebhookDeliveryStatus, number>>();
    for (const r of rows) {
      const c = out.get(r.endpoint_id) ?? { pending: 0, delivered: 0, failed: 0, cancelled: 0 };
      c[r.status] = Number(r.n);
      out.set(r.endpoint_id, c);
    }
    return out;
  }

  /** Pending deliveries and the oldest one's age, across clinics (for /metrics). */
  async backlog(now: Date): Promise<{ pending: number; oldestSeconds: number }> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select([
        (eb) => eb.fn.countAll<string>().as('n'),
        (eb) => eb.fn.min('created_at').as('oldest'),
      ])
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const oldest = row?.oldest ? new Date(row.oldest as unknown as string) : null;
    return {
      pending: Number(row?.n ?? 0),
      oldestSeconds: oldest
        ? Math.max(0, Math.round((now.getTime() - oldest.getTime()) / 1000))
        : 0,
    };
  }
}
