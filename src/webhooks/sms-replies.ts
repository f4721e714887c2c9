import { Injectable } from '@nestjs/common';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import type { Subscriber } from '../database/index.js';
import { EnrollmentsRepository } from '../enrollments/index.js';
import { MessageComposer, SenderResolver } from '../links/index.js';
import { Renderer } from '../rendering/index.js';
import type { InboundKind } from './inbound-intent.js';

const TEMPLATE: Record<InboundKind, string> = {
  stop: 'sms-stop',
  start: 'sms-start',
  help: 'sms-help',
  pain: 'sms-pain-thanks',
  'red-flag': 'sms-red-flag',
  'see-physician': 'sms-see-physician',
  unknown: 'sms-unknown',
};

/**
 * Stands in for the subscriber id when the sender is unknown. The context still issues
 * unsubscribe/preferences links for it; keyword replies render without them (no footer).
 */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Renders the text answered to an inbound SMS, from templates/system. */
@Injectable()
export class SmsReplies {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly enrollments: EnrollmentsRepository,
    private readonly composer: MessageComposer,
    private readonly senders: SenderResolver,
    private readonly renderer: Renderer,
  ) {}

  async render(
    kind: InboundKind,
    subscriber: Subscriber | undefined,
    score: number | null = null,
  ): Promise<string> {
    const campaign = await this.campaignFor(subscriber);
    // Inbound texts carry no clinic yet: the answer comes from the service.
    const sender = await this.senders.resolve(null);
    const ctx = this.composer.context(
      campaign,
      0,
      { subscriberId: subscriber?.id ?? NIL_UUID, name: subscriber?.name ?? null, channel: 'sms' },
      sender,
      score === null ? {} : { score },
    );
    return this.renderer.renderSystemSms(TEMPLATE[kind], ctx, { footer: false }).body;
  }

  /** The programme of their latest SMS enrolment; for strangers, the first patient campaign. */
  private async campaignFor(subscriber: Subscriber | undefined): Promise<Campaign> {
    if (subscriber) {
      const latest = (await this.enrollments.forSubscriber(subscriber.id)).find(
        (e) => e.channel === 'sms',
      );
      const campaign = latest && this.campaigns.get(latest.campaign_id);
      if (campaign) return campaign;
    }
    const all = this.campaigns.list();
    const campaign = all.find((c) => c.audience !== 'demo') ?? all[0];
    if (!campaign) throw new Error('no campaigns loaded from templates/campaigns');
    return campaign;
  }
}
