export { ClinicsModule } from './clinics.module.js';
export { ClinicDirectoryModule, ClinicDirectoryService } from './clinic-directory.js';
export { ClinicsService, slugOf, type ClinicView } from './clinics.service.js';
export { ClinicsRepository } from './clinics.repository.js';
export {
  ApiKeysService,
  API_KEY_SCOPES,
  DEFAULT_OVERLAP_HOURS,
  type ApiKeyView,
  type ClinicCaller,
} from './api-keys.service.js';
export { IdempotencyService, IDEMPOTENCY_TTL_MS } from './idempotency.service.js';
export {
  createClinicSchema,
  updateClinicSchema,
  createKeySchema,
  rotateKeySchema,
  type CreateClinicInput,
  type UpdateClinicInput,
  type CreateKeyInput,
} from './clinic.dto.js';
export { ApiKeyDto, ClinicDto, IssuedApiKeyDto, RotatedApiKeyDto } from './clinic.openapi.js';
