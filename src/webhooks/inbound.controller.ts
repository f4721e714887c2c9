import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodPipe } from '../common/index.js';
import { MAX_INBOUND_LENGTH, inboundSmsSchema, type InboundSms } from './inbound.dto.js';
import { InboundService } from './inbound.service.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';

/** Twilio posts each SMS sent to our number here and sends back what we answer, as TwiML. */
@ApiTags('webhooks')
@Controller('webhooks/twilio')
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  @Post('inbound')
  @HttpCode(200)
  @UseGuards(TwilioSignatureGuard)
  @ApiOperation({
    summary: 'Twilio inbound SMS: STOP/START/HELP, 0-10 pain scores, warning signs',
  })
  @ApiHeader({ name: 'X-Twilio-Signature', required: true })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiProduces('text/xml')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['From', 'Body'],
      properties: {
        From: { type: 'string', example: '+14155550123' },
        Body: { type: 'string', maxLength: MAX_INBOUND_LENGTH, example: 'STOP' },
        MessageSid: { type: 'string', example: 'SM0123456789abcdef0123456789abcdef' },
      },
    },
  })
  @ApiResponse({ status: 200, description: 'TwiML <Response>, with the reply if there is one' })
  @ApiResponse({ status: 400, description: 'a field is missing or malformed' })
  @ApiResponse({ status: 403, description: 'bad or missing signature, or Twilio not configured' })
  async receive(
    @Body(new ZodPipe(inboundSmsSchema)) sms: InboundSms,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const twiml = await this.inbound.answer(sms);
    // Set here, not with @Header, which would also label a 400's JSON as XML.
    res.type('text/xml');
    return twiml;
  }
}
