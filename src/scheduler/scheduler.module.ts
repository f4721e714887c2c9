import { Module, type DynamicModule } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ClinicDirectoryModule } from '../clinics/index.js';
import { RetentionModule } from '../data-rights/index.js';
import { DeliveryModule } from '../delivery/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { MetricsModule } from '../metrics/index.js';
import { TriageModule } from '../outcomes/index.js';
import { SchedulerLoop } from './scheduler.loop.js';
import { SchedulerService } from './scheduler.service.js';
import { Reconciler } from './reconciler.service.js';

@Module({})
export class SchedulerModule {
  static forRoot(opts: { loop: boolean }): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [
        CampaignsModule,
        ClinicDirectoryModule,
        DeliveryModule,
        EnrollmentsModule,
        MetricsModule,
        RetentionModule,
        TriageModule,
      ],
      providers: [SchedulerService, Reconciler, ...(opts.loop ? [SchedulerLoop] : [])],
    };
  }
}
