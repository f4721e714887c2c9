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
  [JobName.SendDelivery]: { deliveryId: string; clinicId: string | null };
  [JobName.SendConfirmation]: { enrollmentId: string; clinicId: string | null };
}

export const queueForChannel = (channel: Channel): QueueName =>
  channel === 'email' ? QueueName.Email : QueueName.Sms;
