import { Module } from '@nestjs/common';
import { InboundRepository } from './inbound.repository.js';

/**
 * The store of inbound replies alone, without the webhook routes: for data rights (export,
 * erasure) and retention, which run where no webhook is served (the scheduler role).
 */
@Module({ providers: [InboundRepository], exports: [InboundRepository] })
export class InboundStoreModule {}
