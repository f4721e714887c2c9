import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { DeliveryModule } from '../delivery/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { LinksModule } from '../links/index.js';
import { RenderingModule } from '../rendering/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { InboundController } from './inbound.controller.js';
import { InboundRepository } from './inbound.repository.js';
import { InboundService } from './inbound.service.js';
import { SmsReplies } from './sms-replies.js';
import { StatusController } from './status.controller.js';
import { StatusService } from './status.service.js';
import { TwilioSignatureGuard } from './twilio-signature.guard.js';
import { OutcomesModule, TriageModule } from '../outcomes/index.js';

/** Twilio webhooks: inbound replies (keywords, pain scores) and delivery status. */
@Module({
  imports: [
    CampaignsModule,
    DeliveryModule,
    EnrollmentsModule,
    LinksModule,
    RenderingModule,
    SubscribersModule,
    TriageModule,
    OutcomesModule,
  ],
  controllers: [InboundController, StatusController],
  providers: [InboundService, InboundRepository, SmsReplies, StatusService, TwilioSignatureGuard],
})
export class WebhooksModule {}
