export { WebhooksModule } from './webhooks.module.js';
export { InboundStoreModule } from './inbound-store.module.js';
export { InboundRepository } from './inbound.repository.js';
