import { randomUUID } from 'node:crypto';
import type { WebhookEventType } from '../database/index.js';

export type { WebhookEventType } from '../database/index.js';

/** The events a clinic can subscribe to, in the order the dashboard lists them. */
export const WEBHOOK_EVENTS: readonly { type: WebhookEventType; label: string }[] = [
  { type: 'enrollment.confirmed', label: 'A patient confirmed their enrolment' },
  { type: 'enrollment.completed', label: 'A patient’s programme sent its last tip' },
  { type: 'enrollment.opted_out', label: 'A patient opted out (STOP or unsubscribe)' },
  { type: 'pain_score.received', label: 'A pain score or rating of change arrived' },
  { type: 'red_flag.raised', label: 'A patient reported a warning sign' },
];

/** Sent only by "Send test event"; nobody subscribes to it. */
export const TEST_EVENT = 'webhook.test';

export const isWebhookEventType = (v: unknown): v is WebhookEventType =>
  WEBHOOK_EVENTS.some((e) => e.type === v);

/**
 * What a receiver gets: the same id for every endpoint and every retry of one event (dedupe
 * on it), the clinic it concerns, and facts without contact details: the enrolment's id and
 * the clinic's own externalId identify the patient.
 */
export interface WebhookEnvelope {
  id: string;
  type: WebhookEventType | typeof TEST_EVENT;
  createdAt: string;
  clinicId: string;
  data: Record<string, unknown>;
}

/** One event to write to the outbox. */
export interface WebhookEvent {
  clinicId: string;
  type: WebhookEventType;
  enrollmentId: string | null;
  data: Record<string, unknown>;
}

export function envelopeOf(
  event: WebhookEvent | (Omit<WebhookEvent, 'type'> & { type: typeof TEST_EVENT }),
  at: Date,
): WebhookEnvelope {
  return {
    id: randomUUID(),
    type: event.type,
    createdAt: at.toISOString(),
    clinicId: event.clinicId,
    data: event.data,
  };
}

/** The enrolment facts every enrolment event carries. */
export function enrollmentData(e: {
  id: string;
  external_id: string | null;
  campaign_id: string;
  channel: string;
  status: string;
}): Record<string, unknown> {
  return {
    enrollmentId: e.id,
    externalId: e.external_id,
    campaignId: e.campaign_id,
    channel: e.channel,
    status: e.status,
  };
}
