import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { DB, type Db, type Enrollment, type EnrollmentStatus } from '../database/index.js';

/** An enrolment with the contact details the clinic gave. */
export type ClinicEnrollmentRow = Enrollment & {
  email: string | null;
  phone: string | null;
  name: string | null;
};

/**
 * What a clinic may read of its patients: enrolments, their deliveries, pain scores and
 * consent events. Read only, and every query takes the clinic's id: a row of another clinic
 * is simply not found. Writes go through the modules that own the tables.
 */
@Injectable()
export class PatientRecordsRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  private enrollments(clinicId: string) {
    return this.db
      .selectFrom('enrollments')
      .innerJoin('subscribers', 'subscribers.id', 'enrollments.subscriber_id')
      .selectAll('enrollments')
      .select(['subscribers.email', 'subscribers.phone', 'subscribers.name'])
      .where('enrollments.clinic_id', '=', clinicId);
  }

  find(clinicId: string, id: string): Promise<ClinicEnrollmentRow | undefined> {
    return this.enrollments(clinicId).where('enrollments.id', '=', id).executeTakeFirst();
  }

  /** Newest first, `limit` at a time, after the (created_at, id) of the last one seen. */
  list(
    clinicId: string,
    filter: {
      status?: EnrollmentStatus;
      externalId?: string;
      after?: { createdAt: Date; id: string };
      limit: number;
    },
  ): Promise<ClinicEnrollmentRow[]> {
    let q = this.enrollments(clinicId);
    if (filter.status) q = q.where('enrollments.status', '=', filter.status);
    if (filter.externalId) q = q.where('enrollments.external_id', '=', filter.externalId);
    if (filter.after)
      q = q.where(
        sql<boolean>`(enrollments.created_at, enrollments.id) < (${filter.after.createdAt}, ${filter.after.id}::uuid)`,
      );
    return q
      .orderBy('enrollments.created_at', 'desc')
      .orderBy('enrollments.id', 'desc')
      .limit(filter.limit)
      .execute();
  }

  /**
   * The dashboard's patient list: newest first, `limit` from `offset`, with the total.
   * `q` matches part of a name or email, an externalId exactly, or the digits of a phone.
   */
  async search(
    clinicId: string,
    filter: { q?: string; status?: EnrollmentStatus; offset: number; limit: number },
  ): Promise<{ rows: ClinicEnrollmentRow[]; total: number }> {
    let q = this.enrollments(clinicId);
    if (filter.status) q = q.where('enrollments.status', '=', filter.status);
    const text = filter.q?.trim();
    if (text) {
      const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const digits = /[a-z@]/i.test(text) ? '' : text.replace(/\D/g, '');
      q = q.where((eb) =>
        eb.or([
          eb('subscribers.name', 'ilike', like),
          eb('subscribers.email', 'ilike', like),
          eb('enrollments.external_id', '=', text),
          ...(digits.length >= 3 ? [eb('subscribers.phone', 'like', `%${digits}%`)] : []),
        ]),
      );
    }
    const [rows, count] = await Promise.all([
      q
        .orderBy('enrollments.created_at', 'desc')
        .orderBy('enrollments.id', 'desc')
        .offset(filter.offset)
        .limit(filter.limit)
        .execute(),
      q
        .clearSelect()
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /** The clinic's figures: enrolments by status (and why they ended), failures and replies. */
  async overview(clinicId: string, since: Date) {
    const [byStatus, failures, replies] = await Promise.all([
      this.db
        .selectFrom('enrollments')
        .select(['status', 'cancel_reason', (eb) => eb.fn.countAll<string>().as('n')])
        .where('clinic_id', '=', clinicId)
        .groupBy(['status', 'cancel_reason'])
        .execute(),
      this.db
        .selectFrom('deliveries')
        .innerJoin('enrollments', 'enrollments.id', 'deliveries.enrollment_id')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('enrollments.clinic_id', '=', clinicId)
        .where('deliveries.status', '=', 'failed')
        .where('deliveries.updated_at', '>', since)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('inbound_messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('created_at', '>', since)
        .where('subscriber_id', 'in', (eb) =>
          eb.selectFrom('enrollments').select('subscriber_id').where('clinic_id', '=', clinicId),
        )
        .executeTakeFirstOrThrow(),
    ]);
    return {
      byStatus: byStatus.map((r) => ({
        status: r.status,
        cancelReason: r.cancel_reason,
        n: Number(r.n),
      })),
      failures: Number(failures.n),
      replies: Number(replies.n),
    };
  }

  deliveries(enrollmentId: string) {
    return this.db
      .selectFrom('deliveries')
      .select(['id', 'step', 'step_key', 'channel', 'status', 'error', 'created_at', 'sent_at'])
      .where('enrollment_id', '=', enrollmentId)
      .orderBy('step')
      .execute();
  }

  painScores(enrollmentId: string) {
    return this.db
      .selectFrom('pain_scores')
      .select(['score', 'source', 'created_at'])
      .where('enrollment_id', '=', enrollmentId)
      .where('kind', '=', 'nprs') // 0-10 scores only: ratings of change are on another scale
      .orderBy('created_at')
      .execute();
  }

  /**
   * The consent events behind this enrolment: the clinic's own (its attestation, the
   * patient's confirmation, an unsubscribe from its emails) and the person's own opt-outs
   * and opt-ins by SMS keyword,
   * which stop or restart every clinic's texts. Another clinic's events, and the public
   * form's, are not shown.
   */
  consentEvents(clinicId: string, e: Enrollment) {
    return this.db
      .selectFrom('consent_events')
      .select([
        'kind',
        'channel',
        'source',
        'method',
        'obtained_at',
        'collected_by',
        'text',
        'words',
        'created_at',
      ])
      .where('subscriber_id', '=', e.subscriber_id)
      .where((eb) =>
        eb.or([
          eb('clinic_id', '=', clinicId),
          eb.and([eb('clinic_id', 'is', null), eb('source', '=', 'sms-keyword')]),
        ]),
      )
      .orderBy('created_at')
      .execute();
  }
}
