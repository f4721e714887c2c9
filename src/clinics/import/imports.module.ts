import { Module, type DynamicModule } from '@nestjs/common';
import { CampaignsModule } from '../../campaigns/index.js';
import { DeliveryModule } from '../../delivery/index.js';
import { EnrollmentsModule } from '../../enrollments/index.js';
import { SubscribersModule } from '../../subscribers/index.js';
import { ClinicDirectoryModule } from '../clinic-directory.js';
import { ClinicEnrollmentsService } from '../clinic-enrollments.service.js';
import { ClinicKeyGuard } from '../clinic-key.guard.js';
import { ClinicsModule } from '../clinics.module.js';
import { PatientRecordsRepository } from '../patient-records.repository.js';
import { ImportsController } from './imports.controller.js';
import { ImportsProcessor } from './imports.processor.js';
import { ImportsQueue } from './imports.queue.js';
import { ImportsRepository } from './imports.repository.js';
import { ImportsService } from './imports.service.js';
import { ImportsWorker } from './imports.worker.js';

/**
 * Bulk CSV imports. `api`: the HTTP routes (with the clinic API's key guard); `worker`: the
 * imports queue's worker and its watchdog. ImportsService and ImportsProcessor are there in
 * either role (the dashboard and the CLI call them). The clinic enrol rules come from
 * ClinicEnrollmentsService, the same class the clinic API uses.
 */
@Module({})
export class ImportsModule {
  static forRoot(opts: { api: boolean; worker: boolean }): DynamicModule {
    return {
      module: ImportsModule,
      imports: [
        CampaignsModule,
        ClinicDirectoryModule,
        DeliveryModule,
        EnrollmentsModule,
        SubscribersModule,
        ...(opts.api ? [ClinicsModule] : []),
      ],
      controllers: opts.api ? [ImportsController] : [],
      providers: [
        ClinicEnrollmentsService,
        PatientRecordsRepository,
        ImportsRepository,
        ImportsQueue,
        ImportsService,
        ImportsProcessor,
        ...(opts.api ? [ClinicKeyGuard] : []),
        ...(opts.worker ? [ImportsWorker] : []),
      ],
      exports: [ImportsService, ImportsProcessor],
    };
  }
}
