import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type DeliveryOutcome = 'sent' | 'failed' | 'skipped' | 'undeliverable';
export type ResolutionOutcome = 'found' | 'absent' | 'resent' | 'unresolved' | 'gave-up';

/** Open red-flag items: within the hour, older, and the oldest one's age. */
export interface TriageCounts {
  recent: number;
  overdue: number;
  oldestSeconds: number;
}

/** Outbound webhook deliveries waiting, and the oldest one's age. */
export interface WebhookBacklog {
  pending: number;
  oldestSeconds: number;
}

/** Prometheus metrics of this process. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly deliveries = new Counter({
    name: 'selfcare_deliveries_total',
    help: 'Deliveries finished by this process, by channel and outcome',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly resolutions = new Counter({
    name: 'selfcare_delivery_resolutions_total',
    help:
      'Expired leases (a crash or timeout mid-send) settled by this process: found in the ' +
      'provider log, absent and sent again, resent with the same Message-ID, unresolved ' +
      '(provider log unreachable; tried again later) or given up',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly faults = new Counter({
    name: 'selfcare_channel_faults_total',
    help: 'Send failures by channel and who was at fault (recipient, message, config, outage, rate-limit, retry, unknown)',
    labelNames: ['channel', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly reenqueued = new Counter({
    name: 'selfcare_jobs_reenqueued_total',
    help: 'Queued deliveries whose BullMQ job was missing (a Redis wipe, a crash) and was added again',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  private readonly smsRefusals = new Counter({
    name: 'selfcare_sms_signups_refused_total',
    help:
      'Confirmation texts a public signup asked for and the SMS guard refused: number (daily ' +
      'limit per number), prefix (hourly limit per number prefix), hourly-cap (all numbers)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly webhookAttempts = new Counter({
    name: 'selfcare_webhook_attempts_total',
    help:
      'Outbound webhook posts by this process: delivered (2xx), retry (failed; tried again ' +
      'later) and failed (its last attempt failed; the clinic can send it again)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private webhookSource: (() => Promise<WebhookBacklog>) | undefined;
  private unresolvedSource: (() => Promise<number>) | undefined;
  private pausedSource: (() => Promise<Record<string, boolean>>) | undefined;
  private triageSource: (() => Promise<TriageCounts>) | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const unresolved = () => this.unresolvedSource?.();
    const paused = () => this.pausedSource?.();
    const triage = () => this.triageSource?.();
    const webhooks = () => this.webhookSource?.();
    new Gauge({
      name: 'selfcare_webhook_pending',
      help: 'Outbound webhook deliveries waiting for a first or later attempt, across clinics',
      registers: [this.registry],
      async collect() {
        const b = await Promise.resolve(webhooks()).catch(() => undefined);
        if (b) this.set(b.pending);
      },
    });
    new Gauge({
      name: 'selfcare_webhook_oldest_pending_seconds',
      help: 'Age of the oldest outbound webhook delivery still pending (0: none)',
      registers: [this.registry],
      async collect() {
        const b = await Promise.resolve(webhooks()).catch(() => undefined);
        if (b) this.set(b.oldestSeconds);
      },
    });
    new Gauge({
      name: 'selfcare_triage_open_items',
      help:
        'Red-flag replies no clinic has acknowledged yet, across all clinics: age "under_1h", ' +
        'and "over_1h" (shown in red on the dashboard; page someone)',
      labelNames: ['age'] as const,
      registers: [this.registry],
      async collect() {
        const c = await Promise.resolve(triage()).catch(() => undefined);
        if (!c) return;
        this.set({ age: 'under_1h' }, c.recent);
        this.set({ age: 'over_1h' }, c.overdue);
      },
    });
    new Gauge({
      name: 'selfcare_triage_oldest_open_seconds',
      help: 'Age of the oldest red-flag reply still waiting for a clinic (0: none open)',
      registers: [this.registry],
      async collect() {
        const c = await Promise.resolve(triage()).catch(() => undefined);
        if (c) this.set(c.oldestSeconds);
      },
    });
    new Gauge({
      name: 'selfcare_deliveries_unresolved',
      help: 'Deliveries whose outcome is unknown and could not be settled yet (the provider log was unreachable)',
      registers: [this.registry],
      async collect() {
        const n = await Promise.resolve(unresolved()).catch(() => undefined);
        if (n !== undefined) this.set(n);
      },
    });
    new Gauge({
      name: 'selfcare_channel_paused',
      help: '1 while a channel is paused for a configuration fault (bad credentials, unknown sender)',
      labelNames: ['channel'] as const,
      registers: [this.registry],
      async collect() {
        const state = await Promise.resolve(paused()).catch(() => undefined);
        for (const [channel, on] of Object.entries(state ?? {})) this.set({ channel }, on ? 1 : 0);
      },
    });
  }

  delivery(channel: string, outcome: DeliveryOutcome): void {
    this.deliveries.inc({ channel, outcome });
  }

  resolution(channel: string, outcome: ResolutionOutcome): void {
    this.resolutions.inc({ channel, outcome });
  }

  fault(channel: string, kind: string): void {
    this.faults.inc({ channel, kind });
  }

  jobReenqueued(channel: string, n = 1): void {
    this.reenqueued.inc({ channel }, n);
  }

  webhookAttempt(result: 'delivered' | 'retry' | 'failed'): void {
    this.webhookAttempts.inc({ result });
  }

  smsRefused(reason: 'number' | 'prefix' | 'hourly-cap'): void {
    this.smsRefusals.inc({ reason });
  }
  /** Where the gauges read from at scrape time (set by the delivery module). */
  sources(s: {
    unresolved?: () => Promise<number>;
    paused?: () => Promise<Record<string, boolean>>;
    triage?: () => Promise<TriageCounts>;
    webhooks?: () => Promise<WebhookBacklog>;
  }): void {
    this.webhookSource = s.webhooks ?? this.webhookSource;
    this.triageSource = s.triage ?? this.triageSource;
    this.unresolvedSource = s.unresolved ?? this.unresolvedSource;
    this.pausedSource = s.paused ?? this.pausedSource;
  }
}
