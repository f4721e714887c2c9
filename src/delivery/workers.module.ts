import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/index.js';
import { DeliveryModule } from './delivery.module.js';
import { WorkersService } from './workers.service.js';

/** The BullMQ workers: only in a process whose ROLE runs them. */
@Module({ imports: [ChannelsModule, DeliveryModule], providers: [WorkersService] })
export class WorkersModule {}
