import { Controller, Get, Param, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../common/index.js';
import { CampaignDto, EmailPreviewDto, SmsPreviewDto } from './admin.dto.js';
import { AdminCampaignsService } from './admin-campaigns.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/** Campaigns as loaded from templates/, and previews of every message with sample data. */
@ApiTags('admin')
@ApiBearerAuth('admin')
@ApiErrors({ status: 401, message: 'Authorization: Bearer <ADMIN_TOKEN> is missing or wrong' }, 503)
@UseGuards(AdminTokenGuard)
@Controller('api/v1/admin/campaigns')
export class AdminCampaignsController {
  constructor(private readonly campaigns: AdminCampaignsService) {}

  @Get()
  @ApiOperation({ summary: 'List campaigns with their cadence and steps' })
  @ApiOkResponse({ type: [CampaignDto] })
  list() {
    return this.campaigns.list();
  }

  @Get(':id/steps/:step/preview')
  @ApiOperation({
    summary: 'A step rendered with sample data: email HTML or text, or SMS with its segment count',
  })
  @ApiParam({ name: 'id', description: 'campaign id', example: 'upper-back-relief' })
  @ApiParam({ name: 'step', description: 'step number from 1, or step key', example: 'welcome' })
  @ApiQuery({
    name: 'channel',
    enum: ['email', 'sms'],
    required: false,
    description: 'default email',
  })
  @ApiQuery({
    name: 'format',
    enum: ['html', 'text', 'json'],
    required: false,
    description: 'for email: the HTML (default), the text part, or both as JSON',
  })
  @ApiExtraModels(EmailPreviewDto, SmsPreviewDto)
  @ApiResponse({
    status: 200,
    description: 'Email as HTML or text; with format=json, or for SMS, JSON',
    content: {
      'text/html': { schema: { type: 'string' } },
      'text/plain': {
        schema: { type: 'string' },
        example: 'Subject: Welcome to Upper-back relief\n\nHi Sam, …\n',
      },
      'application/json': {
        schema: {
          oneOf: [{ $ref: getSchemaPath(EmailPreviewDto) }, { $ref: getSchemaPath(SmsPreviewDto) }],
        },
      },
    },
  })
  @ApiErrors(
    { status: 400, message: 'step: use 1-9 or one of welcome, day-1, day-2' },
    { status: 404, message: 'campaign "nope" not found' },
  )
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
