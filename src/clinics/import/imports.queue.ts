import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { reportOutage } from '../../common/index.js';
import { CONFIG, type AppConfig } from '../../config/index.js';
import { QueuesService } from '../../delivery/index.js';

export const IMPORTS_QUEUE = 'imports';
export const RUN_IMPORT = 'run-import';

/** The one job of the imports queue: ids only, the worker reads the rest from PostgreSQL. */
export interface RunImportPayload {
  importId: string;
  clinicId: string;
}

/**
 * Producer side of the imports queue. The job id is the import id, so adding twice is
 * harmless; PostgreSQL (the import's status and lease) decides what runs, and the watchdog
 * adds the job again if Redis lost it.
 */
@Injectable()
export class ImportsQueue implements OnApplicationShutdown {
  readonly queue: Queue;

  constructor(@Inject(CONFIG) config: AppConfig, queues: QueuesService) {
    this.queue = new Queue(IMPORTS_QUEUE, {
      connection: queues.connection,
      prefix: config.queuePrefix,
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 5_000 },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    this.queue.on('error', (err) => reportOutage('redis', err));
  }

  async add(job: RunImportPayload): Promise<void> {
    const state = await this.queue.getJobState(job.importId);
    // A finished job keeps its id until removed: BullMQ would ignore the add.
    if (state === 'completed' || state === 'failed') await this.queue.remove(job.importId);
    await this.queue.add(RUN_IMPORT, job, { jobId: job.importId });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
