import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { reportIfConnectionError, safeError } from '../../common/index.js';
import { CONFIG, type AppConfig } from '../../config/index.js';
import { ImportsProcessor, LeaseLost } from './imports.processor.js';
import { ImportsQueue, IMPORTS_QUEUE, type RunImportPayload } from './imports.queue.js';
import { ImportsRepository } from './imports.repository.js';

/** How often a worker looks for imports whose holder died. */
export const IMPORT_WATCHDOG_MS = 15_000;
/** Imports of different clinics run side by side, up to this many per process. */
const CONCURRENCY = 2;

/**
 * The imports queue's worker (ROLE=worker or all), and the watchdog that finds imports left
 * by a dead process: an upload cut off while it was read is marked failed (its rows were
 * never committed); a queued or running import whose lease expired is queued again, and the
 * next worker resumes it after its checkpoint. It runs at start-up and every 15 s.
 */
@Injectable()
export class ImportsWorker
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(ImportsWorker.name);
  private worker: Worker | undefined;
  private connection: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly processor: ImportsProcessor,
    private readonly imports: ImportsRepository,
    private readonly queue: ImportsQueue,
  ) {}

  onApplicationBootstrap(): void {
    this.connection = new Redis(this.config.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', (err) => reportIfConnectionError(err, 'redis'));
    this.worker = new Worker(
      IMPORTS_QUEUE,
      async (job: Job<RunImportPayload>) => {
        try {
          return await this.processor.process(job.data.importId);
        } catch (err) {
          // Another worker has it now: nothing to retry.
          if (err instanceof LeaseLost) return 'busy';
          throw err;
        }
      },
      { connection: this.connection, prefix: this.config.queuePrefix, concurrency: CONCURRENCY },
    );
    this.worker.on('error', (err) => {
      if (!reportIfConnectionError(err, 'redis'))
        this.logger.error({ err: safeError(err) }, 'imports worker error');
    });
    this.schedule(0);
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      void this.recover()
        .catch((err) => {
          if (!reportIfConnectionError(err))
            this.logger.warn({ err: safeError(err) }, 'import watchdog failed');
        })
        .finally(() => {
          if (this.timer) this.schedule(IMPORT_WATCHDOG_MS);
        });
    }, delay);
    this.timer.unref();
  }

  /** Settles or re-queues imports whose holder is gone. Returns how many it touched. */
  async recover(): Promise<number> {
    const stale = await this.imports.unattended();
    for (const job of stale) {
      if (job.status === 'receiving') {
        await this.imports.end(
          job.id,
          'failed',
          'the upload was interrupted before the end of the file; nothing was imported, upload it again',
        );
        this.logger.warn({ importId: job.id, clinicId: job.clinic_id }, 'import upload abandoned');
      } else {
        await this.queue.add({ importId: job.id, clinicId: job.clinic_id });
        this.logger.log({ importId: job.id, clinicId: job.clinic_id }, 'import queued again');
      }
    }
    return stale.length;
  }

  /** Shutdown starts: take no new import and stop the running one at its next checkpoint. */
  onModuleDestroy(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.processor.stop();
    this.closing ??= this.worker?.close();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    await this.closing;
    this.connection?.disconnect();
  }
}
