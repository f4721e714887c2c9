import { Global, Module } from '@nestjs/common';
import { SubscribersRepository } from './subscribers.repository.js';

@Global()
@Module({ providers: [SubscribersRepository], exports: [SubscribersRepository] })
export class SubscribersModule {}
