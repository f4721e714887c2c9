import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminCampaignsService } from './admin-campaigns.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** Campaigns as loaded from templates/, and previews of every message with sample data. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/campaigns')
export class AdminCampaignsController {
  constructor(private readonly campaigns: AdminCampaignsService) {}

  @Get()
  @ApiOperation({ summary: 'List campaigns with their cadence and steps' })
  list() {
    return this.campaigns.list();
  }

  @Get(':id/steps/:step/preview')
  @ApiOperation({
    summary: 'A step rendered with sample data: email HTML or text, or SMS with its segment count',
  })
  @ApiQuery({ name: 'channel', enum: ['email', 'sms'], required: false })
  @ApiQuery({ name: 'format', enum: ['html', 'text', 'json'], required: false })
  preview(
    @Param('id') id: string,
    @Param('step') step: string,
    @Query('channel') channel: unknown,
    @Query('format') format: unknown,
    @Res() res: Response,
  ): void {
    const preview = this.campaigns.preview(id, step, channel, format);
    if (preview.type === 'json') res.json(preview.body);
    else if (preview.type === 'text') res.type('text/plain').send(preview.body);
    else res.type('html').send(preview.body);
  }
}
