import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import { CampaignsService } from '../campaigns/index.js';
import { EmailChannel, SendError, SmsChannel } from '../channels/index.js';
import { Clock } from '../common/clock.js';
import { maskAddress } from '../common/mask.js';
import { inSendingWindow, respectQuietHours } from '../enrollments/schedule.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { Renderer } from '../rendering/index.js';
import { DeliveriesRepository } from './deliveries.repository.js';
import type { JobName, JobPayloads } from './jobs.js';
import { MessageComposer } from './message-composer.js';

export type SendOutcome = 'sent' | 'skipped' | 'deferred' | 'gone' | 'already-done';

/** Handles one `send-delivery` job: reload, re-check, render, send, record. */
@Injectable()
export class SendProcessor {
  private readonly logger = new Logger(SendProcessor.name);

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly campaigns: CampaignsService,
    private readonly renderer: Renderer,
    private readonly composer: MessageComposer,
    private readonly email: EmailChannel,
    private readonly sms: SmsChannel,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  async process(
    job: Job<JobPayloads[JobName.SendDelivery]>,
    token: string | undefined,
    worker: Worker,
  ): Promise<SendOutcome> {
    const { deliveryId } = job.data;
    const d = await this.deliveries.claim(deliveryId);
    if (!d) return this.notClaimed(deliveryId);
    const address = (d.channel === 'email' ? d.email : d.phone)!;

    const campaign = this.campaigns.get(d.campaignId);
    if (!campaign || !campaign.steps[d.step]) {
      await this.deliveries.markFailed(
        d.id,
        `campaign step ${d.campaignId}#${d.step} no longer exists`,
      );
      throw new UnrecoverableError('campaign step missing');
    }
    const now = this.clock.now();
    const window = { channel: d.channel, timezone: d.timezone, quietHours: campaign.quietHours };
    if (!inSendingWindow(now, window)) {
      // The job waited past 21:00 local (a backlog, a retry): hold it until 08:00.
      await this.deliveries.release(d.id);
      await job.moveToDelayed(respectQuietHours(now, window).getTime(), token);
      throw new DelayedError();
    }

    const ctx = this.composer.context(campaign, d.step, {
      subscriberId: d.subscriberId,
      name: d.name,
      channel: d.channel,
    });
    const log = {
      deliveryId: d.id,
      jobId: job.id,
      channel: d.channel,
      step: d.step,
      to: maskAddress(address),
    };
    try {
      let providerId: string;
      if (d.channel === 'email') {
        const m = this.renderer.renderEmail(campaign.id, d.step, ctx);
        ({ providerId } = await this.email.send({
          to: address,
          subject: m.subject,
          html: m.html,
          text: m.text,
          replyTo: ctx.sender.replyTo ?? undefined,
          headers: this.composer.listUnsubscribeHeaders(ctx.links.unsubscribe, ctx.sender.replyTo),
          reference: d.id,
        }));
      } else {
        const m = this.renderer.renderSms(campaign.id, d.step, ctx);
        ({ providerId } = await this.sms.send({ to: address, body: m.body, reference: d.id }));
      }
      await this.deliveries.markSent(d.id, providerId);
      this.metrics.delivery(d.channel, 'sent');
      this.logger.log(log, 'sent');
      return 'sent';
    } catch (err) {
      const e =
        err instanceof SendError
          ? err
          : new SendError((err as Error).message ?? 'send failed', false);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (e.permanent || lastAttempt) {
        await this.deliveries.markFailed(d.id, e.message);
        this.metrics.delivery(d.channel, 'failed');
        this.logger.warn({ ...log, error: e.message, permanent: e.permanent }, 'send failed');
        throw new UnrecoverableError(e.message);
      }
      await this.deliveries.markRetrying(d.id, e.message);
      if (e.retryAfterMs) {
        await worker.rateLimit(e.retryAfterMs);
        throw new RateLimitError();
      }
      this.logger.warn(
        { ...log, error: e.message, attempt: job.attemptsMade + 1 },
        'send failed; will retry',
      );
      throw e;
    }
  }

  /** The rare path: the claim found nothing to send. Work out why, and record it. */
  private async notClaimed(deliveryId: string): Promise<SendOutcome> {
    const d = await this.deliveries.loadForSend(deliveryId);
    if (!d) return 'gone'; // withdrawn by a pause or STOP, or the enrolment was deleted
    if (d.status === 'sending') {
      // The last attempt died mid-send (worker crash). Sending again could duplicate the message.
      await this.deliveries.markFailed(
        d.id,
        'interrupted during send; not retried to avoid a duplicate',
      );
      this.metrics.delivery(d.channel, 'failed');
      return 'already-done';
    }
    if (d.status !== 'queued') return 'already-done';
    const address = d.channel === 'email' ? d.email : d.phone;
    await this.deliveries.markSkipped(
      d.id,
      address
        ? 'not sendable: opted out, suppressed or enrolment stopped'
        : 'no address for channel',
    );
    this.metrics.delivery(d.channel, 'skipped');
    return 'skipped';
  }
}
