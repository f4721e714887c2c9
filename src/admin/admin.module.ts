import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ClinicsModule } from '../clinics/index.js';
import { ConsentModule } from '../consent/index.js';
import { DataRightsModule } from '../data-rights/index.js';
import { DeliveryModule } from '../delivery/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { RenderingModule } from '../rendering/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { AdminCampaignsController } from './admin-campaigns.controller.js';
import { AdminCampaignsService } from './admin-campaigns.service.js';
import { AdminClinicsController } from './admin-clinics.controller.js';
import { AdminDeliveriesController } from './admin-deliveries.controller.js';
import { AdminDeliveriesService } from './admin-deliveries.service.js';
import { AdminEnrollmentsController } from './admin-enrollments.controller.js';
import { AdminSubscribersController } from './admin-subscribers.controller.js';
import { AdminSubscribersService } from './admin-subscribers.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';

@Module({
  imports: [
    CampaignsModule,
    ClinicsModule,
    ConsentModule,
    DataRightsModule,
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
    AdminClinicsController,
  ],
  providers: [
    AdminTokenGuard,
    AdminCampaignsService,
    AdminDeliveriesService,
    AdminSubscribersService,
  ],
})
export class AdminModule {}
