import { Module } from '@nestjs/common';
import { WebhookOutboxModule } from '../webhook-outbox/index.js';
import { ClinicDirectoryModule, ClinicsModule } from '../clinics/index.js';
import { DeliveriesModule } from '../deliveries/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { InboundStoreModule } from '../webhooks/index.js';
import { DataRightsService } from './data-rights.service.js';
import { RetentionModule } from './retention.module.js';

/**
 * Export and erasure of one patient (GDPR), for the operator's admin routes and the
 * clinic's dashboard. No routes of its own: the admin and dashboard modules answer HTTP.
 */
@Module({
  imports: [
    ClinicsModule,
    ClinicDirectoryModule,
    DeliveriesModule,
    EnrollmentsModule,
    InboundStoreModule,
    RetentionModule,
    SubscribersModule,
    WebhookOutboxModule,
  ],
  providers: [DataRightsService],
  exports: [DataRightsService],
})
export class DataRightsModule {}
