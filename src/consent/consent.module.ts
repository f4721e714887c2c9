import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { ConsentService } from './consent.service.js';

/**
 * Consent evidence: the versioned consent texts and the export of what a person agreed to.
 * The events and suppressions themselves are stored through SubscribersRepository; opting
 * out and back in changes enrolments, so it is enrollments' (OptOutService).
 */
@Module({
  imports: [CampaignsModule, SubscribersModule],
  providers: [ConsentService],
  exports: [ConsentService],
})
export class ConsentModule {}
