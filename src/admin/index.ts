export { AdminModule } from './admin.module.js';
export { mountQueueDashboard } from './queue-dashboard.js';
