import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { CampaignsService } from '../campaigns/index.js';
import {
  AuditService,
  ClinicEnrollmentsService,
  PatientRecordsRepository,
  StaffAuthService,
  type ClinicCaller,
  type ClinicEnrollmentDetail,
  type StaffCaller,
} from '../clinics/index.js';

import { Clock, conflict, invalid, notFound, isUuid } from '../common/index.js';
import { DeliveriesRepository, QueuesService } from '../delivery/index.js';
import type { EnrollmentStatus } from '../database/index.js';
import { SafetyService } from '../enrollments/index.js';
import { OutcomesService, TriageService } from '../outcomes/index.js';

export const PAGE_SIZE = 25;
const STATUSES: readonly EnrollmentStatus[] = [
  'pending',
  'active',
  'paused',
  'completed',
  'cancelled',
];

/** What a status means to a front desk. */
export const STATUS_WORDS: Record<string, string> = {
  pending: 'Waiting for the patient to confirm',
  active: 'Receiving tips',
  paused: 'Paused',
  completed: 'Finished the programme',
  cancelled: 'Stopped',
};
const PAUSE_WORDS: Record<string, string> = {
  person: 'by the patient',
  operator: 'by the clinic',
  safety: 'safety hold: the patient reported a warning sign',
};
const CANCEL_WORDS: Record<string, string> = {
  stop: 'the patient texted STOP',
  unsubscribe: 'the patient unsubscribed',
  operator: 'stopped by the operator',
  clinic: 'stopped by the clinic',
  undeliverable: 'the address cannot receive messages',
  expired: 'never confirmed',
  'campaign-gone': 'the programme was withdrawn',
};

export type PatientAction = 'pause' | 'resume' | 'cancel';

/**
 * What the dashboard's pages show and do, for one signed-in member of staff. Every read and
 * write goes through the clinic-scoped services with the caller's clinic: another clinic's
 * patient is not found. Every change is in the audit log.
 */
@Injectable()
export class DashboardService {
  constructor(
    private readonly enrollments: ClinicEnrollmentsService,
    private readonly records: PatientRecordsRepository,
    private readonly campaigns: CampaignsService,
    private readonly deliveries: DeliveriesRepository,
    private readonly queues: QueuesService,
    private readonly triage: TriageService,
    private readonly outcomes: OutcomesService,
    private readonly audit: AuditService,
    private readonly auth: StaffAuthService,
    private readonly safety: SafetyService,
    private readonly clock: Clock,
  ) {}

  private caller(staff: StaffCaller): ClinicCaller {
    return { clinicId: staff.clinicId, keyId: `staff:${staff.staffUserId}`, scopes: [] };
  }

  async overview(staff: StaffCaller) {
    const since = new Date(this.clock.now().getTime() - 30 * 86_400_000);
    const [o, openTriage, outcomes] = await Promise.all([
      this.records.overview(staff.clinicId, since),
      this.triage.openCount(staff.clinicId),
      this.outcomes.forClinic(staff.clinicId),
    ]);
    const count = (f: (r: { status: string; cancelReason: string | null }) => boolean) =>
      o.byStatus.filter(f).reduce((n, r) => n + r.n, 0);
    const enrolled = count(() => true);
    const optedOut = count(
      (r) =>
        r.status === 'cancelled' && (r.cancelReason === 'stop' || r.cancelReason === 'unsubscribe'),
    );
    return {
      enrolled,
      pending: count((r) => r.status === 'pending'),
      active: count((r) => r.status === 'active'),
      paused: count((r) => r.status === 'paused'),
      completed: count((r) => r.status === 'completed'),
      stopped: count((r) => r.status === 'cancelled'),
      optedOut,
      optOutRate: enrolled === 0 ? '0%' : `${((100 * optedOut) / enrolled).toFixed(1)}%`,
      failures: o.failures,
      replies: o.replies,
      openTriage,
      outcomes: {
        ...outcomes,
        medianChangeWords:
          outcomes.medianChange === null
            ? null
            : outcomes.medianChange < 0
              ? `${-outcomes.medianChange} points better`
              : outcomes.medianChange > 0
                ? `${outcomes.medianChange} points worse`
                : 'no change',
        worsened: outcomes.worsened.map((w) => ({
          ...w,
          when: this.local(w.latestAt, staff.clinicTimezone),
        })),
      },
    };
  }

