import { Module } from '@nestjs/common';
import { HealthRegistry } from './health-registry.js';

/** The one HealthRegistry: modules that add entries to /health import this, not HealthModule. */
@Module({ providers: [HealthRegistry], exports: [HealthRegistry] })
export class HealthRegistryModule {}
