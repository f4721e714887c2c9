import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import { CampaignsService } from '../campaigns/index.js';
import { EmailChannel, SendError, SmsChannel, type SendResult } from '../channels/index.js';
import { Clock, maskAddress, isConnectionError, reportOutage } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Transactions } from '../database/index.js';
import { EnrollmentLifecycle, inSendingWindow, respectQuietHours } from '../enrollments/index.js';
import { MetricsService } from '../metrics/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import { ChannelFaults } from './channel-faults.js';
import { DeliveriesRepository, type DeliveryForSend } from '../deliveries/index.js';
import { DeliveryMessages, type BuiltMessage } from './delivery-message.js';
import { durably } from './durably.js';
import { queueForChannel, type JobName, type JobPayloads } from './jobs.js';
import { LeaseResolver } from './lease-resolver.js';

export type SendOutcome = 'sent' | 'skipped' | 'gone' | 'already-done' | 'failed' | 'undeliverable';

type SendJob = Job<JobPayloads[JobName.SendDelivery]>;

/** How long the record of a send is retried: a lost record would become a duplicate. */
const RECORD_SENT_FOR_MS = 10 * 60_000;
/** Other bookkeeping writes: after this the lease settles the delivery instead. */
const RECORD_FOR_MS = 15_000;
/** Back-off of a whole queue while its provider is down: 1 s, doubling, at most 30 s. */
const OUTAGE_BACKOFF = { firstMs: 1_000, maxMs: 30_000 };

/**
 * Handles one `send-delivery` job: claim (a lease), re-check, render, send, record. Every
 * failure is sorted by who is at fault (see FaultKind); every path leaves the delivery in a
 * final state or back in the queue with a job that will take it further.
 */
@Injectable()
export class SendProcessor {
  private readonly logger = new Logger(SendProcessor.name);
  private readonly stopping = new AbortController();
  /** Per dependency: the wait last given (the next doubles it), and the errors counted. */
  private readonly outageBackoff = new Map<string, number>();
  private readonly countedOutages = new WeakSet<object>();

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveriesRepository,
    private readonly campaigns: CampaignsService,
    private readonly messages: DeliveryMessages,
    private readonly email: EmailChannel,
    private readonly sms: SmsChannel,
    private readonly resolver: LeaseResolver,
    private readonly faults: ChannelFaults,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly transactions: Transactions,
    private readonly subscribers: SubscribersRepository,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  /** Shutdown: stop retrying bookkeeping writes; leases settle whatever is left. */
  stop(): void {
    this.stopping.abort();
  }

  async process(job: SendJob, token: string | undefined, worker: Worker): Promise<SendOutcome> {
    // The job id is the delivery id (older jobs also carried it in their data).
    const deliveryId = job.data.deliveryId ?? job.id!;
    let d: DeliveryForSend | undefined;
    try {
      d = await this.deliveries.claim(deliveryId, this.config.delivery.leaseMs);
    } catch (err) {
      // PostgreSQL unreachable: nothing was claimed (or, if the statement committed before the
      // connection went, its lease settles it). The queue waits; no attempt is spent.
      if (!isConnectionError(err)) throw err;
      reportOutage('postgres', err);
      await worker.rateLimit(this.nextOutageWait('postgres', err));
      throw new RateLimitError();
    }
    this.outageBackoff.delete('postgres');
    if (!d) return this.notClaimed(deliveryId, job, token, worker);
    // The message is built from the enrolment's clinic as stored; the payload's is a label.
    if (job.data.clinicId !== undefined && job.data.clinicId !== d.clinicId)
      this.logger.warn(
        { deliveryId, jobId: job.id, jobClinicId: job.data.clinicId, clinicId: d.clinicId },
        "job payload names another clinic than the delivery's enrolment; sending as the enrolment's",
      );
    return this.send(d, job, token, worker);
  }

