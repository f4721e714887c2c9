import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { ClinicsModule } from '../clinics/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { LinksModule } from '../links/index.js';
import { ClinicLogos } from './clinic-logos.js';
import { ClinicSignupController } from './clinic-signup.controller.js';
import { FaviconController } from './favicon.controller.js';
import { LinksController } from './links.controller.js';
import { PagesService } from './pages.service.js';
import { SignupAnswers } from './signup-answers.js';
import { SignupPagesService } from './signup-pages.service.js';
import { SignupController } from './signup.controller.js';
import { SignupModule } from './signup.module.js';
import { UnsubscribeService } from './unsubscribe.service.js';

/**
 * The public pages: signup form (the public one and each clinic's), confirm, unsubscribe,
 * preferences. Only with the API.
 */
@Module({
  imports: [CampaignsModule, ClinicsModule, EnrollmentsModule, LinksModule, SignupModule],
  controllers: [SignupController, ClinicSignupController, LinksController, FaviconController],
  providers: [PagesService, SignupAnswers, SignupPagesService, UnsubscribeService, ClinicLogos],
})
export class SignupPagesModule {}
