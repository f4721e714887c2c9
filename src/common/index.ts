export { Clock, ManualClock } from './clock.js';
export { CommonModule } from './common.module.js';
export {
  conflict,
  Conflict,
  DomainError,
  Forbidden,
  invalid,
  invalidFields,
  InvalidInput,
  notFound,
  NotFound,
  TooManyRequests,
  Unauthorized,
  Unavailable,
  Unprocessable,
  type DomainErrorKind,
  type FieldError,
} from './errors.js';
export { HttpErrorFilter, type ErrorPages } from './http-exception.filter.js';
export { escapeHtml } from './escape.js';
export { maskAddress, maskPhone, maskText, safeError } from './mask.js';
export {
  currentOutage,
  DependencyDownError,
  describeConnectionError,
  isConnectionError,
  registerEndpoint,
  reportIfConnectionError,
  reportOutage,
  reportRecovery,
  withDeadline,
  type Dependency,
} from './outage.js';
export { ZodPipe } from './zod-pipe.js';
export {
  ADMIN_AUTH,
  addSecuritySchemes,
  ApiErrors,
  ApiZodBody,
  ApiZodQuery,
  CLINIC_KEY_AUTH,
  ErrorBody,
  errorExample,
  errorResponse,
  FieldErrorBody,
  openApiSchema,
  type ErrorAnswer,
  type ErrorStatus,
} from './openapi.js';
export { HealthRegistry, type HealthEntry } from './health-registry.js';
export { HealthRegistryModule } from './health-registry.module.js';
export * from './ids.js';
export { Coalescer } from './coalescer.js';
