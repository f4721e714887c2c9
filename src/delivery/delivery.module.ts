import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ChannelsModule } from '../channels/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { HealthRegistryModule } from '../common/index.js';
import { LinksModule } from '../links/index.js';
import { MetricsModule } from '../metrics/index.js';
import { RenderingModule } from '../rendering/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { ChannelFaults } from './channel-faults.js';
import { ConfirmationProcessor } from './confirmation.processor.js';
import { DeliveriesModule } from '../deliveries/index.js';
import { DeliveryMessages } from './delivery-message.js';
import { LeaseResolver } from './lease-resolver.js';
import { QueuesService } from './queues.service.js';
import { SendProcessor } from './send.processor.js';

/** Queues, processors and the delivery log, in every role; WorkersModule runs the processors. */
@Module({
  imports: [
    CampaignsModule,
    ChannelsModule,
    DeliveriesModule,
    EnrollmentsModule,
    HealthRegistryModule,
    LinksModule,
    MetricsModule,
    RenderingModule,
    SubscribersModule,
  ],
  providers: [
    QueuesService,
    DeliveryMessages,
    LeaseResolver,
    ChannelFaults,
    SendProcessor,
    ConfirmationProcessor,
  ],
  exports: [
    DeliveriesModule,
    QueuesService,
    LeaseResolver,
    ChannelFaults,
    SendProcessor,
    ConfirmationProcessor,
  ],
})
export class DeliveryModule {}