  async patients(staff: StaffCaller, query: Record<string, unknown>) {
    const q = typeof query.q === 'string' ? query.q.trim() : '';
    if (q.length > 100) throw invalid('q', 'must be at most 100 characters');
    const status =
      typeof query.status === 'string' && query.status !== '' ? query.status : undefined;
    if (status !== undefined && !STATUSES.includes(status as EnrollmentStatus))
      throw invalid('status', `must be one of ${STATUSES.join(', ')}`);
    const pageText = typeof query.page === 'string' && query.page !== '' ? query.page : '1';
    if (!/^\d{1,6}$/.test(pageText) || Number(pageText) < 1)
      throw invalid('page', 'must be a whole number from 1');
    const page = Number(pageText);
    const { rows, total } = await this.records.search(staff.clinicId, {
      q: q || undefined,
      status: status as EnrollmentStatus | undefined,
      offset: (page - 1) * PAGE_SIZE,
      limit: PAGE_SIZE,
    });
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const link = (p: number) =>
      `/clinic/patients?${new URLSearchParams({ ...(q ? { q } : {}), ...(status ? { status } : {}), page: String(p) })}`;
    return {
      q,
      status: status ?? '',
      statuses: STATUSES.map((s) => ({ value: s, label: STATUS_WORDS[s], selected: s === status })),
      total,
      page,
      pages,
      prev: page > 1 ? link(page - 1) : null,
      next: page < pages ? link(page + 1) : null,
      patients: rows.map((e) => ({
        id: e.id,
        name: e.name ?? '(no name given)',
        externalId: e.external_id,
        contact: e.channel === 'email' ? e.email : e.phone,
        channel: e.channel === 'email' ? 'Email' : 'SMS',
        status: STATUS_WORDS[e.status],
        nextSend: this.local(e.next_send_at, e.timezone),
      })),
    };
  }

  async patient(staff: StaffCaller, id: string) {
    const d = await this.enrollments.get(this.caller(staff), id);
    await this.audit.record({
      clinicId: staff.clinicId,
      actor: { kind: 'staff', staffUserId: staff.staffUserId },
      action: 'patient.viewed',
      enrollmentId: d.id,
    });
    const [triage, outcomes] = await Promise.all([
      this.triage.forEnrollment(staff.clinicId, d.id),
      this.outcomes.forPatient(staff.clinicId, d.id),
    ]);
    return { p: this.describe(d, triage), outcomes };
  }

  private describe(
    d: ClinicEnrollmentDetail,
    triage: Awaited<ReturnType<TriageService['forEnrollment']>>,
  ) {
    const campaign = this.campaigns.get(d.campaign);
    const total = campaign?.steps.length ?? d.deliveries.length;
    const sent = d.deliveries.filter((x) => x.status === 'sent' || x.status === 'delivered').length;
    const live = d.status === 'active' || d.status === 'paused' || d.status === 'pending';
    return {
      ...d,
      campaignName: campaign?.name ?? d.campaign,
      statusWords: STATUS_WORDS[d.status],
      why:
        d.status === 'paused' && d.pauseReason
          ? PAUSE_WORDS[d.pauseReason]
          : d.status === 'cancelled' && d.cancelReason
            ? CANCEL_WORDS[d.cancelReason]
            : null,
      held: d.status === 'paused' && d.pauseReason === 'safety',
      contact: d.channel === 'email' ? d.email : d.phone,
      channelWords: d.channel === 'email' ? 'Email' : 'SMS',
      progress: `${Math.min(d.deliveries.length, total)} of ${total}`,
      sent,
      total,
      nextSend: live ? this.local(d.nextSendAt ? new Date(d.nextSendAt) : null, d.timezone) : null,
      canPause: d.status === 'active',
      canResume: d.status === 'paused' && d.pauseReason !== 'safety',
      canLift: d.status === 'paused' && d.pauseReason === 'safety',
      canCancel: live,
      deliveryRows: d.deliveries.map((x, i) => ({
        ...x,
        number: i + 1,
        step: campaign?.steps.find((s) => s.key === x.stepKey)?.key ?? x.stepKey,
        when: this.local(new Date(x.sentAt ?? x.createdAt), d.timezone),
        canResend: x.status === 'failed' && (d.status === 'active' || d.status === 'completed'),
      })),
      consentRows: d.consentEvents.map((c) => ({
        ...c,
        when: this.local(new Date(c.at), d.timezone),
      })),
      scoreRows: d.painScores.map((s) => ({ ...s, when: this.local(new Date(s.at), d.timezone) })),
      triage: triage.map((t) => ({ ...t, when: this.local(t.createdAt, d.timezone) })),
    };
  }

  /** The patient, for a page that asks "are you sure?" before an action. */
  async confirmAction(staff: StaffCaller, id: string, action: string) {
    const p = await this.enrollments.get(this.caller(staff), id);
    if (!isAction(action)) throw notFound(`no action ${action}`);
    return {
      patient: { id: p.id, name: p.name ?? '(no name given)', externalId: p.externalId },
      action,
    };
  }

  async act(staff: StaffCaller, id: string, action: string): Promise<void> {
    if (!isAction(action)) throw notFound(`no action ${action}`);
    const caller = this.caller(staff);
    const before = await this.enrollments.get(caller, id);
    const after =
      action === 'pause'
        ? await this.enrollments.pause(caller, id)
        : action === 'resume'
          ? await this.enrollments.resume(caller, id)
          : await this.enrollments.cancel(caller, id);
    await this.audit.record({
      clinicId: staff.clinicId,
      actor: { kind: 'staff', staffUserId: staff.staffUserId },
      action: `patient.${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'cancelled'}`,
      enrollmentId: id,
      detail: { from: before.status, to: after.status },
    });
  }

