import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { LinksModule } from '../links/index.js';
import { FaviconController } from './favicon.controller.js';
import { LinksController } from './links.controller.js';
import { PagesService } from './pages.service.js';
import { SignupAnswers } from './signup-answers.js';
import { SignupPagesService } from './signup-pages.service.js';
import { SignupController } from './signup.controller.js';
import { SignupModule } from './signup.module.js';

/** The public pages: signup form, confirm, unsubscribe, preferences. Only with the API. */
@Module({
  imports: [CampaignsModule, EnrollmentsModule, LinksModule, SignupModule],
  controllers: [SignupController, LinksController, FaviconController],
  providers: [PagesService, SignupAnswers, SignupPagesService],
})
export class SignupPagesModule {}
