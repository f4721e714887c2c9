/**
 * The low end of outbound webhooks, for the modules that announce events (enrolments,
 * outcomes, triage): it depends on the database alone, so they can import it without
 * pulling in the clinic modules the rest of this folder uses.
 */
export {
  WEBHOOK_LOG_DAYS,
  WebhookOutbox,
  WebhookOutboxModule,
  WebhookOutboxRecords,
} from './webhook-outbox.js';
export {
  enrollmentData,
  envelopeOf,
  isWebhookEventType,
  TEST_EVENT,
  WEBHOOK_EVENTS,
  type WebhookEnvelope,
  type WebhookEvent,
  type WebhookEventType,
} from './webhook-events.js';
