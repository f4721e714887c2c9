import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/index.js';
import { WebhookOutboxModule } from '../webhook-outbox/index.js';
import { ClinicDirectoryModule } from '../clinics/index.js';
import { MetricsModule } from '../metrics/index.js';
import { TriageRepository } from './triage.repository.js';
import { TriageService } from './triage.service.js';

/** The red-flag triage queue, in every role: replies raise items, housekeeping tells clinics. */
@Module({
  imports: [ChannelsModule, ClinicDirectoryModule, MetricsModule, WebhookOutboxModule],
  providers: [TriageRepository, TriageService],
  exports: [TriageService, TriageRepository],
})
export class TriageModule {}
