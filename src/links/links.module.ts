import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/index.js';
import { LinksService } from './links.service.js';
import { MessageComposer } from './message-composer.js';
import { SenderResolver } from './sender-resolver.js';

/**
 * The links in every message and who the message is from. A clinics module plugs its
 * directory in at start-up (SenderResolver.useDirectory); links never imports clinics.
 */
@Module({
  imports: [TokensModule],
  providers: [LinksService, SenderResolver, MessageComposer],
  exports: [LinksService, SenderResolver, MessageComposer],
})
export class LinksModule {}
