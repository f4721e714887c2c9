export { ConsentModule } from './consent.module.js';
export { ConsentService } from './consent.service.js';
export * from './consent-text.js';
