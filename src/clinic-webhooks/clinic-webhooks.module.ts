import { Module } from '@nestjs/common';
import { ClinicDirectoryModule } from '../clinics/index.js';
import { Clock } from '../common/index.js';
import { MetricsModule, MetricsService } from '../metrics/index.js';
import { WebhookEndpointsService } from './webhook-endpoints.service.js';
import { WebhookSender, WebhookSenderLoop } from './webhook-sender.js';
import { WebhooksRepository } from './webhooks.repository.js';

/** Managing a clinic's endpoints and reading the log (API role: the dashboard). */
@Module({
  imports: [ClinicDirectoryModule],
  providers: [WebhooksRepository, WebhookEndpointsService],
  exports: [WebhookEndpointsService, WebhooksRepository],
})
export class ClinicWebhooksModule {}

/** The sender (worker role): posts due deliveries, retries with backoff. */
@Module({
  imports: [MetricsModule],
  providers: [WebhooksRepository, WebhookSender, WebhookSenderLoop],
  exports: [WebhookSender],
})
export class WebhookSenderModule {
  constructor(repo: WebhooksRepository, metrics: MetricsService, clock: Clock) {
    metrics.sources({ webhooks: () => repo.backlog(clock.now()) });
  }
}
