export { SchedulerModule } from './scheduler.module.js';
export { SchedulerService } from './scheduler.service.js';
export { Reconciler, type ReconcileResult } from './reconciler.service.js';
