export { EnrollmentsModule } from './enrollments.module.js';
export { EnrollmentsService } from './enrollments.service.js';
export { EnrollmentsRepository } from './enrollments.repository.js';
export * from './schedule.js';
export * from './enrollment.dto.js';
