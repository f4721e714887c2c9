export { EnrollmentsModule } from './enrollments.module.js';
export { EnrollmentsService, waitAgainFor } from './enrollments.service.js';
export { stepsInUse } from './steps-in-use.js';
export { EnrollmentsRepository } from './enrollments.repository.js';
export * from './schedule.js';
export * from './enrollment.dto.js';
export { SafetyService, type HoldLifter, type SafetyStatus } from './safety.service.js';
export type { PauseReason } from './enrollments.service.js';
export type { EnrollmentAdvance } from './enrollments.repository.js';
