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
  /** Why it was cancelled: 'stop' (SMS keyword), 'unsubscribe', 'operator', 'expired'. */
  cancel_reason: string | null;
  /** Why it is paused: 'person' (preferences), 'operator', or 'safety' (a warning sign). */
  pause_reason: string | null;
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
  kind: string;
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

export interface PainScoresTable {
  id: Generated<string>;
  subscriber_id: string;
  enrollment_id: string | null;
  score: number;
  source: string;
  created_at: AutoTimestamp;
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

export interface Database {
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
