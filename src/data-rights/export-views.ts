import type { AuditRow } from '../clinics/index.js';
import type { Enrollment, Subscriber } from '../database/index.js';

/*
 * The shapes of an export: plain JSON, dates as ISO strings, camelCase. Never a message
 * body we sent (none is stored); the bodies of replies the person sent are theirs.
 */

export interface AddressExport {
  subscriberId: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  createdAt: string;
}

export interface DeliveryExport {
  id: string;
  step: number;
  stepKey: string;
  channel: string;
  status: string;
  attempts: number;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
}

export interface EnrollmentExport {
  id: string;
  subscriberId: string;
  /** null (both): the public programme. */
  clinicId: string | null;
  clinicName: string | null;
  campaign: string;
  channel: string;
  status: string;
  step: number;
  stepKey: string | null;
  timezone: string;
  sendTime: string;
  source: string;
  externalId: string | null;
  pauseReason: string | null;
  cancelReason: string | null;
  nextSendAt: string | null;
  createdAt: string;
  updatedAt: string;
  deliveries: DeliveryExport[];
}

export interface PainScoreExport {
  id: string;
  at: string;
  subscriberId: string;
  enrollmentId: string | null;
  clinicId: string | null;
  /** nprs: 0-10 pain; groc: rating of change, -3..+3. */
  kind: string;
  score: number;
  source: string;
  deliveryId: string | null;
  updatedAt: string | null;
}

export interface TriageItemExport {
  id: string;
  at: string;
  clinicId: string;
  enrollmentId: string;
  subscriberId: string;
  source: string;
  signs: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  note: string | null;
  notified: string | null;
}

export interface AuditExport {
  id: string;
  at: string;
  clinicId: string;
  actor: string;
  staffUserId: string | null;
  action: string;
  enrollmentId: string | null;
  subscriberId: string | null;
  detail: Record<string, unknown> | null;
}

/** Everything held about one person: the operator's export. */
export interface PersonExport {
  exportedAt: string;
  personId: string;
  addresses: AddressExport[];
  enrollments: EnrollmentExport[];
  consentEvents: {
    subscriberId: string;
    at: string;
    kind: string;
    channel: string;
    source: string;
    clinicId: string | null;
    textVersion: string | null;
    campaign: string | null;
    text: string | null;
    words: string | null;
    ip: string | null;
    userAgent: string | null;
    method: string | null;
    obtainedAt: string | null;
    collectedBy: string | null;
  }[];
  suppressions: { address: string; channel: string; reason: string; at: string }[];
  inboundMessages: {
    id: string;
    at: string;
    subscriberId: string | null;
    fromPhone: string;
    kind: string;
    body: string;
  }[];
  painScores: PainScoreExport[];
  safetyHold: {
    held: boolean;
    since: string | null;
    signs: string | null;
    inboundMessageId: string | null;
  };
  safetyEvents: {
    id: string;
    at: string;
    subscriberId: string | null;
    kind: string;
    source: string;
    signs: string | null;
    inboundMessageId: string | null;
    note: string | null;
  }[];
  triageItems: TriageItemExport[];
  auditLog: AuditExport[];
}

/**
 * What one clinic holds about its patient: the clinic's export. Only the addresses its own
 * enrolments use, its enrolments and their deliveries, the consent events it may see, its
 * scores, triage items and audit rows. Nothing of another clinic or the public programme.
 */
export interface ClinicPatientExport {
  exportedAt: string;
  clinic: { id: string; name: string };
  addresses: AddressExport[];
  enrollments: EnrollmentExport[];
  consentEvents: {
    subscriberId: string;
    at: string;
    kind: string;
    channel: string;
    source: string;
    method: string | null;
    obtainedAt: string | null;
    collectedBy: string | null;
    text: string | null;
    words: string | null;
  }[];
  painScores: PainScoreExport[];
  triageItems: TriageItemExport[];
  auditLog: AuditExport[];
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const addressView = (s: Subscriber): AddressExport => ({
  subscriberId: s.id,
  email: s.email,
  phone: s.phone,
  name: s.name,
  createdAt: s.created_at.toISOString(),
});

export function enrollmentView(
  e: Enrollment,
  clinic: { id: string; name: string } | null,
  deliveries: DeliveryExport[],
): EnrollmentExport {
  return {
    id: e.id,
    subscriberId: e.subscriber_id,
    clinicId: clinic?.id ?? null,
    clinicName: clinic?.name ?? null,
    campaign: e.campaign_id,
    channel: e.channel,
    status: e.status,
    step: e.step,
    stepKey: e.step_key,
    timezone: e.timezone,
    sendTime: e.send_time,
    source: e.source,
    externalId: e.external_id,
    pauseReason: e.pause_reason,
    cancelReason: e.cancel_reason,
    nextSendAt: iso(e.next_send_at),
    createdAt: e.created_at.toISOString(),
    updatedAt: e.updated_at.toISOString(),
    deliveries,
  };
}

export function deliveryView(d: {
  id: string;
  step: number;
  step_key: string;
  channel: string;
  status: string;
  attempts: number;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}): DeliveryExport {
  return {
    id: d.id,
    step: d.step,
    stepKey: d.step_key,
    channel: d.channel,
    status: d.status,
    attempts: d.attempts,
    error: d.error,
    createdAt: d.created_at.toISOString(),
    updatedAt: d.updated_at.toISOString(),
    sentAt: iso(d.sent_at),
  };
}

export function painScoreView(p: {
  id: string;
  created_at: Date;
  subscriber_id: string;
  enrollment_id: string | null;
  clinic_id: string | null;
  kind: string;
  score: number;
  source: string;
  delivery_id: string | null;
  updated_at: Date | null;
}): PainScoreExport {
  return {
    id: p.id,
    at: p.created_at.toISOString(),
    subscriberId: p.subscriber_id,
    enrollmentId: p.enrollment_id,
    clinicId: p.clinic_id,
    kind: p.kind,
    score: p.score,
    source: p.source,
    deliveryId: p.delivery_id,
    updatedAt: iso(p.updated_at),
  };
}

export function triageView(t: {
  id: string;
  created_at: Date;
  clinic_id: string;
  enrollment_id: string;
  subscriber_id: string;
  source: string;
  signs: string;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  note: string | null;
  notified: string | null;
}): TriageItemExport {
  return {
    id: t.id,
    at: t.created_at.toISOString(),
    clinicId: t.clinic_id,
    enrollmentId: t.enrollment_id,
    subscriberId: t.subscriber_id,
    source: t.source,
    signs: t.signs,
    acknowledgedAt: iso(t.acknowledged_at),
    acknowledgedBy: t.acknowledged_by,
    note: t.note,
    notified: t.notified,
  };
}

export const auditView = (a: AuditRow): AuditExport => ({
  id: a.id,
  at: a.created_at.toISOString(),
  clinicId: a.clinic_id,
  actor: a.actor,
  staffUserId: a.staff_user_id,
  action: a.action,
  enrollmentId: a.enrollment_id,
  subscriberId: a.subscriber_id,
  detail: (a.detail as Record<string, unknown> | null) ?? null,
});
