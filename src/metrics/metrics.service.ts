import { Injectable } from '@nestjs/common';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  delivery(channel: string, outcome: 'sent' | 'failed' | 'skipped'): void {
    this.deliveries.inc({ channel, outcome });
  }
}
