import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import {
  DeliveriesRepository,
  LeaseResolver,
  QueuesService,
  type DeliveryJobRef,
} from '../delivery/index.js';
import { MetricsService } from '../metrics/index.js';

export interface ReconcileResult {
  /** Queued deliveries whose job was missing or finished, added again. */
  reenqueued: number;
  /** Queued deliveries whose job was fine, put to the back of the line. */
  checked: number;
  /** Expired leases settled: found at the provider, sent again, or still unresolved. */
  settled: { sent: number; requeued: number; unresolved: number; failed: number };
}

/**
 * Sees that every open delivery moves on (scheduler role). It reads only deliveries whose
 * `check_at` has passed, oldest first, and always pushes `check_at` forward for what it
 * looked at, so nothing can starve what lies behind it:
 * - queued: its BullMQ job must exist; a lost one is added again;
 * - sending past its lease: a worker died or timed out mid-send; the LeaseResolver asks the
 *   provider and either records the send or queues it again.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger(Reconciler.name);
  /** Rows read per query, and queries per run (a run ends early when nothing more is due). */
  batchSize = 500;
  maxBatches = 20;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveriesRepository,
    private readonly queues: QueuesService,
    private readonly resolver: LeaseResolver,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  async run(): Promise<ReconcileResult> {
    const out: ReconcileResult = {
      reenqueued: 0,
      checked: 0,
      settled: { sent: 0, requeued: 0, unresolved: 0, failed: 0 },
    };
    for (let i = 0; i < this.maxBatches; i++) {
      const now = this.clock.now();
      const due = await this.deliveries.findDue(now, this.batchSize);
      if (due.length === 0) break;
      const queued = due.filter((d) => d.status === 'queued');
      if (queued.length > 0) {
        const readded = await this.queues.ensureJobs(queued);
        for (const d of queued.filter((q) => readded.includes(q.id)))
          this.metrics.jobReenqueued(d.channel);
        await this.deliveries.pushBack(
          queued.map((d) => d.id),
          new Date(now.getTime() + this.config.delivery.jobCheckMs),
        );
        out.reenqueued += readded.length;
        out.checked += queued.length - readded.length;
      }
      const requeued: DeliveryJobRef[] = [];
      for (const { id } of due.filter((d) => d.status === 'sending')) {
        const d = await this.deliveries.loadForSend(id);
        if (!d) continue;
        const settled = await this.resolver.settle(d);
        if (settled === 'busy') continue;
        out.settled[settled]++;
        if (settled === 'requeued')
          requeued.push({ id: d.id, channel: d.channel, clinicId: d.clinicId });
      }
      // Its old job may be waiting for the lease (then this is a no-op) or long gone.
      if (requeued.length > 0) await this.queues.ensureJobs(requeued);
      if (due.length < this.batchSize) break;
    }
    const s = out.settled;
    if (out.reenqueued + s.sent + s.requeued + s.unresolved + s.failed > 0)
      this.logger.log(out, 'reconciled open deliveries');
    return out;
  }
}
