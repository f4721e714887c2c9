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
  inviteStaffSchema,
  type InviteStaffInput,
  rotateKeySchema,
  type CreateClinicInput,
  type UpdateClinicInput,
  type CreateKeyInput,
} from './clinic.dto.js';
export {
  ApiKeyDto,
  ClinicDto,
  InvitedStaffDto,
  IssuedApiKeyDto,
  RotatedApiKeyDto,
  StaffDto,
} from './clinic.openapi.js';
export {
  ClinicEnrollmentsService,
  type ClinicEnrollmentDetail,
  type ClinicEnrollmentView,
} from './clinic-enrollments.service.js';
export { PatientRecordsRepository } from './patient-records.repository.js';
export {
  AuditService,
  type AuditActor,
  type AuditEntry,
  type AuditRow,
  type AuditView,
} from './staff/audit.service.js';
export { StaffRepository } from './staff/staff.repository.js';
export {
  LOGIN_LINK_MINUTES,
  SESSION_MAX_HOURS,
  StaffAuthService,
  staffView,
  type StaffCaller,
  type StaffView,
} from './staff/staff-auth.service.js';
export {
  AdminOnly,
  CsrfCheckedInHandler,
  CsrfRefused,
  PRE_SESSION_COOKIE,
  SESSION_COOKIE,
  SignInRequired,
  Staff,
  StaffSessionGuard,
  cookiesOf,
} from './staff/staff-session.guard.js';
export {
  IMPORT_COLUMNS,
  ImportsModule,
  ImportsProcessor,
  ImportsService,
  type ImportView,
  type StartImportOptions,
} from './import/index.js';
