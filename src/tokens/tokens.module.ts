import { Module } from '@nestjs/common';
import { TokensService } from './tokens.service.js';

/** Sealed link tokens, for the messages that carry links and the pages that open them. */
@Module({ providers: [TokensService], exports: [TokensService] })
export class TokensModule {}
