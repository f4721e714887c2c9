export { HealthRegistry } from './health.registry.js';
export { HealthRegistryModule } from './health-registry.module.js';
export { HealthModule } from './health.module.js';
