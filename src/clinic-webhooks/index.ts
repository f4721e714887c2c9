export { ClinicWebhooksModule, WebhookSenderModule } from './clinic-webhooks.module.js';
export { WEBHOOK_EVENTS, TEST_EVENT } from '../webhook-outbox/index.js';
export {
  WebhookEndpointsService,
  MAX_ENDPOINTS,
  type EndpointView,
} from './webhook-endpoints.service.js';
export {
  WebhookSender,
  MAX_ATTEMPTS,
  RETRY_DELAYS_MS,
  nextAttemptAfter,
} from './webhook-sender.js';
export { WebhooksRepository, type DeliveryLogRow } from './webhooks.repository.js';
export { sign, verify, newSecret } from './webhook-signature.js';
export { isPrivateAddress, urlProblem } from './webhook-http.js';
