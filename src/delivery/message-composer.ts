import { Inject, Injectable } from '@nestjs/common';
import type { Campaign } from '../campaigns/index.js';
import { CampaignsService } from '../campaigns/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { firstNameOf, type RenderContext } from '../rendering/index.js';
import { TokensService } from '../tokens/tokens.service.js';

const LINK_TTL_SECONDS = 400 * 24 * 3600;

/** Builds the variables a message is rendered with, for one person and step. */
@Injectable()
export class MessageComposer {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly campaigns: CampaignsService,
    private readonly tokens: TokensService,
  ) {}

  context(
    campaign: Campaign,
    step: number,
    person: { subscriberId: string; name: string | null },
  ): RenderContext {
    const token = (purpose: 'unsubscribe' | 'preferences') =>
      this.tokens.issue(purpose, person.subscriberId, LINK_TTL_SECONDS);
    return {
      firstName: firstNameOf(person.name),
      campaign: { name: campaign.name, days: this.campaigns.tipDays(campaign) },
      step: { number: step + 1, total: campaign.steps.length },
      sender: {
        name: this.config.sender.name,
        isClinic: false,
        chiropractor: null,
        phone: null,
        bookingUrl: null,
        replyTo: null,
        address: this.config.sender.address,
      },
      links: {
        unsubscribe: `${this.config.publicUrl}/unsubscribe/${token('unsubscribe')}`,
        preferences: `${this.config.publicUrl}/preferences/${token('preferences')}`,
      },
    };
  }
}
