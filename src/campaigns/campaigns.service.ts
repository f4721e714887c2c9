import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import { loadCampaigns } from './campaign-loader.js';
import type { Campaign } from './campaign.types.js';

/** The campaigns read from TEMPLATES_DIR at start-up. */
@Injectable()
export class CampaignsService {
  private readonly byId: Map<string, Campaign>;

  constructor(@Inject(CONFIG) config: AppConfig) {
    this.byId = new Map(loadCampaigns(config.templatesDir).map((c) => [c.id, c]));
  }

  get(id: string): Campaign | undefined {
    return this.byId.get(id);
  }

  list(): Campaign[] {
    return [...this.byId.values()];
  }

  /** Number of tip days: the steps that are neither the welcome nor the wrap-up. */
  tipDays(campaign: Campaign): number {
    return campaign.steps.filter((s) => s.key !== 'welcome' && s.key !== 'wrap-up').length;
  }
}
