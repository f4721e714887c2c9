import { Inject, Injectable, Logger } from '@nestjs/common';
import { DelayedError, RateLimitError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import { CampaignsService } from '../campaigns/index.js';
import { EmailChannel, SendError, SmsChannel } from '../channels/index.js';
import { Clock, maskAddress } from '../common/index.js';
import { DB, type Db } from '../database/index.js';
import { inSendingWindow, respectQuietHours } from '../enrollments/index.js';
import { MessageComposer, SenderResolver } from '../links/index.js';
import { Renderer } from '../rendering/index.js';
import { ChannelFaults } from './channel-faults.js';
import { DeliveryMessages } from './delivery-message.js';
import { queueForChannel, type JobName, type JobPayloads } from './jobs.js';

/**
 * SignupService adds the job inside its transaction, so a worker can pick it up before the
 * enrolment is committed: the job looks again after NOT_VISIBLE_RETRY_MS, without spending an
 * attempt, until NOT_VISIBLE_GIVE_UP_MS after it was added (a signup whose commit failed).
 */
const NOT_VISIBLE_RETRY_MS = 250;
const NOT_VISIBLE_GIVE_UP_MS = 60_000;

/** Sends the double opt-in message of a pending enrolment. */
@Injectable()
export class ConfirmationProcessor {
  private readonly logger = new Logger(ConfirmationProcessor.name);

  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly campaigns: CampaignsService,
    private readonly renderer: Renderer,
    private readonly composer: MessageComposer,
    private readonly senders: SenderResolver,
    private readonly email: EmailChannel,
    private readonly sms: SmsChannel,
    private readonly faults: ChannelFaults,
    private readonly messages: DeliveryMessages,
    private readonly clock: Clock,
  ) {}

  async process(
    job: Job<JobPayloads[JobName.SendConfirmation]>,
    worker?: Worker,
  ): Promise<'sent' | 'not-pending' | 'opted-out'> {
    const row = await this.db
      .selectFrom('enrollments as e')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .select([
        'e.id',
        'e.status',
        'e.channel',
        'e.campaign_id',
        'e.timezone',
        'e.clinic_id',
        's.id as subscriberId',
        's.email',
        's.phone',
        's.name',
      ])
      .where('e.id', '=', job.data.enrollmentId)
      .executeTakeFirst();
    if (!row && job.token && Date.now() - job.timestamp < NOT_VISIBLE_GIVE_UP_MS) {
      await job.moveToDelayed(Date.now() + NOT_VISIBLE_RETRY_MS, job.token);
      throw new DelayedError('enrolment not visible yet');
    }
    if (!row || row.status !== 'pending') return 'not-pending';
    const campaign = this.campaigns.get(row.campaign_id);
    const address = row.channel === 'email' ? row.email : row.phone;
    if (!campaign || !address) throw new UnrecoverableError('campaign or address missing');
    // A number that texted STOP gets no text from us, not even this one, until it texts START
    // (which also confirms the signup). An email signup is the person opting back in.
    if (row.channel === 'sms') {
      const suppressed = await this.db
        .selectFrom('suppressions')
        .select('address')
        .where('address', '=', address)
        .executeTakeFirst();
      if (suppressed) {
        this.logger.log(
          { enrollmentId: row.id, to: maskAddress(address) },
          'confirmation not texted: number opted out',
        );
        return 'opted-out';
      }
    }
    // Quiet hours hold the confirmation text too: a 3 a.m. signup, perhaps made by someone
    // else, does not wake the owner of the number. It goes at 08:00 their time.
    const window = {
      channel: row.channel,
      timezone: row.timezone,
      quietHours: campaign.quietHours,
    };
    const now = this.clock.now();
    if (!inSendingWindow(now, window) && job.token) {
      const waitMs = respectQuietHours(now, window).getTime() - now.getTime();
      this.logger.log({ enrollmentId: row.id, waitMs }, 'confirmation text held for quiet hours');
      await job.moveToDelayed(Date.now() + waitMs, job.token);
      throw new DelayedError('quiet hours');
    }
    const to = { subscriberId: row.subscriberId, name: row.name, channel: row.channel };
    // A clinic's pending enrolment is confirmed once, in a message under the clinic's name.
    const sender = await this.senders.resolve(row.clinic_id);
    const ctx = this.composer.context(campaign, 0, to, sender, { confirmFor: row.id });
    try {
      if (row.channel === 'email') {
        const m = this.renderer.renderSystemEmail('confirm', ctx);
        await this.email.send({
          to: address,
          // A public signup's confirmation goes as it always has: MAIL_FROM, no Reply-To.
          ...(sender.isClinic
            ? { fromName: sender.name, replyTo: sender.replyTo ?? undefined }
            : {}),
          subject: m.subject,
          html: m.html,
          text: m.text,
          reference: `confirm-${row.id}`,
          // The same for every try of this job: a retry after a lost answer is collapsed.
          messageId: this.messages.messageId(`confirm-${job.id ?? row.id}`),
        });
      } else {
        const m = this.renderer.renderSystemSms('confirm', ctx, { footer: false });
        await this.sms.send({
          to: address,
          ...(sender.smsFrom ? { from: sender.smsFrom } : {}),
          body: m.body,
          reference: `confirm-${row.id}`,
        });
      }
    } catch (err) {
      const e = err instanceof SendError ? err : undefined;
      // Not this person's fault: pause the channel (bad setup) or back the queue off (an
      // outage, a rate limit), and keep the confirmation without spending an attempt.
      if (e?.kind === 'config' && worker) {
        await this.faults.trip(queueForChannel(row.channel), e);
        throw new RateLimitError();
      }
      if ((e?.kind === 'outage' || e?.kind === 'rate-limit') && worker) {
        await worker.rateLimit(e.retryAfterMs ?? 2_000);
        throw new RateLimitError();
      }
      this.logger.warn(
        { enrollmentId: row.id, to: maskAddress(address), error: (err as Error).message },
        'confirmation not sent',
      );
      if (e?.permanent) throw new UnrecoverableError(e.message);
      throw err;
    }
    this.logger.log(
      { enrollmentId: row.id, channel: row.channel, to: maskAddress(address) },
      'confirmation sent',
    );
    return 'sent';
  }
}
