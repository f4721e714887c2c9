import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { DeliveryModule } from '../delivery/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { ApiKeysService } from './api-keys.service.js';
import { ClinicDirectoryModule } from './clinic-directory.js';
import { ClinicEnrollmentsController } from './clinic-enrollments.controller.js';
import { ClinicEnrollmentsService } from './clinic-enrollments.service.js';
import { ClinicKeyGuard } from './clinic-key.guard.js';
import { ClinicsService } from './clinics.service.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IdempotencyService } from './idempotency.service.js';
import { PatientRecordsRepository } from './patient-records.repository.js';

/** Clinics (tenants), their API keys and the clinic API. */
@Module({
  imports: [
    ClinicDirectoryModule,
    CampaignsModule,
    DeliveryModule,
    EnrollmentsModule,
    SubscribersModule,
  ],
  controllers: [ClinicEnrollmentsController],
  providers: [
    ApiKeysService,
    ClinicsService,
    ClinicEnrollmentsService,
    ClinicKeyGuard,
    IdempotencyService,
    IdempotencyInterceptor,
    PatientRecordsRepository,
  ],
  exports: [ApiKeysService, ClinicsService, IdempotencyService, ClinicDirectoryModule],
})
export class ClinicsModule {}
