export { SubscribersRepository } from './subscribers.repository.js';
export { SubscribersModule } from './subscribers.module.js';
export * from './contact.js';