  private async send(
    d: DeliveryForSend,
    job: SendJob,
    token: string | undefined,
    worker: Worker,
  ): Promise<SendOutcome> {
    const campaign = this.campaigns.get(d.campaignId);
    if (!campaign || !campaign.steps.some((s) => s.key === d.stepKey)) {
      await this.record(() =>
        this.deliveries.markFailed(
          d.id,
          `campaign step ${d.campaignId}#${d.stepKey} no longer exists`,
          d.attempts,
        ),
      );
      this.metrics.delivery(d.channel, 'failed');
      throw new UnrecoverableError('campaign step missing');
    }
    const now = this.clock.now();
    const window = { channel: d.channel, timezone: d.timezone, quietHours: campaign.quietHours };
    if (!inSendingWindow(now, window)) {
      // The job waited past 21:00 local (a backlog, a retry): hold it until 08:00.
      const opensAt = respectQuietHours(now, window);
      await this.record(() => this.deliveries.release(d.id, d.attempts, this.checkAfter(opensAt)));
      return this.delay(job, token, opensAt);
    }

    let built: BuiltMessage;
    try {
      built = await this.messages.build(d, campaign);
    } catch (err) {
      if (isConnectionError(err)) {
        // The clinic could not be read: nothing went out, and the attempt is not spent.
        reportOutage('postgres', err);
        await this.record(() =>
          this.deliveries.release(d.id, d.attempts, this.checkAfter(this.clock.now())),
        );
        await worker.rateLimit(this.nextOutageWait('postgres', err));
        throw new RateLimitError();
      }
      // Templates are checked at start-up, so this is a bug; retrying would not fix it.
      const reason = `could not render: ${(err as Error).message}`;
      await this.record(() => this.deliveries.markFailed(d.id, reason, d.attempts));
      this.metrics.delivery(d.channel, 'failed');
      throw new UnrecoverableError(reason);
    }
    const address = built.message.to;
    const log = {
      deliveryId: d.id,
      jobId: job.id,
      channel: d.channel,
      step: d.step,
      attempt: d.attempts,
      to: maskAddress(address),
    };
    let result: SendResult;
    try {
      result =
        built.channel === 'email'
          ? await this.email.send(built.message)
          : await this.sms.send(built.message);
    } catch (err) {
      return this.failed(d, toSendError(err), job, token, worker, log);
    }
    // The provider has the message. From here nothing may lead to sending it again: the
    // record is retried (the job keeps its lock meanwhile), and if it never lands the lease
    // expires and the reconciler finds the message in the provider's log.
    try {
      await durably(() => this.deliveries.markSent(d.id, d.attempts, result.providerId), {
        forMs: RECORD_SENT_FOR_MS,
        signal: this.stopping.signal,
        onError: (err, tries) => {
          if (tries === 1)
            this.logger.error(
              { ...log, error: (err as Error).message },
              'sent, but recording it failed; retrying the record (the message is not sent again)',
            );
        },
      });
    } catch {
      this.logger.error(
        log,
        'sent, but never recorded; its lease will settle it from the provider log',
      );
      return 'sent';
    }
    this.outageBackoff.delete(d.channel);
    this.metrics.delivery(d.channel, 'sent');
    this.logger.log(log, 'sent');
    return 'sent';
  }

  /** Decides what a failed send leads to, by who was at fault. */
  private async failed(
    d: DeliveryForSend,
    e: SendError,
    job: SendJob,
    token: string | undefined,
    worker: Worker,
    log: Record<string, unknown>,
  ): Promise<SendOutcome> {
    this.metrics.fault(d.channel, e.kind);
    const queue = queueForChannel(d.channel);
    const notCounted = () =>
      this.record(() =>
        this.deliveries.release(d.id, d.attempts, this.checkAfter(this.clock.now())),
      );
    switch (e.kind) {
      case 'config':
        // Our setup is wrong: no message could pass. Pause the channel; fail nothing.
        await notCounted();
        await this.faults.trip(queue, e);
        throw new RateLimitError();
      case 'outage':
      case 'rate-limit': {
        // Not about this recipient: the whole queue waits, and the attempt is not spent.
        await notCounted();
        const waitMs =
          e.kind === 'rate-limit' ? (e.retryAfterMs ?? 1_000) : this.nextOutageWait(d.channel);
        await worker.rateLimit(waitMs);
        if (e.kind === 'outage')
          this.logger.warn(
            { ...log, error: e.message, waitMs },
            'provider unavailable; queue backs off',
          );
        throw new RateLimitError();
      }
      case 'recipient':
        await this.undeliverable(d, e, log);
        throw new UnrecoverableError(e.message);
      case 'message':
        await this.record(() => this.deliveries.markFailed(d.id, e.message, d.attempts));
        this.metrics.delivery(d.channel, 'failed');
        this.logger.warn({ ...log, error: e.message }, 'message refused; not retried');
        throw new UnrecoverableError(e.message);
      case 'unknown':
        // It may have gone. Keep the lease; when it ends, the provider's log decides.
        this.logger.warn(
          { ...log, error: e.message },
          'outcome unknown; settled from the provider log when the lease ends',
        );
        await this.record(() =>
          this.deliveries.noteUnresolved(
            d.id,
            d.attempts,
            `outcome unknown (${e.message}); settled when the lease ends`,
          ),
        );
        return this.delay(job, token, d.checkAt ?? this.clock.now());
      case 'retry': {
        // Counted on the delivery (attempts spent on this recipient), not on the job: a job
        // the reconciler re-adds starts at zero, the delivery does not.
        const lastAttempt = d.attempts >= this.config.sendAttempts;
        if (lastAttempt) {
          const reason = `gave up after ${d.attempts} attempts: ${e.message}`;
          await this.record(() => this.deliveries.markFailed(d.id, reason, d.attempts));
          this.metrics.delivery(d.channel, 'failed');
          this.logger.warn({ ...log, error: e.message }, 'send failed; out of attempts');
          throw new UnrecoverableError(reason);
        }
        const backoff = this.config.sendBackoffMs * 2 ** (d.attempts - 1);
        const retryAt = new Date(this.clock.now().getTime() + backoff);
        await this.record(() =>
          this.deliveries.markRetrying(d.id, d.attempts, e.message, this.checkAfter(retryAt)),
        );
        this.logger.warn(
          { ...log, error: e.message, attempt: d.attempts },
          'send failed; will retry',
        );
        return this.delay(job, token, retryAt);
      }
    }
  }

