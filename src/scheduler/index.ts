export { SchedulerModule } from './scheduler.module.js';
export { SchedulerService } from './scheduler.service.js';
