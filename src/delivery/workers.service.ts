import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { EmailChannel, SendError, SmsChannel } from '../channels/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { ChannelFaults } from './channel-faults.js';
import { ConfirmationProcessor } from './confirmation.processor.js';
import { JobName, QueueName, WORKER_KEEP } from './jobs.js';
import { createRedis } from './redis.js';
import { SendProcessor } from './send.processor.js';
import { safeError, reportIfConnectionError } from '../common/index.js';

type Handler = (job: Job, token: string | undefined, worker: Worker) => Promise<unknown>;

/** How long shutdown waits for the jobs in flight before closing the workers by force. */
const CLOSE_GRACE_MS = 10_000;

/** Runs the BullMQ workers of this process (ROLE=worker or all), and probes paused channels. */
@Injectable()
export class WorkersService
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(WorkersService.name);
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];
  /** Every job name has exactly one handler; the type makes a missing one a compile error. */
  private readonly handlers: Record<JobName, Handler>;
  private probeTimer: NodeJS.Timeout | undefined;
  private closing: Promise<unknown> | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly send: SendProcessor,
    confirm: ConfirmationProcessor,
    private readonly faults: ChannelFaults,
    private readonly email: EmailChannel,
    private readonly sms: SmsChannel,
  ) {
    this.handlers = {
      [JobName.SendDelivery]: (job, token, worker) => send.process(job, token, worker),
      [JobName.SendConfirmation]: (job, _token, worker) => confirm.process(job, worker),
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
          lockDuration: this.config.delivery.workerLockMs,
          stalledInterval: this.config.delivery.workerLockMs,
          // A job whose worker died is simply run again: the delivery's lease, not BullMQ,
          // decides whether anything is sent. So stalls never fail a job.
          maxStalledCount: 1_000,
          ...WORKER_KEEP,
        },
      );
      worker.on('error', (err) => {
        // A Redis outage makes every worker fail every poll: one line per outage, not each.
        if (!reportIfConnectionError(err, 'redis'))
          this.logger.error({ err: safeError(err), queue }, 'worker error');
      });
      this.workers.push(worker);
    }
    this.scheduleProbe(1_000);
  }

  private scheduleProbe(delayMs: number): void {
    this.probeTimer = setTimeout(() => {
      void this.probe()
        .catch((err) => this.logger.warn({ err: safeError(err) }, 'channel probe failed'))
        .finally(() => {
          if (this.probeTimer) this.scheduleProbe(this.config.delivery.channelProbeMs);
        });
    }, delayMs);
    this.probeTimer.unref();
  }

  /**
   * For each channel paused by a configuration fault: checks the setup (SMTP login, Twilio
   * account) and, when it passes, resumes the queue for every instance. A fault the check
   * cannot see (a refused sender) pauses the queue again at the next send.
   */
  async probe(): Promise<void> {
    const channels = { [QueueName.Email]: this.email, [QueueName.Sms]: this.sms };
    for (const queue of Object.values(QueueName)) {
      const fault = await this.faults.get(queue);
      if (!fault) continue;
      if (!(await this.faults.takeProbe(queue, this.config.delivery.channelProbeMs))) continue;
      try {
        await channels[queue].verify();
      } catch (err) {
        const message = err instanceof SendError ? err.message : 'probe failed';
        await this.faults.probeFailed(queue, fault, message);
        continue;
      }
      await this.faults.clear(queue, fault);
    }
  }

  /**
   * The first shutdown hook Nest calls: stop taking jobs at once, whatever other modules'
   * shutdown hooks (run one module after another) are still waiting for.
   */
  onModuleDestroy(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.closing ??= Promise.all(this.workers.map((w) => w.close()));
  }

  /**
   * Lets the jobs in flight finish, within a bound: with Redis gone a worker cannot hand its
   * jobs back, so after CLOSE_GRACE_MS it is closed by force. A job cut short keeps its
   * delivery's lease, and the reconciler settles it.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS);
    });
    const closed = this.closing!.then(() => 'closed' as const);
    const result = await Promise.race([closed, grace]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.logger.warn('workers did not close in time; closing by force');
      this.send.stop();
      await Promise.race([
        Promise.all(this.workers.map((w) => w.close(true))),
        new Promise((r) => setTimeout(r, 2_000)),
      ]);
    }
    this.send.stop();
    for (const c of this.connections) c.disconnect();
  }
}
