import { Global, Module } from '@nestjs/common';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { EnrollmentsService } from './enrollments.service.js';

@Global()
@Module({
  providers: [EnrollmentsRepository, EnrollmentsService],
  exports: [EnrollmentsRepository, EnrollmentsService],
})
export class EnrollmentsModule {}
