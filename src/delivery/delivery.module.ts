import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ChannelsModule } from '../channels/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
// Not health's index.js: it loads HealthModule, which imports delivery (a load cycle).
// eslint-disable-next-line no-restricted-imports
import { HealthRegistryModule } from '../health/health-registry.module.js';
import { MetricsModule } from '../metrics/index.js';
import { RenderingModule } from '../rendering/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { TokensModule } from '../tokens/index.js';
import { ChannelFaults } from './channel-faults.js';
import { ConfirmationProcessor } from './confirmation.processor.js';
import { DeliveryLogModule } from './delivery-log.module.js';
import { DeliveryMessages } from './delivery-message.js';
import { LeaseResolver } from './lease-resolver.js';
import { MessageComposer } from './message-composer.js';
import { QueuesService } from './queues.service.js';
import { SendProcessor } from './send.processor.js';

/** Queues, processors and the delivery log, in every role; WorkersModule runs the processors. */
@Module({
  imports: [
    CampaignsModule,
    ChannelsModule,
    DeliveryLogModule,
    EnrollmentsModule,
    HealthRegistryModule,
    MetricsModule,
    RenderingModule,
    SubscribersModule,
    TokensModule,
  ],
  providers: [
    QueuesService,
    MessageComposer,
    DeliveryMessages,
    LeaseResolver,
    ChannelFaults,
    SendProcessor,
    ConfirmationProcessor,
  ],
  exports: [
    DeliveryLogModule,
    QueuesService,
    MessageComposer,
    LeaseResolver,
    ChannelFaults,
    SendProcessor,
    ConfirmationProcessor,
  ],
})
export class DeliveryModule {}
