import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiZodBody, ZodPipe } from '../common/index.js';
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
  @ApiHeader({
    name: 'X-Twilio-Signature',
    required: true,
    description: 'Twilio’s HMAC of PUBLIC_URL + path and the form fields',
  })
  @ApiZodBody(statusCallbackSchema, {
    contentTypes: ['application/x-www-form-urlencoded'],
    description: "Twilio's status callback form; other fields are ignored",
    examples: {
      delivered: {
        summary: 'Delivered',
        value: { MessageSid: 'SM0123456789abcdef0123456789abcdef', MessageStatus: 'delivered' },
      },
    },
  })
  @ApiNoContentResponse({ description: 'Recorded (or not ours, or not a final status)' })
  @ApiErrors(
    { status: 400, message: 'MessageStatus: is not a Twilio message status' },
    {
      status: 403,
      description: 'Bad or missing signature, or Twilio not configured',
      message: 'X-Twilio-Signature: does not match this request',
    },
    503,
  )
  status(@Body(new ZodPipe(statusCallbackSchema)) body: StatusCallback): Promise<void> {
    return this.statuses.record(body);
  }
}
