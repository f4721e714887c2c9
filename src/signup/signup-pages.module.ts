import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { TokensModule } from '../tokens/index.js';
import { FaviconController } from './favicon.controller.js';
import { LinksController } from './links.controller.js';
import { PagesService } from './pages.service.js';
import { SignupController } from './signup.controller.js';
import { SignupModule } from './signup.module.js';

/** The public pages: signup form, confirm, unsubscribe, preferences. Only with the API. */
@Module({
  imports: [CampaignsModule, EnrollmentsModule, SignupModule, TokensModule],
  controllers: [SignupController, LinksController, FaviconController],
  providers: [PagesService],
})
export class SignupPagesModule {}
