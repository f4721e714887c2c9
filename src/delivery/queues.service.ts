import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CONFIG, type AppConfig } from '../config/index.js';
import type { Channel } from '../database/index.js';
import type { DeliveryJobRef } from '../deliveries/index.js';
import { JobName, QueueName, queueForChannel, type JobPayloads } from './jobs.js';
import { reportOutage } from '../common/index.js';
import { createRedis } from './redis.js';

/** Entries of each queue's BullMQ event stream that Redis keeps. */
export const EVENTS_KEPT = 1_000;

/** Producer side of the BullMQ queues. Job id = delivery id, so adding twice is harmless. */
@Injectable()
export class QueuesService implements OnApplicationShutdown {
  readonly connection: Redis;
  private readonly queues: Record<QueueName, Queue>;

  constructor(@Inject(CONFIG) private readonly config: AppConfig) {
    // Fails fast while Redis is unreachable (503 on a request's path; the reconciler re-adds
    // whatever a pass could not enqueue), instead of queueing commands in memory.
    this.connection = createRedis(config.redisUrl, { purpose: 'producer' });
    const make = (name: QueueName) => {
      // No queue-wide job options: BullMQ writes them into every job's hash. A delivery job
      // holds its id (the job id), its clinic and nothing else, so that the hash stays a
      // compact listpack (every field under hash-max-listpack-value, 64 B). Retries and their
      // backoff are the send processor's (counted on the delivery row); what to keep of a
      // finished job is the worker's (WORKER_KEEP).
      // BullMQ's event stream (nobody here reads it; the delivery rows are the record) is
      // kept to its last 1,000 entries instead of 10,000: about 1 MB less Redis after a burst.
      const queue = new Queue(name, {
        connection: this.connection,
        prefix: config.queuePrefix,
        streams: { events: { maxLen: EVENTS_KEPT } },
      });
      // Without a listener BullMQ prints every connection error; count them as an outage.
      queue.on('error', (err) => reportOutage('redis', err));
      return queue;
    };
    this.queues = {
      [QueueName.Email]: make(QueueName.Email),
      [QueueName.Sms]: make(QueueName.Sms),
    };
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  async enqueueDeliveries(deliveries: DeliveryJobRef[]): Promise<void> {
    for (const name of Object.values(QueueName)) {
      const jobs = deliveries
        .filter((d) => queueForChannel(d.channel) === name)
        .map((d) => ({
          name: JobName.SendDelivery,
          // The delivery id is the job id: not repeated in the data.
          data: { clinicId: d.clinicId } satisfies JobPayloads[JobName.SendDelivery],
          opts: { jobId: d.id },
        }));
      for (let i = 0; i < jobs.length; i += 1000) {
        await this.queues[name].addBulk(jobs.slice(i, i + 1000));
      }
    }
  }

  /**
   * Makes sure each queued delivery has a live BullMQ job: a job that is missing (Redis was
   * wiped or restarted empty, a crash between commit and enqueue) or already finished
   * (failed after too many stalls) is added again. Returns the ids that had to be re-added.
   * Adding is harmless when a job appears meanwhile: the job id is the delivery id.
   */
  async ensureJobs(deliveries: DeliveryJobRef[]): Promise<string[]> {
    const missing: DeliveryJobRef[] = [];
    for (let i = 0; i < deliveries.length; i += 100) {
      const chunk = deliveries.slice(i, i + 100);
      const states = await Promise.all(
        chunk.map((d) => this.queues[queueForChannel(d.channel)].getJobState(d.id)),
      );
      for (const [k, state] of states.entries()) {
        const d = chunk[k]!;
        if (state === 'failed' || state === 'completed') {
          await this.queues[queueForChannel(d.channel)].remove(d.id);
          missing.push(d);
        } else if (state === 'unknown') {
          missing.push(d);
        }
      }
    }
    await this.enqueueDeliveries(missing);
    return missing.map((d) => d.id);
  }

  /**
   * The double opt-in message; `attempt` numbers resends so each gets a job of its own.
   * `clinicId` (null: the public programme) rides along for logs and dashboards; the
   * processor reads the clinic from the enrolment.
   */
  async enqueueConfirmation(
    enrollmentId: string,
    channel: Channel,
    attempt: number,
    clinicId: string | null,
  ): Promise<void> {
    await this.queues[queueForChannel(channel)].add(
      JobName.SendConfirmation,
      { enrollmentId, clinicId } satisfies JobPayloads[JobName.SendConfirmation],
      {
        jobId: `confirm-${enrollmentId}-${attempt}`,
        attempts: 3,
        backoff: { type: 'exponential', delay: this.config.sendBackoffMs },
      },
    );
  }

  async counts(): Promise<Record<QueueName, Record<string, number>>> {
    const out = {} as Record<QueueName, Record<string, number>>;
    for (const name of Object.values(QueueName)) {
      out[name] = await this.queues[name].getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'prioritized',
      );
    }
    return out;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    this.connection.disconnect();
  }
}
