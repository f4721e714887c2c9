import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import { invalid, notFound } from '../common/index.js';
import { campaignFacts, Renderer, sampleContext } from '../rendering/index.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** Campaigns as loaded from templates/, and previews of every message with sample data. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/campaigns')
export class AdminCampaignsController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly renderer: Renderer,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List campaigns with their cadence and steps' })
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

  @Get(':id/steps/:step/preview')
  @ApiOperation({
    summary: 'A step rendered with sample data: email HTML or text, or SMS with its segment count',
  })
  @ApiQuery({ name: 'channel', enum: ['email', 'sms'], required: false })
  @ApiQuery({ name: 'format', enum: ['html', 'text', 'json'], required: false })
  preview(
    @Param('id') id: string,
    @Param('step') stepArg: string,
    @Query('channel') channel: unknown,
    @Query('format') format: unknown,
    @Res() res: Response,
  ): void {
    const campaign = this.campaigns.get(id);
    if (!campaign) throw notFound(`campaign "${id}" not found`);
    const index = this.stepIndex(campaign, stepArg);
    if (channel !== undefined && channel !== 'email' && channel !== 'sms')
      throw invalid('channel', 'must be "email" or "sms"');
    if (format !== undefined && format !== 'html' && format !== 'text' && format !== 'json') {
      throw invalid('format', 'must be "html", "text" or "json"');
    }
    const ctx = sampleContext({
      campaign: campaignFacts(campaign),
      step: { number: index + 1, total: campaign.steps.length },
    });
    if (channel === 'sms') {
      res.json(this.renderer.renderSms(campaign.id, index, ctx));
      return;
    }
    const email = this.renderer.renderEmail(campaign.id, index, ctx);
    if (format === 'json') res.json(email);
    else if (format === 'text')
      res.type('text/plain').send(`Subject: ${email.subject}\n\n${email.text}\n`);
    else res.type('html').send(email.html);
  }

  private stepIndex(campaign: Campaign, arg: string): number {
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
}
