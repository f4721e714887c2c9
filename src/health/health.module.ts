import { Global, Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { HealthRegistry } from './health.registry.js';
import { HealthService } from './health.service.js';

/** /health, in every role. Global so any module can add an entry through HealthRegistry. */
@Global()
@Module({
  controllers: [HealthController],
  providers: [HealthRegistry, HealthService],
  exports: [HealthRegistry],
})
export class HealthModule {}
