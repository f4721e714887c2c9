import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import { SchedulerService } from './scheduler.service.js';
import { safeError, reportIfConnectionError } from '../common/index.js';

/** Housekeeping (timed pauses, expired signups) runs every this many passes. */
const HOUSEKEEPING_EVERY_PASSES = 15;

/** Runs a scheduler pass every SCHEDULER_INTERVAL_MS, never two at once in this process. */
@Injectable()
export class SchedulerLoop
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(SchedulerLoop.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private passes = 0;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly scheduler: SchedulerService,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let more = false;
      this.running = this.tick()
        .then((m) => {
          more = m;
        })
        .finally(() => {
          this.running = undefined;
          // A pass that stopped at its batch limit with more due: the next one starts now.
          this.schedule(more ? 0 : this.config.scheduler.intervalMs);
        });
    }, delay);
  }

  /** One pass, sweep and (now and then) housekeeping; true when more is due at once. */
  private async tick(): Promise<boolean> {
    try {
      const pass = await this.scheduler.runPass();
      // Cheap when nothing is due: it reads an index of open deliveries by check_at.
      await this.scheduler.sweep();
      if (this.passes++ % HOUSEKEEPING_EVERY_PASSES === 0) {
        const kept = await this.scheduler.housekeeping();
        if (kept.resumed + kept.expired > 0) this.logger.log(kept, 'housekeeping');
      }
      return pass.more === true;
    } catch (err) {
      // PostgreSQL or Redis down: counted as an outage (one line each), not logged every pass.
      if (!reportIfConnectionError(err))
        this.logger.error({ err: safeError(err) }, 'scheduler pass failed; will retry');
      return false;
    }
  }

  /** Shutdown starts: no new pass, whatever other modules' shutdown hooks wait for. */
  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    await this.running;
  }
}