  /**
   * The address can never receive (no such mailbox, not a mobile, opted out at the carrier):
   * fail this delivery, suppress the address with the reason, and end the person's enrolments
   * on this channel as undeliverable, in one transaction. The operator sees it on the enrolment.
   */
  private async undeliverable(
    d: DeliveryForSend,
    e: SendError,
    log: Record<string, unknown>,
  ): Promise<void> {
    const address = (d.channel === 'email' ? d.email : d.phone)!;
    await this.record(() =>
      this.transactions.run(async (trx) => {
        await this.deliveries.markFailed(d.id, `undeliverable: ${e.message}`, d.attempts, trx);
        await this.subscribers.suppress(address, d.channel, `undeliverable: ${e.message}`, trx);
        await this.lifecycle.endUndeliverable(trx, d.subscriberId, d.channel);
      }),
    );
    this.metrics.delivery(d.channel, 'undeliverable');
    this.logger.warn(
      { ...log, error: e.message },
      'address undeliverable: suppressed, and its enrolments on this channel ended',
    );
  }

  /** The rare path: the claim found nothing to send. Work out why, and act on it. */
  private async notClaimed(
    deliveryId: string,
    job: SendJob,
    token: string | undefined,
    worker: Worker,
  ): Promise<SendOutcome> {
    const d = await this.deliveries.loadForSend(deliveryId);
    if (!d) return 'gone'; // withdrawn by a pause or STOP, or the enrolment was deleted
    if (d.status === 'sending') {
      // Another attempt holds the lease, or died holding it (this job was retried after a
      // crash). Wait for the lease to end, then settle it from the provider's record.
      const now = this.clock.now();
      if (d.checkAt && d.checkAt.getTime() > now.getTime())
        return this.delay(job, token, d.checkAt);
      const settled = await this.resolver.settle(d);
      if (settled === 'requeued') {
        const again = await this.deliveries.claim(deliveryId, this.config.delivery.leaseMs);
        return again
          ? this.send(again, job, token, worker)
          : this.notClaimed(deliveryId, job, token, worker);
      }
      if (settled === 'unresolved' || settled === 'busy')
        return this.delay(job, token, new Date(now.getTime() + this.config.delivery.leaseMs));
      return 'already-done';
    }
    if (d.status !== 'queued') return 'already-done';
    // Queued, yet not claimed: it cannot be sent, or another job of the same delivery (one
    // re-added by the reconciler) held it a moment ago and has given it back. Only the
    // first is a skip; the second belongs to that job, and this one comes back when the
    // reconciler would look, in case that job is lost.
    if (!(await this.deliveries.skipUnsendable(d.id))) {
      const soonest = this.clock.now().getTime() + 1_000;
      return this.delay(job, token, new Date(Math.max(d.checkAt?.getTime() ?? 0, soonest)));
    }
    this.metrics.delivery(d.channel, 'skipped');
    return 'skipped';
  }

  /** Moves the job to BullMQ's delayed set until `at` (by this service's clock). */
  private async delay(job: SendJob, token: string | undefined, at: Date): Promise<never> {
    const waitMs = Math.max(0, at.getTime() - this.clock.now().getTime());
    await job.moveToDelayed(Date.now() + waitMs + 250, token);
    throw new DelayedError();
  }

  /** When the reconciler should check a queued delivery's job, if it is still queued then. */
  private checkAfter(at: Date): Date {
    return new Date(at.getTime() + this.config.delivery.jobCheckMs);
  }

  private nextOutageWait(channel: string, cause?: unknown): number {
    // The sends that fail on one error (a batch of claims on one dropped connection) share
    // one step of the back-off: it doubles once per error, not once per send.
    const last = this.outageBackoff.get(channel);
    if (typeof cause === 'object' && cause !== null) {
      if (last !== undefined && this.countedOutages.has(cause)) return last;
      this.countedOutages.add(cause);
    }
    const wait =
      last === undefined ? OUTAGE_BACKOFF.firstMs : Math.min(last * 2, OUTAGE_BACKOFF.maxMs);
    this.outageBackoff.set(channel, wait);
    return wait;
  }

  private record<T>(write: () => Promise<T>): Promise<T> {
    return durably(write, { forMs: RECORD_FOR_MS, signal: this.stopping.signal });
  }
}

function toSendError(err: unknown): SendError {
  if (err instanceof SendError) return err;
  // Not from a channel (a render bug, say): nothing went out; retry like a temporary error.
  return new SendError((err as Error)?.message ?? 'send failed', 'retry');
}
