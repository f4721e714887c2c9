import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
// Not delivery's index.js: it loads DeliveryModule, which imports enrollments (a load cycle).
// eslint-disable-next-line no-restricted-imports
import { DeliveryLogModule } from '../delivery/delivery-log.module.js';
import { SubscribersModule } from '../subscribers/index.js';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { EnrollmentsService } from './enrollments.service.js';
import { EnrollmentLifecycle } from './lifecycle.js';
import { OptOutService } from './opt-out.service.js';
import { SafetyService } from './safety.service.js';

@Module({
  imports: [CampaignsModule, DeliveryLogModule, SubscribersModule],
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
