import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ConsentModule } from '../consent/index.js';
import { DeliveryModule } from '../delivery/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { RenderingModule } from '../rendering/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { AdminEnrollmentsController } from './admin-enrollments.controller.js';
import { AdminCampaignsController } from './admin-campaigns.controller.js';
import { AdminDeliveriesController } from './admin-deliveries.controller.js';
import { AdminSubscribersController } from './admin-subscribers.controller.js';
import { AdminTokenGuard } from './admin-token.guard.js';

@Module({
  imports: [
    CampaignsModule,
    ConsentModule,
    DeliveryModule,
    EnrollmentsModule,
    RenderingModule,
    SubscribersModule,
  ],
  controllers: [
    AdminEnrollmentsController,
    AdminSubscribersController,
    AdminCampaignsController,
    AdminDeliveriesController,
  ],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
