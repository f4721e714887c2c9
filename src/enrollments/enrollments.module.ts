import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { WebhookOutboxModule } from '../webhook-outbox/index.js';
import { DeliveriesModule } from '../deliveries/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { EnrollmentsService } from './enrollments.service.js';
import { EnrollmentLifecycle } from './lifecycle.js';
import { OptOutService } from './opt-out.service.js';
import { SafetyService } from './safety.service.js';

@Module({
  imports: [CampaignsModule, DeliveriesModule, SubscribersModule, WebhookOutboxModule],
  providers: [
    EnrollmentsRepository,
    EnrollmentLifecycle,
    EnrollmentsService,
    OptOutService,
    SafetyService,
  ],
  exports: [
    EnrollmentsRepository,
    EnrollmentLifecycle,
    EnrollmentsService,
    OptOutService,
    SafetyService,
  ],
})
export class EnrollmentsModule {}
