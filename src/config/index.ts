export * from './config.js';
export { ConfigModule } from './config.module.js';
