import { Module } from '@nestjs/common';
import { DeliveriesRepository } from './deliveries.repository.js';

/**
 * The delivery log: one row per message, its state and outcome. Its own module so that both
 * enrollments (the lifecycle withdraws and skips queued deliveries) and delivery (the
 * queues and processors) can use it without importing each other.
 */
@Module({ providers: [DeliveriesRepository], exports: [DeliveriesRepository] })
export class DeliveriesModule {}
