import { Inject, Injectable } from '@nestjs/common';
import { DB, type Db, type Tx } from '../../database/index.js';

/** Who acted: a signed-in staff member, the operator (admin API), the patient or the service. */
export type AuditActor =
  | { kind: 'staff'; staffUserId: string }
  | { kind: 'operator' }
  | { kind: 'patient' }
  | { kind: 'system' };

export interface AuditEntry {
  clinicId: string;
  actor: AuditActor;
  /** What was done, as `thing.verb`: 'patient.paused', 'triage.acknowledged', 'staff.signed-in'. */
  action: string;
  enrollmentId?: string | null;
  subscriberId?: string | null;
  /** A few facts about it; never contact details. */
  detail?: Record<string, unknown>;
}

/** A row of the audit log as stored. */
export interface AuditRow {
  id: string;
  clinic_id: string;
  staff_user_id: string | null;
  actor: string;
  action: string;
  enrollment_id: string | null;
  subscriber_id: string | null;
  detail: unknown;
  created_at: Date;
}

export interface AuditView {
  id: string;
  at: Date;
  actor: string;
  staffUserId: string | null;
  staffName: string | null;
  action: string;
  enrollmentId: string | null;
  detail: Record<string, unknown> | null;
}

/**
 * The audit log: append-only, one row per staff action (and the operator's and the service's
 * actions on a clinic's patients), read by the clinic's admins. Written in the same
 * transaction as the action where there is one, so an action and its record stand or fall
 * together.
 */
@Injectable()
export class AuditService {
  constructor(@Inject(DB) private readonly db: Db) {}

  async record(entry: AuditEntry, tx?: Tx): Promise<void> {
    await (tx ?? this.db)
      .insertInto('audit_log')
      .values({
        clinic_id: entry.clinicId,
        staff_user_id: entry.actor.kind === 'staff' ? entry.actor.staffUserId : null,
        actor: entry.actor.kind,
        action: entry.action,
        enrollment_id: entry.enrollmentId ?? null,
        subscriber_id: entry.subscriberId ?? null,
        detail: entry.detail ? JSON.stringify(entry.detail) : null,
      })
      .execute();
  }

  /**
   * Data rights: the rows about a patient (by their subscriber rows or enrolments), oldest
   * first; only one clinic's when `clinicId` is given.
   */
  async aboutPatient(
    clinicId: string | null,
    subscriberIds: string[],
    enrollmentIds: string[],
  ): Promise<AuditRow[]> {
    if (subscriberIds.length === 0 && enrollmentIds.length === 0) return [];
    let q = this.db
      .selectFrom('audit_log')
      .selectAll()
      .where((eb) =>
        eb.or([
          ...(subscriberIds.length ? [eb('subscriber_id', 'in', subscriberIds)] : []),
          ...(enrollmentIds.length ? [eb('enrollment_id', 'in', enrollmentIds)] : []),
        ]),
      );
    if (clinicId) q = q.where('clinic_id', '=', clinicId);
    const rows = await q.orderBy('id').execute();
    return rows.map((r) => ({ ...r, id: String(r.id) }));
  }

  /**
   * Data rights: the rows about an erased patient stay (who did what, when) but no longer
   * say to whom, nor the detail (a warning sign, a note); one clinic's only when given.
   */
  async scrubPatient(
    tx: Tx,
    clinicId: string | null,
    subscriberIds: string[],
    enrollmentIds: string[],
  ): Promise<number> {
    if (subscriberIds.length === 0 && enrollmentIds.length === 0) return 0;
    let q = tx
      .updateTable('audit_log')
      .set({ subscriber_id: null, enrollment_id: null, detail: null })
      .where((eb) =>
        eb.or([
          ...(subscriberIds.length ? [eb('subscriber_id', 'in', subscriberIds)] : []),
          ...(enrollmentIds.length ? [eb('enrollment_id', 'in', enrollmentIds)] : []),
        ]),
      );
    if (clinicId) q = q.where('clinic_id', '=', clinicId);
    const done = await q.executeTakeFirst();
    return Number(done.numUpdatedRows);
  }

  /** Newest first; `before` is the id of the last row of the previous page. */
  async list(
    clinicId: string,
    opts: { enrollmentId?: string; before?: string; limit: number },
  ): Promise<AuditView[]> {
    let q = this.db
      .selectFrom('audit_log')
      .leftJoin('staff_users', 'staff_users.id', 'audit_log.staff_user_id')
      .select([
        'audit_log.id',
        'audit_log.created_at',
        'audit_log.actor',
        'audit_log.staff_user_id',
        'staff_users.name as staff_name',
        'audit_log.action',
        'audit_log.enrollment_id',
        'audit_log.detail',
      ])
      .where('audit_log.clinic_id', '=', clinicId);
    if (opts.enrollmentId) q = q.where('audit_log.enrollment_id', '=', opts.enrollmentId);
    if (opts.before && /^\d{1,18}$/.test(opts.before))
      q = q.where('audit_log.id', '<', opts.before);
    const rows = await q.orderBy('audit_log.id', 'desc').limit(opts.limit).execute();
    return rows.map((r) => ({
      id: String(r.id),
      at: r.created_at,
      actor: r.actor,
      staffUserId: r.staff_user_id,
      staffName: r.staff_name,
      action: r.action,
      enrollmentId: r.enrollment_id,
      detail: (r.detail as Record<string, unknown> | null) ?? null,
    }));
  }
}
