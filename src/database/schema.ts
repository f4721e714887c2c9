import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
/** Set by a database default on insert. */
type AutoTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type Channel = 'email' | 'sms';
export type EnrollmentStatus = 'pending' | 'active' | 'paused' | 'completed' | 'cancelled';
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'skipped';
/** Who paused: the person (preferences), an operator or clinic, or a warning sign (`safety`). */
export type PauseReason = 'person' | 'operator' | 'safety';
/** Why an enrolment ended early. `stop` (an SMS STOP) is the one START can undo. */
export const CANCEL_REASONS = [
  'stop',
  'unsubscribe',
  'operator',
  'clinic',
  'undeliverable',
  'expired',
  'campaign-gone',
  /** Erased on request (docs/data-rights.md); the row is deleted in the same transaction. */
  'erased',
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];
/**
 * A consent event: asked for (the form), confirmed (link or YES), enrolled (by an operator or
 * clinic), withdrawn (STOP, unsubscribe), or opted back in (START).
 */
export const CONSENT_KINDS = [
  'requested',
  'confirmed',
  'enrolled',
  'attested',
  'withdrawn',
  'opted-in',
] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];
/** Final states: a delivery in one of these never changes again (but sent → delivered | failed by callback). */
export const FINAL_DELIVERY_STATUSES = ['sent', 'delivered', 'failed', 'skipped'] as const;

export interface SubscribersTable {
  id: Generated<string>;
  email: string | null;
  phone: string | null;
  name: string | null;
  /** Rows of one person (an email row and a phone row enrolled together) share it. */
  person_id: Generated<string>;
  created_at: AutoTimestamp;
  updated_at: AutoTimestamp;
}

export interface EnrollmentsTable {
  id: Generated<string>;
  subscriber_id: string;
  campaign_id: string;
  channel: Channel;
  timezone: string;
  send_time: string;
  status: EnrollmentStatus;
  /** Steps queued so far: the number of the next delivery (0 = none yet). Not a position. */
  step: number;
  /**
   * Key of the step this enrolment waits on; null: the first step of the campaign, as it
   * stands, that the person has not had (a new enrolment). See src/campaigns/step-order.ts.
   */
  step_key: string | null;
  next_send_at: NullableTimestamp;
  source: string;
  /** A timed pause ends here (preferences: pause for N days). */
  paused_until: NullableTimestamp;
  confirm_sent_at: NullableTimestamp;
  confirm_count: Generated<number>;
  /** The clinic that enrolled the person; null: the public programme. */
  clinic_id: string | null;
  /** The clinic's own id for the patient or visit. */
  external_id: string | null;
  /** Why it was cancelled: see CancelReason. */
  cancel_reason: CancelReason | null;
  /** Set while paused. */
  pause_reason: PauseReason | null;
  created_at: AutoTimestamp;
  updated_at: AutoTimestamp;
}

export interface DeliveriesTable {
  id: Generated<string>;
  enrollment_id: string;
  /** This enrolment's n-th delivery (0-based); with reordered steps, not a position. */
  step: number;
  /** The campaign step sent; unique per enrolment. */
  step_key: string;
  channel: Channel;
  status: DeliveryStatus;
  attempts: Generated<number>;
  provider_id: string | null;
  error: string | null;
  created_at: AutoTimestamp;
  updated_at: AutoTimestamp;
  sent_at: NullableTimestamp;
  /** Open deliveries only: when the reconciler next looks (queued: job check; sending: lease end). */
  check_at: NullableTimestamp;
  /** When the current attempt claimed the delivery. */
  claimed_at: NullableTimestamp;
  /** How an unknown outcome (a crash or timeout mid-send) was settled, or why it is not yet. */
  resolution: string | null;
}

export interface SuppressionsTable {
  /** Lower-cased email or E.164 number. */
  address: string;
  channel: Channel;
  reason: string;
  created_at: AutoTimestamp;
}

export interface ConsentEventsTable {
  id: Generated<string>;
  subscriber_id: string;
  kind: ConsentKind;
  channel: Channel;
  source: string;
  text_version: string | null;
  /** The campaign the words named, and the exact words shown (null before migration 0004). */
  campaign_id: string | null;
  text: string | null;
  /** What the person wrote (an SMS keyword message), exactly. */
  words: string | null;
  ip: string | null;
  user_agent: string | null;
  /** Given by a clinic's enrolment: whose attestation this is, how and when, and who took it. */
  clinic_id: string | null;
  method: string | null;
  obtained_at: NullableTimestamp;
  collected_by: string | null;
  created_at: AutoTimestamp;
}

