import { Module, type DynamicModule } from '@nestjs/common';
import { DeliveriesRepository } from './deliveries.repository.js';
import { MessageComposer } from './message-composer.js';
import { QueuesService } from './queues.service.js';
import { ConfirmationProcessor } from './confirmation.processor.js';
import { SendProcessor } from './send.processor.js';
import { WorkersService } from './workers.service.js';
import { ChannelFaults } from './channel-faults.js';
import { DeliveryMessages } from './delivery-message.js';
import { LeaseResolver } from './lease-resolver.js';

/** Queues and the delivery log everywhere; the workers only where this process runs them. */
@Module({})
export class DeliveryModule {
  static forRoot(opts: { workers: boolean }): DynamicModule {
    return {
      module: DeliveryModule,
      global: true,
      providers: [
        DeliveriesRepository,
        QueuesService,
        MessageComposer,
        DeliveryMessages,
        LeaseResolver,
        ChannelFaults,
        SendProcessor,
        ConfirmationProcessor,
        ...(opts.workers ? [WorkersService] : []),
      ],
      exports: [
        DeliveriesRepository,
        QueuesService,
        MessageComposer,
        SendProcessor,
        LeaseResolver,
        ChannelFaults,
        DeliveryMessages,
      ],
    };
  }
}
