import { Inject, Injectable, Logger } from '@nestjs/common';
import { WEBHOOK_LOG_DAYS, WebhookOutboxRecords } from '../webhook-outbox/index.js';
import { Clock } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { DeliveriesRepository } from '../deliveries/index.js';
import { InboundRepository } from '../webhooks/index.js';
import { OutcomeRecordsRepository } from './outcome-records.repository.js';

/** Rows one statement touches, and statements per kind in one housekeeping pass. */
export const RETENTION_BATCH = 500;
export const RETENTION_BATCHES_PER_PASS = 10;

/** What one pass purged; all zero when RETENTION_MONTHS is unset. */
export interface RetentionResult {
  /** Text replies deleted (body and number). */
  inboundMessages: number;
  /** Pain scores and ratings of change deleted. */
  painScores: number;
  /** Final deliveries of enrolments that can never send again, deleted. */
  deliveries: number;
  /** Error texts of the final deliveries that are kept, replaced by a fixed note. */
  deliveryErrors: number;
  /** Finished webhook deliveries past WEBHOOK_LOG_DAYS (purged whatever RETENTION_MONTHS says). */
  webhookLog: number;
}

export const NOTHING_PURGED: RetentionResult = {
  inboundMessages: 0,
  painScores: 0,
  deliveries: 0,
  deliveryErrors: 0,
  webhookLog: 0,
};

/**
 * RETENTION_MONTHS: personal data older than that goes, a bounded number of rows per pass
 * (the scheduler's housekeeping calls this). Deliveries go only where no step can depend
 * on them: see DeliveriesRepository.purgeEnded and docs/data-rights.md.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly deliveries: DeliveriesRepository,
    private readonly inbound: InboundRepository,
    private readonly outcomes: OutcomeRecordsRepository,
    private readonly webhookRecords: WebhookOutboxRecords,
  ) {}

  /** The moment before which data is purged, or null when retention is off. */
  cutoff(): Date | null {
    const months = this.config.retentionMonths;
    if (!months) return null;
    const at = new Date(this.clock.now().getTime());
    at.setUTCMonth(at.getUTCMonth() - months);
    return at;
  }

  async purge(): Promise<RetentionResult> {
    const logBefore = new Date(this.clock.now().getTime() - WEBHOOK_LOG_DAYS * 86_400_000);
    const webhookLog = await batches((n) => this.webhookRecords.purgeFinished(logBefore, n));
    const before = this.cutoff();
    if (!before) return { ...NOTHING_PURGED, webhookLog };
    const result: RetentionResult = {
      webhookLog,
      inboundMessages: await batches((n) => this.inbound.purgeBefore(before, n)),
      painScores: await batches((n) => this.outcomes.purgePainScores(before, n)),
      deliveries: await batches((n) => this.deliveries.purgeEnded(before, n)),
      deliveryErrors: await batches((n) => this.deliveries.scrubOldErrors(before, n)),
    };
    if (Object.values(result).some((n) => n > 0)) this.logger.log(result, 'retention purge');
    return result;
  }
}

/** Runs `step` until it does less than a full batch, at most RETENTION_BATCHES_PER_PASS times. */
async function batches(step: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < RETENTION_BATCHES_PER_PASS; i++) {
    const n = await step(RETENTION_BATCH);
    total += n;
    if (n < RETENTION_BATCH) break;
  }
  return total;
}