export interface InboundMessagesTable {
  id: Generated<string>;
  provider_id: string | null;
  from_phone: string;
  body: string;
  kind: string;
  subscriber_id: string | null;
  created_at: AutoTimestamp;
}

/** 'nprs': the 0-10 pain score; 'groc': the global rating of change, -3 (much worse) .. +3. */
export type PainScoreKind = 'nprs' | 'groc';

export interface PainScoresTable {
  id: Generated<string>;
  subscriber_id: string;
  enrollment_id: string | null;
  score: number;
  /** 'sms' (a text reply), 'email-link' or 'sms-link' (a one-tap page). */
  source: string;
  created_at: AutoTimestamp;
  /** Migration 0009 (outcomes). */
  kind: ColumnType<PainScoreKind, PainScoreKind | undefined, PainScoreKind>;
  /** The check-in (the delivery) that asked; null for a text that answers none. */
  delivery_id: string | null;
  /** The enrolment's clinic, copied at insert; null: the public programme. */
  clinic_id: string | null;
  inbound_message_id: string | null;
  /** Set when a second answer to the same check-in replaced the first. */
  updated_at: NullableTimestamp;
}

/** A person who reported a warning sign: no tips on any channel until the hold is lifted. */
export interface SafetyHoldsTable {
  person_id: string;
  subscriber_id: string;
  inbound_message_id: string | null;
  signs: string;
  created_at: AutoTimestamp;
}

/** Append-only: warning signs reported, and holds lifted (by whom). */
export interface SafetyEventsTable {
  id: Generated<string>;
  person_id: string;
  subscriber_id: string | null;
  kind: string;
  source: string;
  signs: string | null;
  inbound_message_id: string | null;
  note: string | null;
  created_at: AutoTimestamp;
}

export type ConsentMode = 'confirm' | 'attested';

/** A tenant: a clinic that enrols its patients, and whose name its patients' messages carry. */
export interface ClinicsTable {
  id: Generated<string>;
  /** For its own signup page: /c/<slug>. */
  slug: string;
  name: string;
  timezone: string;
  sender_name: string;
  reply_to: string;
  phone: string;
  postal_address: string;
  booking_url: string;
  chiropractor_name: string | null;
  logo_url: string | null;
  /** Its own Twilio number or messaging service; null: the service's. */
  sms_from: string | null;
  /** Red flags: texted to this on-call mobile, and emailed here (else to the clinic's admins). */
  on_call_phone: string | null;
  alert_email: string | null;
  consent_mode: Generated<ConsentMode>;
  created_at: AutoTimestamp;
  updated_at: AutoTimestamp;
}

export type ApiKeyScope = 'enrollments:write' | 'enrollments:read' | 'import' | 'reports';

