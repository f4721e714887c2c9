import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock.js';
import { TokensService } from '../tokens/tokens.service.js';

@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, TokensService],
  exports: [Clock, TokensService],
})
export class CommonModule {}