  /** A patient on a safety hold, for the page that lifts it. */
  async heldPatient(staff: StaffCaller, id: string) {
    const e = isUuid(id) ? await this.records.find(staff.clinicId, id) : undefined;
    if (!e) throw notFound(`enrollment ${isUuid(id) ? id : '(malformed id)'} not found`);
    if (!(e.status === 'paused' && e.pause_reason === 'safety'))
      throw conflict('this patient is not on a safety hold');
    const open = (await this.triage.forEnrollment(staff.clinicId, e.id)).filter(
      (t) => t.acknowledgedAt === null,
    );
    return { e, patient: { id: e.id, name: e.name ?? '(no name given)' }, open: open.length };
  }

  /**
   * Lifts a safety hold once a clinician has seen the patient: the hold is the person's, so
   * it ends for every programme of theirs (the same as the admin API's lift). Only after the
   * red flags are acknowledged, and with a note, in the audit log.
   */
  async liftHold(staff: StaffCaller, id: string, rawNote: unknown): Promise<void> {
    const { e, open } = await this.heldPatient(staff, id);
    if (open > 0)
      throw conflict('acknowledge the open red flag in the triage queue first, then lift the hold');
    const note = typeof rawNote === 'string' ? rawNote.trim() : '';
    if (note.length === 0)
      throw invalid(
        'note',
        'say who saw the patient and what they found (for example: "seen by Dr Ruiz, cleared")',
      );
    if (note.length > 2000) throw invalid('note', 'must be at most 2,000 characters');
    const { resumed } = await this.safety.lift(e.subscriber_id, 'clinic', note);
    await this.audit.record({
      clinicId: staff.clinicId,
      actor: { kind: 'staff', staffUserId: staff.staffUserId },
      action: 'safety.hold-lifted',
      enrollmentId: e.id,
      subscriberId: e.subscriber_id,
      detail: { note, resumed },
    });
  }

  /** The delivery, for the "send it again?" page. */
  async confirmResend(staff: StaffCaller, id: string, deliveryId: string) {
    const p = await this.enrollments.get(this.caller(staff), id);
    const d = p.deliveries.find((x) => x.id === deliveryId);
    if (!d)
      throw notFound(`delivery ${isUuid(deliveryId) ? deliveryId : '(malformed id)'} not found`);
    return { patient: { id: p.id, name: p.name ?? '(no name given)' }, delivery: d };
  }

  async resend(staff: StaffCaller, id: string, deliveryId: string): Promise<void> {
    const { delivery } = await this.confirmResend(staff, id, deliveryId);
    if (delivery.status !== 'failed')
      throw conflict(
        `this message is ${delivery.status}, not failed; only a failed one can be sent again`,
      );
    const job = await this.deliveries.resendFailed(delivery.id, id);
    if (!job)
      throw conflict(
        'this message cannot be sent again now: the patient is not receiving tips (paused or stopped), or their address no longer accepts messages',
      );
    await this.queues.ensureJobs([job]);
    await this.audit.record({
      clinicId: staff.clinicId,
      actor: { kind: 'staff', staffUserId: staff.staffUserId },
      action: 'delivery.resent',
      enrollmentId: id,
      detail: { deliveryId: delivery.id, step: delivery.stepKey, error: delivery.error },
    });
  }

  async auditLog(staff: StaffCaller, before: unknown) {
    const rows = await this.audit.list(staff.clinicId, {
      before: typeof before === 'string' ? before : undefined,
      limit: 50,
    });
    return {
      rows: rows.map((r) => ({
        ...r,
        when: this.local(r.at, staff.clinicTimezone),
        who:
          r.staffName ??
          (r.actor === 'patient'
            ? 'The patient'
            : r.actor === 'operator'
              ? 'The operator'
              : 'The service'),
        detailText: r.detail ? describeDetail(r.detail) : '',
      })),
      next: rows.length === 50 ? `/clinic/audit?before=${rows[rows.length - 1]!.id}` : null,
    };
  }

  staffList(staff: StaffCaller) {
    return this.auth.list(staff.clinicId);
  }

  local(at: Date | null, zone: string): string | null {
    if (!at) return null;
    const t = DateTime.fromJSDate(at, { zone });
    return t.isValid ? t.toFormat('ccc d LLL yyyy, HH:mm ZZZZ') : at.toISOString();
  }
}

function isAction(a: string): a is PatientAction {
  return a === 'pause' || a === 'resume' || a === 'cancel';
}

function describeDetail(d: Record<string, unknown>): string {
  return Object.entries(d)
    .filter(([k]) => !/Id$/.test(k) || k === 'deliveryId')
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ');
}
