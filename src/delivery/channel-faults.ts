import { Inject, Injectable, Logger } from '@nestjs/common';
import type { SendError } from '../channels/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { QueueName } from './jobs.js';
import { HealthRegistry } from '../common/index.js';
import { MetricsService } from '../metrics/index.js';
import { QueuesService } from './queues.service.js';

/** Why a channel is paused, as stored in Redis for every instance (and /health) to see. */
export interface ChannelFault {
  kind: string;
  error: string;
  code?: string | number;
  since: string;
  lastProbe?: string;
  lastProbeError?: string;
}

const HINTS: Record<QueueName, string> = {
  [QueueName.Email]: 'check SMTP_URL (user, password) and MAIL_FROM',
  [QueueName.Sms]: 'check TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM',
};

/**
 * A channel-wide fault (bad credentials, a sender the provider refuses) is not the
 * recipient's: it pauses the channel's queue for every instance instead of failing messages.
 * The fault is kept in Redis beside the queue, so every instance reports it and any worker's
 * probe can lift it.
 */
@Injectable()
export class ChannelFaults {
  private readonly logger = new Logger(ChannelFaults.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly queues: QueuesService,
    metrics: MetricsService,
    health: HealthRegistry,
  ) {
    // /health shows a paused channel as degraded: still 200, since this instance can serve.
    for (const queue of Object.values(QueueName)) {
      health.register({
        name: queue,
        check: async () => {
          const fault = await this.get(queue);
          return fault
            ? { status: 'degraded', message: `paused because ${fault.error}`, ...fault }
            : { status: 'up' };
        },
      });
    }
    metrics.sources({
      paused: async () => {
        const all = await this.all();
        return Object.fromEntries(Object.entries(all).map(([q, f]) => [q, f !== null]));
      },
    });
  }

  private key(queue: QueueName): string {
    return `${this.config.queuePrefix}:fault:${queue}`;
  }

  /** Pauses the queue and records why. Logs once per fault, however many sends hit it. */
  async trip(queue: QueueName, e: SendError): Promise<void> {
    const fault: ChannelFault = {
      kind: e.kind,
      error: e.message,
      code: e.code,
      since: new Date().toISOString(),
    };
    const first = await this.queues.connection.set(this.key(queue), JSON.stringify(fault), 'NX');
    await this.queues.queue(queue).pause();
    if (first === 'OK') {
      this.logger.error(
        { channel: queue, error: e.message, code: e.code },
        `${queue} channel paused: ${e.message}; ${HINTS[queue]}. Nothing fails meanwhile: ` +
          'sending resumes by itself once a probe succeeds',
      );
    }
  }

  async get(queue: QueueName): Promise<ChannelFault | null> {
    const raw = await this.queues.connection.get(this.key(queue));
    if (!raw) return null;
    try {
      return JSON.parse(raw) as ChannelFault;
    } catch {
      return { kind: 'config', error: 'unreadable fault record', since: '' };
    }
  }

  async all(): Promise<Record<QueueName, ChannelFault | null>> {
    const out = {} as Record<QueueName, ChannelFault | null>;
    for (const q of Object.values(QueueName)) out[q] = await this.get(q);
    return out;
  }

  /** Takes the right to probe for one interval, so instances do not all probe at once. */
  async takeProbe(queue: QueueName, ms: number): Promise<boolean> {
    const ok = await this.queues.connection.set(`${this.key(queue)}:probe`, '1', 'PX', ms, 'NX');
    return ok === 'OK';
  }

  async probeFailed(queue: QueueName, fault: ChannelFault, error: string): Promise<void> {
    const next = { ...fault, lastProbe: new Date().toISOString(), lastProbeError: error };
    await this.queues.connection.set(this.key(queue), JSON.stringify(next), 'XX');
  }

  /** The probe passed: resume the queue for every instance and forget the fault. */
  async clear(queue: QueueName, fault: ChannelFault): Promise<void> {
    await this.queues.queue(queue).resume();
    await this.queues.connection.del(this.key(queue));
    const seconds = fault.since ? (Date.now() - Date.parse(fault.since)) / 1000 : 0;
    this.logger.log(
      { channel: queue, pausedForSeconds: Math.round(seconds) },
      `${queue} channel resumed: the probe succeeded`,
    );
  }
}
