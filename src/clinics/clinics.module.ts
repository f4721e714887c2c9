import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ChannelsModule } from '../channels/index.js';
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
import { StaffAuthService } from './staff/staff-auth.service.js';
import { StaffSessionGuard } from './staff/staff-session.guard.js';

/** Clinics (tenants), their API keys and the clinic API. */
@Module({
  imports: [
    ClinicDirectoryModule,
    CampaignsModule,
    ChannelsModule,
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
    StaffAuthService,
    StaffSessionGuard,
  ],
  exports: [
    ApiKeysService,
    ClinicsService,
    ClinicEnrollmentsService,
    IdempotencyService,
    ClinicDirectoryModule,
    PatientRecordsRepository,
    StaffAuthService,
    StaffSessionGuard,
  ],
})
export class ClinicsModule {}
