export { DeliveriesModule } from './deliveries.module.js';
export {
  DeliveriesRepository,
  TRANSITIONS,
  type DeliveryForSend,
  type DeliveryJobRef,
} from './deliveries.repository.js';
