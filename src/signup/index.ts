export { SignupModule } from './signup.module.js';
export { SignupPagesModule } from './signup-pages.module.js';
export { SignupService, type RequestMeta } from './signup.service.js';
export { PagesService } from './pages.service.js';
export * from './red-flags.js';
