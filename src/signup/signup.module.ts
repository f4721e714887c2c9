import { Global, Module } from '@nestjs/common';
import { ConsentService } from './consent.service.js';
import { SignupService } from './signup.service.js';

/** Public signup, double opt-in, consent, unsubscribe and preferences. */
@Global()
@Module({
  providers: [SignupService, ConsentService],
  exports: [SignupService, ConsentService],
})
export class SignupModule {}
