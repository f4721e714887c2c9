export { SignupModule } from './signup.module.js';
export { SignupService, type RequestMeta } from './signup.service.js';
export { ConsentService } from './consent.service.js';
export * from './consent-text.js';
