import { Inject, Injectable, Logger } from '@nestjs/common';
import { CampaignsService } from '../campaigns/index.js';
import { EmailChannel, SendError, SmsChannel, type LookupResult } from '../channels/index.js';
import { Clock } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { DeliveriesRepository, type DeliveryForSend } from '../deliveries/index.js';
import { DeliveryMessages } from './delivery-message.js';

/**
 * What became of an expired lease:
 * - `sent`: the provider has the message; recorded as sent, nothing goes again.
 * - `requeued`: the provider has no record (or cannot tell, for email): back to queued, to be
 *   sent again (an email with the same Message-ID).
 * - `unresolved`: the provider's log could not be read; asked again after another lease.
 * - `failed`: it could not be settled for too long, or its campaign step is gone.
 * - `busy`: the lease is live, or another instance is settling it.
 */
export type Settlement = 'sent' | 'requeued' | 'unresolved' | 'failed' | 'busy';

/**
 * Settles deliveries whose claim (lease) expired while `sending`: a worker died, or a send
 * timed out. It asks the provider instead of guessing, and records the answer on the delivery.
 * Workers call it when a retried job finds its delivery so; the reconciler calls it for the
 * rest. Both go through `takeExpiredLease`, so one instance settles each lease.
 */
@Injectable()
export class LeaseResolver {
  private readonly logger = new Logger(LeaseResolver.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveriesRepository,
    private readonly campaigns: CampaignsService,
    private readonly messages: DeliveryMessages,
    private readonly email: EmailChannel,
    private readonly sms: SmsChannel,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {
    metrics.sources({ unresolved: () => this.deliveries.countUnresolved() });
  }

  async settle(d: DeliveryForSend): Promise<Settlement> {
    const { leaseMs, jobCheckMs, unresolvedGiveUpMs } = this.config.delivery;
    if (d.status !== 'sending') return 'busy';
    if (!(await this.deliveries.takeExpiredLease(d.id, d.attempts, leaseMs))) return 'busy';
    const now = this.clock.now();
    const log = { deliveryId: d.id, channel: d.channel, step: d.step, attempt: d.attempts };
    const campaign = this.campaigns.get(d.campaignId);
    if (!campaign?.steps.some((s) => s.key === d.stepKey)) {
      await this.deliveries.markFailed(d.id, 'campaign step no longer exists', d.attempts);
      return 'failed';
    }
    const since = d.claimedAt ?? new Date(now.getTime() - 2 * leaseMs);
    const built = await this.messages.build(d, campaign);
    let found: LookupResult;
    try {
      found =
        built.channel === 'email'
          ? await this.email.lookup(built.message, since)
          : await this.sms.lookup(built.message, since);
    } catch (err) {
      const why = err instanceof SendError ? err.message : 'lookup failed';
      if (now.getTime() - since.getTime() > unresolvedGiveUpMs) {
        await this.deliveries.markFailed(
          d.id,
          `outcome unknown: the provider log could not be read (${why}); not sent again, to avoid a duplicate`,
          d.attempts,
        );
        this.metrics.resolution(d.channel, 'gave-up');
        this.logger.error({ ...log, error: why }, 'gave up settling an unknown outcome');
        return 'failed';
      }
      await this.deliveries.noteUnresolved(
        d.id,
        d.attempts,
        `unresolved since ${since.toISOString()}: provider log unreachable (${why}); asked again every lease`,
      );
      this.metrics.resolution(d.channel, 'unresolved');
      this.logger.warn(
        { ...log, error: why },
        'unknown outcome not settled yet: provider log unreachable',
      );
      return 'unresolved';
    }
    if (found.found === true) {
      await this.deliveries.markSent(d.id, d.attempts, found.providerId, {
        resolution: 'lease expired; found in the provider log, not sent again',
        sentAt: found.sentAt,
      });
      this.metrics.resolution(d.channel, 'found');
      this.metrics.delivery(d.channel, 'sent');
      this.logger.log(log, 'unknown outcome settled: the provider had it');
      return 'sent';
    }
    const resolution =
      found.found === false
        ? 'lease expired; not in the provider log, sent again'
        : 'lease expired; outcome unknown, sent again with the same Message-ID';
    const checkAt = new Date(now.getTime() + jobCheckMs);
    if (!(await this.deliveries.requeue(d.id, d.attempts, resolution, checkAt))) return 'busy';
    this.metrics.resolution(d.channel, found.found === false ? 'absent' : 'resent');
    this.logger.log(
      log,
      found.found === false
        ? 'unknown outcome settled: not sent; sending again'
        : 'unknown outcome: resending with the same Message-ID',
    );
    return 'requeued';
  }
}
