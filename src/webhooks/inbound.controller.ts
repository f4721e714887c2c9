import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors, ApiZodBody, ZodPipe } from '../common/index.js';
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
  @ApiHeader({
    name: 'X-Twilio-Signature',
    required: true,
    description: 'Twilio’s HMAC of PUBLIC_URL + path and the form fields',
  })
  @ApiZodBody(inboundSmsSchema, {
    contentTypes: ['application/x-www-form-urlencoded'],
    description: `Twilio's form; other fields are ignored. Body: at most ${MAX_INBOUND_LENGTH} characters.`,
    examples: {
      stop: {
        summary: 'STOP',
        value: {
          From: '+14155550123',
          Body: 'STOP',
          MessageSid: 'SM0123456789abcdef0123456789abcdef',
        },
      },
    },
  })
  @ApiResponse({
    status: 200,
    description: 'TwiML <Response>, with the reply if there is one',
    content: {
      'text/xml': {
        schema: { type: 'string' },
        example:
          '<?xml version="1.0" encoding="UTF-8"?><Response><Message>You will get no more texts from us. Reply START to join again.</Message></Response>',
      },
    },
  })
  @ApiErrors(
    { status: 400, message: 'Body: is required: the text of the message' },
    {
      status: 403,
      description: 'Bad or missing signature, or Twilio not configured',
      message: 'X-Twilio-Signature: does not match this request',
    },
    503,
  )
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
