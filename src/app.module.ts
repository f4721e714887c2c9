import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin/index.js';
import { CampaignsModule } from './campaigns/index.js';
import { WebhookSenderModule } from './clinic-webhooks/index.js';
import { ChannelsModule } from './channels/index.js';
import { ClinicDirectoryModule, ClinicsModule, ImportsModule } from './clinics/index.js';
import { CommonModule } from './common/index.js';
import { ConsentModule } from './consent/index.js';
import {
  ConfigModule,
  runsApi,
  runsScheduler,
  runsWorker,
  type AppConfig,
} from './config/index.js';
import { DashboardModule } from './dashboard/index.js';
import { DatabaseModule } from './database/index.js';
import { DeliveryModule, WorkersModule } from './delivery/index.js';
import { EnrollmentsModule } from './enrollments/index.js';
import { HealthModule } from './health/index.js';
import { MetricsModule } from './metrics/index.js';
import { OutcomesModule } from './outcomes/index.js';
import { RenderingModule } from './rendering/index.js';
import { SchedulerModule } from './scheduler/index.js';
import { SubscribersModule } from './subscribers/index.js';
import { SignupModule, SignupPagesModule } from './signup/index.js';
import { TokensModule } from './tokens/index.js';
import { WebhooksModule } from './webhooks/index.js';
import { loggerOptions } from './logging.js';

/**
 * The whole service. ROLE picks what this process runs: the HTTP API, the BullMQ workers,
 * the scheduler loop, or all three. Health and metrics answer in every role.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(config)),
        CommonModule,
        DatabaseModule,
        TokensModule,
        CampaignsModule,
        RenderingModule,
        SubscribersModule,
        ConsentModule,
        ChannelsModule,
        MetricsModule,
        DeliveryModule,
        // Every role: workers send clinic patients' messages under the clinic's name.
        ClinicDirectoryModule,
        ...(runsWorker(config.role) ? [WorkersModule, WebhookSenderModule] : []),
        EnrollmentsModule,
        SchedulerModule.forRoot({ loop: runsScheduler(config.role) }),
        SignupModule,
        ...(runsApi(config.role) ? [SignupPagesModule] : []),
        HealthModule,
        ...(runsApi(config.role)
          ? [ClinicsModule, AdminModule, WebhooksModule, DashboardModule, OutcomesModule]
          : []),
        // CSV imports: routes where the API runs, the imports queue's worker where workers do.
        ...(runsApi(config.role) || runsWorker(config.role)
          ? [ImportsModule.forRoot({ api: runsApi(config.role), worker: runsWorker(config.role) })]
          : []),
      ],
    };
  }
}
