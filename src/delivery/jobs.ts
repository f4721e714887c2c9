import type { Channel } from '../database/index.js';

/** One queue per channel, so each has its own concurrency and provider rate limit. */
export enum QueueName {
  Email = 'email',
  Sms = 'sms',
}

export enum JobName {
  SendDelivery = 'send-delivery',
  SendConfirmation = 'send-confirmation',
}

/**
 * Payloads carry ids only: the worker reloads state from PostgreSQL. `clinicId` names the
 * tenant (null: the public programme) for logs and dashboards; the worker builds the message
 * from the enrolment's own clinic, never from the payload.
 */
export interface JobPayloads {
  /** The job id is the delivery id; `deliveryId` is only in jobs added by older versions. */
  [JobName.SendDelivery]: { clinicId: string | null; deliveryId?: string };
  [JobName.SendConfirmation]: { enrollmentId: string; clinicId: string | null };
}

/**
 * What a worker keeps of finished jobs (BullMQ's removeOnComplete / removeOnFail), set on
 * the worker rather than written into every job: nothing of a completed one (the delivery
 * row is the record), a failed one for a week (for the queue dashboard).
 */
export const WORKER_KEEP: { removeOnComplete: { count: number }; removeOnFail: { age: number } } = {
  removeOnComplete: { count: 0 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export const queueForChannel = (channel: Channel): QueueName =>
  channel === 'email' ? QueueName.Email : QueueName.Sms;
