import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { CONFIG, type AppConfig } from '../config/index.js';
import { JobName, QueueName } from './jobs.js';
import { createRedis } from './redis.js';
import { ConfirmationProcessor } from './confirmation.processor.js';
import { SendProcessor } from './send.processor.js';
import { safeError } from '../common/mask.js';

type Handler = (job: Job, token: string | undefined, worker: Worker) => Promise<unknown>;

/** Runs the BullMQ workers of this process (ROLE=worker or all). */
@Injectable()
export class WorkersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkersService.name);
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];
  /** Every job name has exactly one handler; the type makes a missing one a compile error. */
  private readonly handlers: Record<JobName, Handler>;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    send: SendProcessor,
    confirm: ConfirmationProcessor,
  ) {
    this.handlers = {
      [JobName.SendDelivery]: (job, token, worker) => send.process(job, token, worker),
      [JobName.SendConfirmation]: (job) => confirm.process(job),
    };
  }

  onApplicationBootstrap(): void {
    for (const name of Object.values(JobName)) {
      if (!this.handlers[name]) throw new Error(`job ${name} has no handler`);
    }
    const settings = {
      [QueueName.Email]: this.config.email,
      [QueueName.Sms]: this.config.sms,
    };
    for (const queue of Object.values(QueueName)) {
      const { concurrency, ratePerSecond } = settings[queue];
      const connection = createRedis(this.config.redisUrl);
      this.connections.push(connection);
      const worker: Worker = new Worker(
        queue,
        async (job, token) => {
          const handler = this.handlers[job.name as JobName];
          if (!handler) throw new Error(`job ${job.name} has no handler`);
          return handler(job, token, worker);
        },
        {
          connection,
          prefix: this.config.queuePrefix,
          concurrency,
          limiter: { max: ratePerSecond, duration: 1000 },
        },
      );
      worker.on('error', (err) =>
        this.logger.error({ err: safeError(err), queue }, 'worker error'),
      );
      this.workers.push(worker);
    }
  }

  /** Stops taking jobs and lets the ones in flight finish. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    for (const c of this.connections) c.disconnect();
  }
}
