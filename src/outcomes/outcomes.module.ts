import { Module } from '@nestjs/common';
import { CampaignsModule } from '../campaigns/index.js';
import { WebhookOutboxModule } from '../webhook-outbox/index.js';
import { EnrollmentsModule } from '../enrollments/index.js';
import { SubscribersModule } from '../subscribers/index.js';
import { LinksModule } from '../links/index.js';
import { PagesService } from '../signup/index.js';
import { CheckInAnswers } from './check-in-answers.service.js';
import { CheckInController } from './check-in.controller.js';
import { CheckInPages } from './check-in.pages.js';
import { OutcomesRepository } from './outcomes.repository.js';
import { OutcomesService } from './outcomes.service.js';
import { TriageReportController } from './triage-report.controller.js';
import { TriageReports } from './triage-report.service.js';
import { TriageModule } from './triage.module.js';

/**
 * Pain outcomes: answers to check-ins (one-tap links and 0-10 texts), the worsening flag and
 * the charts. With the API only: the link pages live here, the webhooks record text replies
 * through CheckInAnswers, and the clinic dashboard reads OutcomesService. The check-in
 * question itself rides on a step's delivery and is rendered by the workers (see
 * docs/outcomes.md); nothing here runs in a worker.
 */
@Module({
  imports: [
    CampaignsModule,
    EnrollmentsModule,
    LinksModule,
    SubscribersModule,
    TriageModule,
    WebhookOutboxModule,
  ],
  controllers: [CheckInController, TriageReportController],
  // PagesService renders templates/pages; a provider of its own here, as signup's is private.
  providers: [
    OutcomesRepository,
    OutcomesService,
    CheckInAnswers,
    CheckInPages,
    PagesService,
    TriageReports,
  ],
  exports: [OutcomesService, CheckInAnswers],
})
export class OutcomesModule {}
