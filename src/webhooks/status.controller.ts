import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiConsumes, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodPipe } from '../common/index.js';
import { statusCallbackSchema, type StatusCallback } from './status.dto.js';
import { StatusService } from './status.service.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';

/** Twilio reports what became of each SMS we sent: delivered, or not. */
@ApiTags('webhooks')
@Controller('webhooks/twilio')
export class StatusController {
  constructor(private readonly statuses: StatusService) {}

  @Post('status')
  @HttpCode(204)
  @UseGuards(TwilioSignatureGuard)
  @ApiOperation({ summary: 'Twilio message status callback: marks deliveries delivered or failed' })
  @ApiHeader({ name: 'X-Twilio-Signature', required: true })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiResponse({ status: 204, description: 'recorded (or not ours, or not a final status)' })
  @ApiResponse({ status: 400, description: 'a field is missing or malformed' })
  @ApiResponse({ status: 403, description: 'bad or missing signature, or Twilio not configured' })
  status(@Body(new ZodPipe(statusCallbackSchema)) body: StatusCallback): Promise<void> {
    return this.statuses.record(body);
  }
}
