export * from './jobs.js';
export { DeliveriesRepository } from './deliveries.repository.js';
export { QueuesService } from './queues.service.js';
export { DeliveryModule } from './delivery.module.js';
export { SendProcessor } from './send.processor.js';
export { MessageComposer } from './message-composer.js';
