import { Injectable } from '@nestjs/common';
import { PAIN_SCORES, RATING_SCALE, type Campaign, type CheckIn } from '../campaigns/index.js';
import type { Channel } from '../database/index.js';
import {
  campaignFacts,
  firstNameOf,
  joinedBy,
  type CheckInLinks,
  type RenderContext,
} from '../rendering/index.js';
import { LinksService } from './links.service.js';
import type { SenderIdentity } from './sender-resolver.js';

export interface Recipient {
  subscriberId: string;
  name: string | null;
  channel: Channel;
  /** The enrolment's source (`web-form`, `admin`, `cli`...), which the email footer tells. */
  source?: string | null;
}

/** Builds the variables a message is rendered with, for one person and one sender. */
@Injectable()
export class MessageComposer {
  constructor(private readonly links: LinksService) {}

  /** `sender` comes from SenderResolver: the clinic the person came through, or the service. */
  context(
    campaign: Campaign,
    step: number,
    to: Recipient,
    sender: SenderIdentity,
    extra: {
      confirmFor?: string;
      score?: number;
      checkIn?: { deliveryId: string; asks: CheckIn };
    } = {},
  ): RenderContext {
    return {
      firstName: firstNameOf(to.name),
      campaign: campaignFacts(campaign),
      step: { number: step + 1, total: campaign.steps.length },
      // The double opt-in message goes before the person has joined.
      joined: joinedBy(to.source, Boolean(extra.confirmFor)),
      sender: {
        name: sender.name,
        isClinic: sender.isClinic,
        chiropractor: sender.chiropractor,
        phone: sender.phone,
        bookingUrl: sender.bookingUrl,
        replyTo: sender.replyTo,
        address: sender.address,
      },
      links: {
        unsubscribe: this.links.unsubscribeUrl({
          subscriberId: to.subscriberId,
          channel: to.channel,
          clinicId: sender.clinicId,
        }),
        preferences: this.links.preferencesUrl(to.subscriberId),
        confirm: extra.confirmFor ? this.links.confirmUrl(extra.confirmFor) : null,
        // Not in texts: there is no room, and a text reply does the same.
        warningSign:
          to.channel === 'email' && !extra.confirmFor
            ? this.links.warningSignUrl(to.subscriberId)
            : null,
      },
      score: extra.score ?? null,
      checkIn: extra.checkIn
        ? this.checkInLinks(extra.checkIn.deliveryId, extra.checkIn.asks)
        : null,
    };
  }

  /** One sealed link per answer, each naming the check-in (the delivery) it answers. */
  private checkInLinks(deliveryId: string, asks: CheckIn): CheckInLinks {
    const url = (kind: 'nprs' | 'groc', value: number | null) =>
      this.links.outcomeUrl({ kind, deliveryId, value });
    return {
      asksPain: asks.pain,
      asksRating: asks.rating,
      pain: asks.pain ? PAIN_SCORES.map((score) => ({ score, url: url('nprs', score) })) : [],
      rating: asks.rating
        ? RATING_SCALE.map((r) => ({ label: r.label, url: url('groc', r.value) }))
        : [],
      ratingPage: asks.rating ? url('groc', null) : null,
    };
  }

  /** RFC 8058 one-click unsubscribe headers for an email. */
  listUnsubscribeHeaders(unsubscribeUrl: string, replyTo: string | null): Record<string, string> {
    const mailto = replyTo ? `, <mailto:${replyTo}?subject=unsubscribe>` : '';
    return {
      'List-Unsubscribe': `<${unsubscribeUrl}>${mailto}`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
  }
}
