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
