import { Module, type DynamicModule } from '@nestjs/common';
import { SchedulerLoop } from './scheduler.loop.js';
import { SchedulerService } from './scheduler.service.js';
import { Reconciler } from './reconciler.service.js';

@Module({})
export class SchedulerModule {
  static forRoot(opts: { loop: boolean }): DynamicModule {
    return {
      module: SchedulerModule,
      providers: [SchedulerService, Reconciler, ...(opts.loop ? [SchedulerLoop] : [])],
      exports: [SchedulerService, Reconciler],
    };
  }
}
