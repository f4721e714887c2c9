export * from './jobs.js';
// The delivery log is its own module; re-exported for the modules that queue and send.
export {
  DeliveriesModule,
  DeliveriesRepository,
  TRANSITIONS,
  type DeliveryForSend,
  type DeliveryJobRef,
} from '../deliveries/index.js';
export { QueuesService } from './queues.service.js';
export { DeliveryModule } from './delivery.module.js';
export { WorkersModule } from './workers.module.js';
export { SendProcessor } from './send.processor.js';
export { LeaseResolver, type Settlement } from './lease-resolver.js';
export { ChannelFaults, type ChannelFault } from './channel-faults.js';
export { DeliveryMessages } from './delivery-message.js';
export { promptly, redisReady, waitForRedis } from './redis.js';
