import { Module } from '@nestjs/common';
import { DeliveriesRepository } from './deliveries.repository.js';

/**
 * The delivery log on its own, for EnrollmentsModule: it withdraws queued deliveries, while
 * DeliveryModule needs the enrollments, so importing all of DeliveryModule would be a cycle.
 */
@Module({ providers: [DeliveriesRepository], exports: [DeliveriesRepository] })
export class DeliveryLogModule {}
