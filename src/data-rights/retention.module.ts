import { Module } from '@nestjs/common';
import { WebhookOutboxModule } from '../webhook-outbox/index.js';
import { DeliveriesModule } from '../deliveries/index.js';
import { InboundStoreModule } from '../webhooks/index.js';
import { OutcomeRecordsRepository } from './outcome-records.repository.js';
import { RetentionService } from './retention.service.js';

/** Retention alone (no routes): loaded by the scheduler in every role. */
@Module({
  imports: [DeliveriesModule, InboundStoreModule, WebhookOutboxModule],
  providers: [OutcomeRecordsRepository, RetentionService],
  exports: [OutcomeRecordsRepository, RetentionService],
})
export class RetentionModule {}
