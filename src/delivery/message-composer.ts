import { Inject, Injectable } from '@nestjs/common';
import type { Campaign } from '../campaigns/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import type { Channel } from '../database/index.js';
import { campaignFacts, firstNameOf, joinedBy, type RenderContext } from '../rendering/index.js';
import { TokensService } from '../tokens/index.js';

export const LINK_TTL_SECONDS = 400 * 24 * 3600;
export const CONFIRM_TTL_SECONDS = 3 * 24 * 3600;

export interface Recipient {
  subscriberId: string;
  name: string | null;
  channel: Channel;
  /** The enrolment's source (`web-form`, `admin`, `cli`...), which the email footer tells. */
  source?: string | null;
}

/** Subject of an unsubscribe token: who, and which channel they stop. */
export const unsubscribeSubject = (subscriberId: string, channel: Channel) =>
  `${subscriberId}.${channel}`;

/** Builds the variables a message is rendered with, for one person. */
@Injectable()
export class MessageComposer {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokensService,
  ) {}

  unsubscribeUrl(to: Recipient): string {
    const token = this.tokens.issue(
      'unsubscribe',
      unsubscribeSubject(to.subscriberId, to.channel),
      LINK_TTL_SECONDS,
    );
    return `${this.config.publicUrl}/unsubscribe/${token}`;
  }

  context(
    campaign: Campaign,
    step: number,
    to: Recipient,
    extra: { confirmFor?: string; score?: number } = {},
  ): RenderContext {
    return {
      firstName: firstNameOf(to.name),
      campaign: campaignFacts(campaign),
      step: { number: step + 1, total: campaign.steps.length },
      // The double opt-in message goes before the person has joined.
      joined: joinedBy(to.source, Boolean(extra.confirmFor)),
      sender: {
        name: this.config.sender.name,
        isClinic: false,
        chiropractor: null,
        phone: null,
        bookingUrl: null,
        replyTo: this.config.mailReplyTo ?? null,
        address: this.config.sender.address,
      },
      links: {
        unsubscribe: this.unsubscribeUrl(to),
        preferences: `${this.config.publicUrl}/preferences/${this.tokens.issue('preferences', to.subscriberId, LINK_TTL_SECONDS)}`,
        confirm: extra.confirmFor
          ? `${this.config.publicUrl}/confirm/${this.tokens.issue('confirm', extra.confirmFor, CONFIRM_TTL_SECONDS)}`
          : null,
      },
      score: extra.score ?? null,
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
