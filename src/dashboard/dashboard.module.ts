import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ClinicWebhooksModule } from '../clinic-webhooks/index.js';
import { ClinicsModule } from '../clinics/index.js';
import { DataRightsModule } from '../data-rights/index.js';
import { DeliveryModule } from '../delivery/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { OutcomesModule, TriageModule } from '../outcomes/index.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardWebhooksController } from './dashboard-webhooks.controller.js';
import { DashboardImports } from './dashboard-imports.js';
import { DashboardPages } from './dashboard-pages.js';
import { DashboardErrorFilter } from './dashboard.filter.js';
import { DashboardService } from './dashboard.service.js';
import { SignInController } from './sign-in.controller.js';

/**
 * The clinic's dashboard (API role): staff sign-in and the pages. It sits above the modules
 * it shows (clinics, outcomes, imports), so none of them depends on it.
 */
@Module({
  imports: [
    CampaignsModule,
    ClinicWebhooksModule,
    ClinicsModule,
    DataRightsModule,
    DeliveryModule,
    EnrollmentsModule,
    OutcomesModule,
    TriageModule,
  ],
  controllers: [SignInController, DashboardController, DashboardWebhooksController],
  providers: [DashboardPages, DashboardService, DashboardImports, DashboardErrorFilter],
})
export class DashboardModule {}
