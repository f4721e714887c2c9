export { EnrollmentsModule } from './enrollments.module.js';
export { EnrollmentsService } from './enrollments.service.js';
export {
  EnrollmentLifecycle,
  LIVE_STATUSES,
  TRANSITIONS,
  allowed,
  waitAgainFor,
  type CancelReason,
  type PauseReason,
  type Transition,
} from './lifecycle.js';
export { planAdvance, type AdvancePlan, type DueSend } from './advance.js';
export { OptOutService, type OptOutMeta } from './opt-out.service.js';
export { stepsInUse } from './steps-in-use.js';
export { EnrollmentsRepository } from './enrollments.repository.js';
export * from './schedule.js';
export * from './enrollment.dto.js';
export { SafetyService, type HoldLifter, type SafetyStatus } from './safety.service.js';
export type { EnrollmentAdvance } from './enrollments.repository.js';
