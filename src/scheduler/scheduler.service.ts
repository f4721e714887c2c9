import { Inject, Injectable, Logger } from '@nestjs/common';
import { CampaignsService } from '../campaigns/index.js';
import { ClinicsRepository, IDEMPOTENCY_TTL_MS, StaffRepository } from '../clinics/index.js';
import { TriageService } from '../outcomes/index.js';
import { RetentionService, type RetentionResult } from '../data-rights/index.js';
import { Clock } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Transactions } from '../database/index.js';
import { DeliveriesRepository, QueuesService, type DeliveryJobRef } from '../delivery/index.js';
import {
  EnrollmentLifecycle,
  EnrollmentsRepository,
  EnrollmentsService,
  followingSendAt,
  planAdvance,
  type DueSend,
  type EnrollmentAdvance,
  type ScheduleContext,
} from '../enrollments/index.js';
import { Reconciler } from './reconciler.service.js';

/** pg advisory lock key held by the one scheduler pass running at a time (any instance). */
export const SCHEDULER_LOCK = 0x5cd71;
/**
 * Batches one pass claims at most before it lets the loop sweep and keep house; when it
 * stops with work still due (`more`), the loop starts the next pass at once.
 */
const MAX_BATCHES_PER_PASS = 50;

export interface PassResult {
  /** false when another instance held the pass lock. */
  ran: boolean;
  claimed: number;
  enqueued: number;
  /** The pass stopped at its batch limit with more due: run the next one now. */
  more?: boolean;
}

@Injectable()
export class SchedulerService {
  private readonly logger = new Logger(SchedulerService.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly enrollments: EnrollmentsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly queues: QueuesService,
    private readonly campaigns: CampaignsService,
    private readonly clock: Clock,
    private readonly enrollmentsService: EnrollmentsService,
    private readonly reconciler: Reconciler,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly transactions: Transactions,
    private readonly clinics: ClinicsRepository,
    private readonly triage: TriageService,
    private readonly staff: StaffRepository,
    private readonly retention: RetentionService,
  ) {}

  /**
   * Claims everything due (in batches), records one delivery per step, then enqueues. A
   * batch's jobs are added to Redis while the next batch is claimed in PostgreSQL, so the
   * two stores work at once; a pass waits for all of its jobs before it returns.
   */
  async runPass(): Promise<PassResult> {
    const total: PassResult = { ran: false, claimed: 0, enqueued: 0 };
    // The jobs of the batch before, being added while this batch is claimed (one at a time).
    let enqueuing: Promise<void> = Promise.resolve();
    try {
      for (let i = 0; i < MAX_BATCHES_PER_PASS; i++) {
        const batch = await this.claimBatch();
        if (!batch) break;
        total.ran = true;
        total.claimed += batch.claimed;
        total.enqueued += batch.inserted.length;
        // A failed enqueue (Redis down) ends the pass; its rows wait for the sweeper.
        await enqueuing;
        // After commit: if this process dies before the jobs are in, the sweeper adds them.
        enqueuing = this.queues.enqueueDeliveries(batch.inserted);
        enqueuing.catch(() => undefined); // awaited (and thrown) on the next turn or below
        if (batch.claimed < this.config.scheduler.batchSize) break;
        if (i === MAX_BATCHES_PER_PASS - 1) total.more = true;
      }
    } finally {
      await enqueuing;
    }
    if (total.claimed > 0) this.logger.log(total, 'scheduler pass');
    return total;
  }

  /** One batch in one transaction; null when another instance holds the pass lock. */
  private async claimBatch(): Promise<{ claimed: number; inserted: DeliveryJobRef[] } | null> {
    const now = this.clock.now();
    const outcome = await this.transactions.run(async (trx) => {
      if (!(await this.enrollments.tryAdvisoryLock(trx, SCHEDULER_LOCK))) return null;
      await this.enrollments.preferIndexes(trx);
      const due = await this.enrollments.claimDue(trx, now, this.config.scheduler.batchSize);
      const had = await this.deliveries.keysHad(
        trx,
        due.map((e) => e.id),
      );
      const rows: DueSend[] = [];
      const advances: EnrollmentAdvance[] = [];
      // Daily next-send times depend only on zone, time and channel within one batch:
      // computing each once keeps time-zone maths off the per-row path.
      const dailyMemo = new Map<string, Date>();
      const dailyNext = (ctx: ScheduleContext) => {
        const key = `${ctx.timezone}|${ctx.sendTime}|${ctx.channel}|${ctx.quietHours}`;
        let at = dailyMemo.get(key);
        if (!at) dailyMemo.set(key, (at = followingSendAt(now, ctx)));
        return at;
      };
      for (const e of due) {
        const plan = planAdvance(
          e,
          this.campaigns.get(e.campaign_id),
          had.get(e.id) ?? new Set<string>(),
          now,
          dailyNext,
        );
        if (plan.notice?.kind === 'campaign-missing') {
          this.logger.error(
            { enrollmentId: e.id, campaign: e.campaign_id },
            'campaign not found; enrolment cancelled',
          );
        } else if (plan.notice?.kind === 'step-gone') {
          this.logger.warn(
            {
              enrollmentId: e.id,
              campaign: e.campaign_id,
              waitingOn: plan.notice.waitingOn,
              sending: plan.notice.sending,
            },
            'the step this enrolment waited on is gone; sending the next one it has not had',
          );
        }
        if (plan.send) rows.push(plan.send);
        advances.push(plan.advance);
      }
      const inserted = await this.deliveries.insertQueued(
        trx,
        rows,
        this.config.delivery.jobCheckMs,
      );
      await this.lifecycle.advance(trx, advances);
      return { claimed: due.length, inserted };
    });
    return outcome;
  }

  /**
   * Sees that every open delivery moves on: re-adds lost jobs, settles expired leases.
   * Returns how many jobs had to be added again.
   */
  async sweep(): Promise<number> {
    return (await this.reconciler.run()).reenqueued;
  }

  /**
   * Ends timed pauses that are over, deletes signups never confirmed, forgets the answers to
   * clinics' idempotent requests once they are a day old and staff sign-in links and
   * sessions long over, tells clinics of red flags a failed attempt left untold, and (with
   * RETENTION_MONTHS) purges replies, pain scores and old deliveries in bounded batches.
   * Returns what each did: `resumed` pauses, `expired` signups, `forgotten` idempotency
   * keys, `told` red flags, and `purged` (RetentionResult: all zero while retention is off).
   */
  async housekeeping(): Promise<{
    resumed: number;
    expired: number;
    forgotten: number;
    told: number;
    purged: RetentionResult;
  }> {
    const ended = await this.enrollments.pausesEnded(this.clock.now(), 1000);
    for (const { id } of ended) await this.enrollmentsService.resume(id);
    const expired = await this.enrollmentsService.expirePending(this.clock.now());
    const forgotten = await this.clinics.forgetIdempotencyKeys(
      new Date(this.clock.now().getTime() - IDEMPOTENCY_TTL_MS),
    );
    await this.staff.forgetExpired(this.clock.now());
    const told = await this.triage.notifyPending();
    const purged = await this.retention.purge();
    return { resumed: ended.length, expired, forgotten, told, purged };
  }
}
