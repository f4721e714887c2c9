import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/index.js';
import { HealthController } from './health.controller.js';
import { HealthRegistryModule } from '../common/index.js';
import { HealthService } from './health.service.js';

/** /health, in every role. Other modules add entries through HealthRegistryModule. */
@Module({
  imports: [DeliveryModule, HealthRegistryModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
