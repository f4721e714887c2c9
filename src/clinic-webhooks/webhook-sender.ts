import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Clock, reportIfConnectionError, safeError } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { MetricsService } from '../metrics/index.js';
import { postJson, type PostResult } from './webhook-http.js';
import { sign } from './webhook-signature.js';
import { WebhooksRepository, type ClaimedDelivery } from './webhooks.repository.js';

/**
 * Waits after failed attempts 1, 2, 3...: about a day in all, then the delivery is marked
 * failed (the clinic can send it again from the dashboard). Each wait is spread by up to
 * 10% so a receiver that was down is not hit by every retry in the same second.
 */
export const RETRY_DELAYS_MS = [
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
  3_600_000,
  3 * 3_600_000,
  6 * 3_600_000,
  12 * 3_600_000,
];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** A Retry-After longer than this is not honoured beyond it. */
const RETRY_AFTER_CAP_MS = 3_600_000;
/** Deliveries one pass claims, and how many posts run at once. */
const BATCH = 50;
const PARALLEL = 8;
/** How long shutdown waits for a pass in flight. */
const SHUTDOWN_WAIT_MS = 3_000;

/** When the next attempt is due after failed attempt number `attempt` (1-based). */
export function nextAttemptAfter(
  attempt: number,
  now: Date,
  retryAfterS?: number,
  random: () => number = Math.random,
): Date {
  const base = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1]!;
  const asked = retryAfterS ? Math.min(retryAfterS * 1000, RETRY_AFTER_CAP_MS) : 0;
  const wait = Math.max(base, asked) * (1 + random() * 0.1);
  return new Date(now.getTime() + Math.round(wait));
}

/**
 * Posts due webhook deliveries. At least once: a sender that dies after the receiver
 * answered but before the outcome is written posts the event again when its lease runs out,
 * under the same webhook-id, which receivers dedupe on.
 */
@Injectable()
export class WebhookSender {
  private readonly logger = new Logger(WebhookSender.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly repo: WebhooksRepository,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
  ) {}

  /** One pass: claims and posts what is due. Returns how many it claimed. */
  async sendDue(): Promise<number> {
    const claimed = await this.repo.claimDue(
      this.clock.now(),
      this.config.webhooks.timeoutMs * 2 + 5_000,
      BATCH,
    );
    for (let i = 0; i < claimed.length; i += PARALLEL)
      await Promise.all(claimed.slice(i, i + PARALLEL).map((d) => this.deliver(d)));
    return claimed.length;
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const body = JSON.stringify(d.payload);
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    let result: PostResult;
    try {
      result = await postJson(
        d.url,
        body,
        {
          'user-agent': 'selfcare-drip-webhooks/1',
          'webhook-id': d.eventId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(d.secret, d.eventId, timestamp, body),
          'x-selfcare-event': d.eventType,
        },
        {
          timeoutMs: this.config.webhooks.timeoutMs,
          allowPrivate: this.config.webhooks.allowPrivate,
        },
      );
    } catch (err) {
      result = { error: `could not post: ${(err as Error).message}` };
    }
    const now = this.clock.now();
    let outcome: 'delivered' | 'retry' | 'failed';
    if (!result.error && result.status !== undefined) {
      outcome = 'delivered';
      await this.repo.recordAttempt(d.id, d.attempts, {
        status: 'delivered',
        at: now,
        responseStatus: result.status,
      });
    } else {
      outcome = d.attempts >= MAX_ATTEMPTS ? 'failed' : 'retry';
      await this.repo.recordAttempt(d.id, d.attempts, {
        status: outcome === 'failed' ? 'failed' : 'pending',
        nextAttemptAt:
          outcome === 'failed' ? now : nextAttemptAfter(d.attempts, now, result.retryAfterS),
        responseStatus: result.status ?? null,
        error: (result.error ?? 'failed').slice(0, 200),
      });
      // The URL's host only: paths and queries can carry a receiver's own tokens.
      this.logger.warn(
        {
          webhookDeliveryId: d.id,
          eventType: d.eventType,
          attempt: d.attempts,
          host: hostOf(d.url),
          error: result.error,
        },
        outcome === 'failed'
          ? 'webhook gave up after its last attempt'
          : 'webhook attempt failed; will retry',
      );
    }
    this.metrics.webhookAttempt(outcome);
  }
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
};

/** Runs WebhookSender passes in a worker process: at once while work is due, else every second. */
@Injectable()
export class WebhookSenderLoop
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(WebhookSenderLoop.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly sender: WebhookSender,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let busy = false;
      this.running = this.sender
        .sendDue()
        .then((n) => {
          busy = n > 0;
        })
        .catch((err: unknown) => {
          if (!reportIfConnectionError(err))
            this.logger.error({ err: safeError(err) }, 'webhook pass failed; will retry');
        })
        .finally(() => {
          this.running = undefined;
          this.schedule(busy ? 0 : this.config.webhooks.pollMs);
        });
    }, delay);
  }

  /** Shutdown starts: no new pass (see WorkersService.onModuleDestroy). */
  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Waits a little for the pass in flight; past that, its claimed rows simply fall due again
   * when their lease ends (posts are at least once anyway).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.running,
      new Promise((r) => {
        timer = setTimeout(r, SHUTDOWN_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }
}
