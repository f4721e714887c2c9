import { Inject, Injectable } from '@nestjs/common';
import { AuditService, type AuditActor } from '../clinics/index.js';
import { Clock, conflict, invalid, isUuid, notFound } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import {
  Transactions,
  type WebhookDeliveryStatus,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../database/index.js';
import {
  envelopeOf,
  isWebhookEventType,
  TEST_EVENT,
  WEBHOOK_EVENTS,
} from '../webhook-outbox/index.js';
import { urlProblem } from './webhook-http.js';
import { newSecret } from './webhook-signature.js';
import { WebhooksRepository, type DeliveryLogRow } from './webhooks.repository.js';

/** Endpoints one clinic may have at once. */
export const MAX_ENDPOINTS = 5;
const DESCRIPTION_MAX = 200;
const LOG_PAGE = 50;
const STATUSES: WebhookDeliveryStatus[] = ['pending', 'delivered', 'failed', 'cancelled'];

/** An endpoint as shown: never its secret (that is shown once, when made or rotated). */
export interface EndpointView {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  createdAt: Date;
  /** Deliveries of the last 7 days by status. */
  last7Days: Record<WebhookDeliveryStatus, number>;
}

export interface NewEndpointInput {
  url?: unknown;
  description?: unknown;
  events?: unknown;
}

/**
 * A clinic's webhook endpoints: add (the signing secret is shown once), rotate the secret,
 * remove, send a test event, and the delivery log with "try again" for failed deliveries.
 * Every change goes in the audit log.
 */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly repo: WebhooksRepository,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
  ) {}

  async list(clinicId: string): Promise<EndpointView[]> {
    const [endpoints, counts] = await Promise.all([
      this.repo.endpoints(clinicId),
      this.repo.counts(clinicId, new Date(this.clock.now().getTime() - 7 * 86_400_000)),
    ]);
    return endpoints.map((e) => viewOf(e, counts.get(e.id)));
  }

  /** One endpoint of the clinic (a 404 for another clinic's, a removed one or a bad id). */
  async get(clinicId: string, id: string): Promise<EndpointView> {
    return viewOf(await this.mustFind(clinicId, id));
  }

  /** Adds an endpoint. The result carries the secret: show it once, it is not shown again. */
  async create(
    clinicId: string,
    input: NewEndpointInput,
    actor: AuditActor,
  ): Promise<{ endpoint: EndpointView; secret: string }> {
    const url = typeof input.url === 'string' ? input.url.trim() : '';
    if (!url) throw invalid('url', 'is required');
    const problem = urlProblem(url, this.config.webhooks.allowPrivate);
    if (problem) throw invalid('url', problem);
    const description =
      typeof input.description === 'string' && input.description.trim()
        ? input.description.trim()
        : null;
    if (description && description.length > DESCRIPTION_MAX)
      throw invalid('description', `must be at most ${DESCRIPTION_MAX} characters`);
    const events = eventsOf(input.events);
    const secret = newSecret();
    const endpoint = await this.transactions.run(async (tx) => {
      // Counted inside the transaction: the clinic row lock keeps two adds from both passing.
      await tx.selectFrom('clinics').select('id').where('id', '=', clinicId).forUpdate().execute();
      const existing = await tx
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('clinic_id', '=', clinicId)
        .where('disabled_at', 'is', null)
        .executeTakeFirstOrThrow();
      if (Number(existing.n) >= MAX_ENDPOINTS)
        throw conflict(
          `url: a clinic may have at most ${MAX_ENDPOINTS} webhook endpoints; remove one first`,
        );
      const row = await this.repo.insertEndpoint(tx, {
        clinicId,
        url,
        description,
        events,
        secret,
      });
      await this.audit.record(
        { clinicId, actor, action: 'webhook.added', detail: { endpointId: row.id, events } },
        tx,
      );
      return row;
    });
    return { endpoint: viewOf(endpoint), secret };
  }

  async rotateSecret(
    clinicId: string,
    id: string,
    actor: AuditActor,
  ): Promise<{ endpoint: EndpointView; secret: string }> {
    const secret = newSecret();
    const endpoint = await this.transactions.run(async (tx) => {
      const e = await this.mustFind(clinicId, id, tx);
      await this.repo.setSecret(tx, e.id, secret);
      await this.audit.record(
        { clinicId, actor, action: 'webhook.secret-rotated', detail: { endpointId: e.id } },
        tx,
      );
      return e;
    });
    return { endpoint: viewOf(endpoint), secret };
  }

  /** Removes an endpoint: nothing more is sent to it; its pending deliveries are cancelled. */
  async remove(clinicId: string, id: string, actor: AuditActor): Promise<void> {
    await this.transactions.run(async (tx) => {
      const e = await this.mustFind(clinicId, id, tx);
      const cancelled = await this.repo.disable(tx, e.id, this.clock.now());
      await this.audit.record(
        { clinicId, actor, action: 'webhook.removed', detail: { endpointId: e.id, cancelled } },
        tx,
      );
    });
  }

  /** Queues a `webhook.test` event for one endpoint; its result shows in the log. */
  async sendTest(clinicId: string, id: string, actor: AuditActor): Promise<void> {
    await this.transactions.run(async (tx) => {
      const e = await this.mustFind(clinicId, id, tx);
      const at = this.clock.now();
      const envelope = envelopeOf(
        {
          clinicId,
          type: TEST_EVENT,
          enrollmentId: null,
          data: { endpointId: e.id, message: 'A test event from the clinic dashboard.' },
        },
        at,
      );
      await this.repo.insertFor(tx, e, {
        eventId: envelope.id,
        type: TEST_EVENT,
        at,
        payload: envelope,
      });
      await this.audit.record(
        { clinicId, actor, action: 'webhook.test-sent', detail: { endpointId: e.id } },
        tx,
      );
    });
  }

  /** Sends a failed delivery again, with a new round of attempts. */
  async retry(clinicId: string, deliveryId: string, actor: AuditActor): Promise<void> {
    if (!/^\d{1,18}$/.test(deliveryId)) throw notFound('delivery not found');
    await this.transactions.run(async (tx) => {
      const d = await this.repo.retry(tx, clinicId, deliveryId, this.clock.now());
      if (!d)
        throw notFound(
          'delivery not found, not failed, or its endpoint was removed: only a failed delivery can be sent again',
        );
      await this.audit.record(
        {
          clinicId,
          actor,
          action: 'webhook.retried',
          enrollmentId: d.enrollment_id,
          detail: { webhookDeliveryId: String(d.id), eventType: d.event_type },
        },
        tx,
      );
    });
  }

  async log(
    clinicId: string,
    query: { status?: unknown; before?: unknown },
  ): Promise<{
    rows: DeliveryLogRow[];
    status: WebhookDeliveryStatus | null;
    nextBefore: string | null;
  }> {
    let status: WebhookDeliveryStatus | null = null;
    if (query.status !== undefined && query.status !== '') {
      if (!STATUSES.includes(query.status as WebhookDeliveryStatus))
        throw invalid('status', `must be one of ${STATUSES.join(', ')}`);
      status = query.status as WebhookDeliveryStatus;
    }
    let before: string | undefined;
    if (query.before !== undefined && query.before !== '') {
      if (typeof query.before !== 'string' || !/^\d{1,18}$/.test(query.before))
        throw invalid('before', 'must be a delivery number from the log');
      before = query.before;
    }
    const rows = await this.repo.log(clinicId, {
      ...(status ? { status } : {}),
      ...(before ? { before } : {}),
      limit: LOG_PAGE,
    });
    return {
      rows,
      status,
      nextBefore: rows.length === LOG_PAGE ? rows[rows.length - 1]!.id : null,
    };
  }

  private async mustFind(
    clinicId: string,
    id: string,
    tx?: Parameters<WebhooksRepository['endpoint']>[2],
  ): Promise<WebhookEndpoint> {
    const e = isUuid(id) ? await this.repo.endpoint(clinicId, id, tx) : undefined;
    if (!e) throw notFound('webhook endpoint not found');
    return e;
  }
}

function eventsOf(value: unknown): WebhookEventType[] {
  const list = (
    Array.isArray(value) ? value : value === undefined || value === '' ? [] : [value]
  ).map((v) => (typeof v === 'string' ? v.trim() : v));
  if (list.length === 0)
    throw invalid(
      'events',
      `choose at least one of ${WEBHOOK_EVENTS.map((e) => e.type).join(', ')}`,
    );
  const unknown = list.filter((v) => !isWebhookEventType(v));
  if (unknown.length)
    throw invalid(
      'events',
      `unknown event ${JSON.stringify(unknown[0])} (known: ${WEBHOOK_EVENTS.map((e) => e.type).join(', ')})`,
    );
  return [...new Set(list as WebhookEventType[])];
}

function viewOf(
  e: WebhookEndpoint,
  last7Days: Record<WebhookDeliveryStatus, number> = {
    pending: 0,
    delivered: 0,
    failed: 0,
    cancelled: 0,
  },
): EndpointView {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    createdAt: e.created_at,
    last7Days,
  };
}
