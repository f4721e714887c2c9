import { Module } from '@nestjs/common';
import { SubscribersRepository } from './subscribers.repository.js';

@Module({ providers: [SubscribersRepository], exports: [SubscribersRepository] })
export class SubscribersModule {}