export interface ApiKeysTable {
  /** The public part of the key: sdk_live_<id>_<secret>. */
  id: string;
  clinic_id: string;
  name: string | null;
  /** SHA-256 of the secret part; the key itself is shown once and never stored. */
  secret_hash: Buffer;
  scopes: ApiKeyScope[];
  created_at: AutoTimestamp;
  /** A rotated key works until then. */
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

/** The first answer to a clinic's POST with an Idempotency-Key, replayed for 24 hours. */
export interface IdempotencyKeysTable {
  clinic_id: string;
  key: string;
  route: string;
  request_hash: string;
  /** null while the first request runs */
  response_status: number | null;
  response_body: unknown;
  created_at: AutoTimestamp;
}

export type StaffRole = 'staff' | 'admin';

/** A member of a clinic's staff, invited by an operator; signs in by an emailed link. */
export interface StaffUsersTable {
  id: Generated<string>;
  clinic_id: string;
  /** Lower-cased. */
  email: string;
  name: string;
  role: StaffRole;
  created_at: AutoTimestamp;
  last_sign_in_at: NullableTimestamp;
  disabled_at: NullableTimestamp;
}

/** A one-time login link: SHA-256 of its token, short-lived, used once. */
export interface LoginTokensTable {
  token_hash: Buffer;
  staff_user_id: string;
  created_at: AutoTimestamp;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  used_at: NullableTimestamp;
}

/** A signed-in browser: SHA-256 of the cookie's session id. */
export interface StaffSessionsTable {
  id_hash: Buffer;
  staff_user_id: string;
  created_at: AutoTimestamp;
  last_seen_at: AutoTimestamp;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  ended_at: NullableTimestamp;
}

/** Append-only: who did what, when, to which patient. */
export interface AuditLogTable {
  id: Generated<string>;
  clinic_id: string;
  staff_user_id: string | null;
  /** 'staff' | 'operator' | 'system' | 'patient' */
  actor: string;
  action: string;
  enrollment_id: string | null;
  subscriber_id: string | null;
  detail: unknown;
  created_at: AutoTimestamp;
}

/** A red-flag reply waiting for a clinic's acknowledgement. */
export interface TriageItemsTable {
  id: Generated<string>;
  clinic_id: string;
  enrollment_id: string;
  subscriber_id: string;
  source: string;
  signs: string;
  inbound_message_id: string | null;
  created_at: AutoTimestamp;
  acknowledged_at: NullableTimestamp;
  acknowledged_by: string | null;
  note: string | null;
  notified: string | null;
}

export type ImportStatus = 'receiving' | 'queued' | 'running' | 'completed' | 'rejected' | 'failed';
export type ImportRowStatus = 'pending' | 'enrolled' | 'invited' | 'failed';

/** One CSV upload by a clinic and its progress (src/clinics/import). */
export interface ImportJobsTable {
  id: Generated<string>;
  clinic_id: string;
  status: ImportStatus;
  dry_run: boolean;
  filename: string | null;
  /** 'api-key:<id>' or 'staff:<uuid>' */
  started_by: string;
  campaign_id: string;
  /** The file's columns, in its order. */
  columns: string[] | null;
  total_rows: Generated<number>;
  processed: Generated<number>;
  enrolled: Generated<number>;
  invited: Generated<number>;
  failed: Generated<number>;
  /** The last CSV row number done (header = 1). */
  checkpoint: Generated<number>;
  reason: string | null;
  lease_owner: string | null;
  lease_until: NullableTimestamp;
  created_at: AutoTimestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: AutoTimestamp;
}

/** A staged CSV row; kept after the import only when it failed (for the error report). */
export interface ImportRowsTable {
  import_id: string;
  row_number: number;
  data: ColumnType<Record<string, string>, string, string>;
  status: ImportRowStatus;
  error: string | null;
}

export type WebhookEventType =
  | 'enrollment.confirmed'
  | 'enrollment.completed'
  | 'enrollment.opted_out'
  | 'pain_score.received'
  | 'red_flag.raised';
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** A clinic's outbound webhook endpoint (src/clinic-webhooks). */
export interface WebhookEndpointsTable {
  id: Generated<string>;
  clinic_id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  secret: string;
  created_at: AutoTimestamp;
  disabled_at: NullableTimestamp;
}

/** One event for one endpoint: the outbox row, then its delivery log. */
export interface WebhookDeliveriesTable {
  id: Generated<string>;
  endpoint_id: string;
  clinic_id: string;
  event_id: string;
  event_type: WebhookEventType;
  enrollment_id: string | null;
  payload: unknown;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string, Date | string>;
  last_attempt_at: NullableTimestamp;
  response_status: number | null;
  last_error: string | null;
  created_at: ColumnType<Date, Date | string, Date | string>;
  delivered_at: NullableTimestamp;
}

export interface Database {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  staff_users: StaffUsersTable;
  login_tokens: LoginTokensTable;
  staff_sessions: StaffSessionsTable;
  audit_log: AuditLogTable;
  triage_items: TriageItemsTable;
  import_jobs: ImportJobsTable;
  import_rows: ImportRowsTable;
  clinics: ClinicsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  safety_holds: SafetyHoldsTable;
  safety_events: SafetyEventsTable;
  inbound_messages: InboundMessagesTable;
  pain_scores: PainScoresTable;
  subscribers: SubscribersTable;
  enrollments: EnrollmentsTable;
  deliveries: DeliveriesTable;
  suppressions: SuppressionsTable;
  consent_events: ConsentEventsTable;
}

export type Subscriber = Selectable<SubscribersTable>;
export type Enrollment = Selectable<EnrollmentsTable>;
export type NewEnrollment = Insertable<EnrollmentsTable>;
export type Delivery = Selectable<DeliveriesTable>;
export type Clinic = Selectable<ClinicsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type StaffUser = Selectable<StaffUsersTable>;
export type TriageItem = Selectable<TriageItemsTable>;
export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type ImportJob = Selectable<ImportJobsTable>;
