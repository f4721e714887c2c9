import { Module } from '@nestjs/common';
import { AdminEnrollmentsController } from './admin-enrollments.controller.js';
import { AdminCampaignsController } from './admin-campaigns.controller.js';
import { AdminDeliveriesController } from './admin-deliveries.controller.js';
import { AdminSubscribersController } from './admin-subscribers.controller.js';
import { AdminTokenGuard } from './admin-token.guard.js';

@Module({
  controllers: [
    AdminEnrollmentsController,
    AdminSubscribersController,
    AdminCampaignsController,
    AdminDeliveriesController,
  ],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
