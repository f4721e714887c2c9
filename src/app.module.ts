import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AdminModule } from './admin/admin.module.js';
import { CampaignsModule } from './campaigns/index.js';
import { ChannelsModule } from './channels/index.js';
import { CommonModule } from './common/common.module.js';
import {
  ConfigModule,
  runsApi,
  runsScheduler,
  runsWorker,
  type AppConfig,
} from './config/index.js';
import { DatabaseModule } from './database/index.js';
import { DeliveryModule } from './delivery/index.js';
import { EnrollmentsModule } from './enrollments/index.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RenderingModule } from './rendering/index.js';
import { SchedulerModule } from './scheduler/index.js';
import { SubscribersModule } from './subscribers/index.js';
import { SignupModule } from './signup/index.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
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
        CampaignsModule,
        RenderingModule,
        SubscribersModule,
        ChannelsModule,
        MetricsModule,
        DeliveryModule.forRoot({ workers: runsWorker(config.role) }),
        EnrollmentsModule,
        SchedulerModule.forRoot({ loop: runsScheduler(config.role) }),
        SignupModule.forRoot({ http: runsApi(config.role) }),
        HealthModule,
        ...(runsApi(config.role) ? [AdminModule, WebhooksModule] : []),
      ],
    };
  }
}
