import { Injectable } from '@nestjs/common';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import type { Enrollment, Subscriber } from '../database/index.js';
import { EnrollmentsRepository, LIVE_STATUSES } from '../enrollments/index.js';
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
    const enrolments = subscriber ? await this.enrollments.forSubscriber(subscriber.id) : [];
    const campaign = this.campaignFor(enrolments);
    const sender = await this.senders.resolve(clinicOf(enrolments));
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
  private campaignFor(enrolments: Enrollment[]): Campaign {
    const latest = enrolments.find((e) => e.channel === 'sms');
    const theirs = latest && this.campaigns.get(latest.campaign_id);
    if (theirs) return theirs;
    const all = this.campaigns.list();
    const campaign = all.find((c) => c.audience !== 'demo') ?? all[0];
    if (!campaign) throw new Error('no campaigns loaded from templates/campaigns');
    return campaign;
  }
}

/**
 * Whose name answers a text: the one clinic behind this number's text programmes (the live
 * ones, or after a STOP all of them), or null for the service. A number in the programmes of
 * several clinics, or of a clinic and the public one, gets the service's name and nothing of
 * any clinic: whoever holds the phone is not told which clinics its owner sees.
 */
export function clinicOf(
  enrolments: Pick<Enrollment, 'channel' | 'status' | 'clinic_id'>[],
): string | null {
  const texts = enrolments.filter((e) => e.channel === 'sms');
  const live = texts.filter((e) => (LIVE_STATUSES as readonly string[]).includes(e.status));
  const clinics = new Set((live.length > 0 ? live : texts).map((e) => e.clinic_id));
  return clinics.size === 1 ? ([...clinics][0] ?? null) : null;
}
