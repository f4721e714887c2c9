import { Injectable } from '@nestjs/common';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import { invalid, notFound } from '../common/index.js';
import { campaignFacts, Renderer, sampleContext } from '../rendering/index.js';

/** A preview as the route answers it: JSON, plain text, or the email's HTML. */
export type Preview =
  { type: 'json'; body: unknown } | { type: 'text'; body: string } | { type: 'html'; body: string };

/** Campaigns as loaded from templates/, and every message rendered with sample data. */
@Injectable()
export class AdminCampaignsService {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly renderer: Renderer,
  ) {}

  list() {
    return this.campaigns.list().map((c) => ({
      id: c.id,
      name: c.name,
      audience: c.audience,
      cadence: c.cadence.type === 'daily' ? 'daily' : `every ${c.cadence.everyMs / 1000}s`,
      quietHours: c.quietHours,
      steps: c.steps.map((s, i) => ({ number: i + 1, key: s.key, title: s.title })),
    }));
  }

  /**
   * One step (by number from 1, or by key) rendered with sample data: the SMS with its segment
   * count, or the email as HTML (default), text or JSON.
   */
  preview(id: string, stepArg: string, channel: unknown, format: unknown): Preview {
    const campaign = this.campaigns.get(id);
    if (!campaign) throw notFound(`campaign "${id}" not found`);
    const index = stepIndex(campaign, stepArg);
    if (channel !== undefined && channel !== 'email' && channel !== 'sms') {
      throw invalid('channel', 'must be "email" or "sms"');
    }
    if (format !== undefined && format !== 'html' && format !== 'text' && format !== 'json') {
      throw invalid('format', 'must be "html", "text" or "json"');
    }
    const ctx = sampleContext({
      campaign: campaignFacts(campaign),
      step: { number: index + 1, total: campaign.steps.length },
    });
    if (channel === 'sms') {
      return { type: 'json', body: this.renderer.renderSms(campaign.id, index, ctx) };
    }
    const email = this.renderer.renderEmail(campaign.id, index, ctx);
    if (format === 'json') return { type: 'json', body: email };
    if (format === 'text') {
      return { type: 'text', body: `Subject: ${email.subject}\n\n${email.text}\n` };
    }
    return { type: 'html', body: email.html };
  }
}

function stepIndex(campaign: Campaign, arg: string): number {
  const index = /^\d{1,3}$/.test(arg)
    ? Number(arg) - 1
    : campaign.steps.findIndex((s) => s.key === arg);
  if (index < 0 || index >= campaign.steps.length) {
    throw invalid(
      'step',
      `use 1-${campaign.steps.length} or one of ${campaign.steps.map((s) => s.key).join(', ')}`,
    );
  }
  return index;
}
