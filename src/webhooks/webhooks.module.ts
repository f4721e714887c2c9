import { Module } from '@nestjs/common';
import { InboundController } from './inbound.controller.js';
import { InboundRepository } from './inbound.repository.js';
import { InboundService } from './inbound.service.js';
import { SmsReplies } from './sms-replies.js';
import { StatusController } from './status.controller.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';

/** Twilio webhooks: inbound replies (keywords, pain scores) and delivery status. */
@Module({
  controllers: [InboundController, StatusController],
  providers: [InboundService, InboundRepository, SmsReplies, TwilioSignatureGuard],
})
export class WebhooksModule {}
