export { DeliveriesModule } from './deliveries.module.js';
export {
  DeliveriesRepository,
  ERROR_PURGED,
  TRANSITIONS,
  type DeliveryForSend,
  type DeliveryJobRef,
} from './deliveries.repository.js';
