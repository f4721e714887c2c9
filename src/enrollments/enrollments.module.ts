import { Global, Module } from '@nestjs/common';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { EnrollmentsService } from './enrollments.service.js';
import { SafetyService } from './safety.service.js';

@Global()
@Module({
  providers: [EnrollmentsRepository, EnrollmentsService, SafetyService],
  exports: [EnrollmentsRepository, EnrollmentsService, SafetyService],
})
export class EnrollmentsModule {}
