import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { DB, type Db, type TriageItem, type Tx } from '../database/index.js';

/** A triage item with the patient it is about, for the clinic's queue. */
export type TriageRow = TriageItem & {
  name: string | null;
  external_id: string | null;
  acknowledged_by_name: string | null;
};

/** The triage queue's SQL. Every read for a clinic takes the clinic's id. */
@Injectable()
export class TriageRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  /**
   * The clinics whose programme the person is in (or finished lately), with the enrolment of
   * each that an item points at: the newest one.
   */
  async clinicsOfPerson(
    tx: Tx,
    personId: string,
    since: Date,
  ): Promise<
    {
      clinic_id: string;
      enrollment_id: string;
      subscriber_id: string;
      external_id: string | null;
    }[]
  > {
    const { rows } = await sql<{
      clinic_id: string;
      enrollment_id: string;
      subscriber_id: string;
      external_id: string | null;
    }>`
      SELECT DISTINCT ON (e.clinic_id) e.clinic_id, e.id AS enrollment_id, e.subscriber_id,
             e.external_id
        FROM enrollments e
        JOIN subscribers s ON s.id = e.subscriber_id
       WHERE s.person_id = ${personId}
         AND e.clinic_id IS NOT NULL
         AND (e.status IN ('pending', 'active', 'paused') OR e.updated_at > ${since})
       ORDER BY e.clinic_id, e.created_at DESC`.execute(tx);
    return rows;
  }

  /** Whether the person has an open item from this source since `since` (a repeat report). */
  async recentOpen(tx: Tx, personId: string, source: string, since: Date): Promise<boolean> {
    const row = await tx
      .selectFrom('triage_items as t')
      .innerJoin('subscribers as s', 's.id', 't.subscriber_id')
      .select('t.id')
      .where('s.person_id', '=', personId)
      .where('t.source', '=', source)
      .where('t.acknowledged_at', 'is', null)
      .where('t.created_at', '>', since)
      .executeTakeFirst();
    return row !== undefined;
  }

  async insert(
    tx: Tx,
    item: {
      clinicId: string;
      enrollmentId: string;
      subscriberId: string;
      source: string;
      signs: string;
      inboundMessageId: string | null;
      at: Date;
    },
  ): Promise<TriageItem> {
    return tx
      .insertInto('triage_items')
      .values({
        clinic_id: item.clinicId,
        enrollment_id: item.enrollmentId,
        subscriber_id: item.subscriberId,
        source: item.source,
        signs: item.signs,
        inbound_message_id: item.inboundMessageId,
        created_at: item.at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  private listQuery(clinicId: string) {
    return this.db
      .selectFrom('triage_items as t')
      .innerJoin('subscribers as s', 's.id', 't.subscriber_id')
      .innerJoin('enrollments as e', 'e.id', 't.enrollment_id')
      .leftJoin('staff_users as u', 'u.id', 't.acknowledged_by')
      .selectAll('t')
      .select(['s.name', 'e.external_id', 'u.name as acknowledged_by_name'])
      .where('t.clinic_id', '=', clinicId);
  }

  /** Open items oldest first, then the latest acknowledged ones. */
  async list(
    clinicId: string,
    acknowledgedLimit: number,
  ): Promise<{ open: TriageRow[]; done: TriageRow[] }> {
    const [open, done] = await Promise.all([
      this.listQuery(clinicId)
        .where('t.acknowledged_at', 'is', null)
        .orderBy('t.created_at')
        .execute(),
      this.listQuery(clinicId)
        .where('t.acknowledged_at', 'is not', null)
        .orderBy('t.acknowledged_at', 'desc')
        .limit(acknowledgedLimit)
        .execute(),
    ]);
    return { open, done };
  }

  forEnrollment(clinicId: string, enrollmentId: string): Promise<TriageRow[]> {
    return this.listQuery(clinicId)
      .where('t.enrollment_id', '=', enrollmentId)
      .orderBy('t.created_at', 'desc')
      .execute();
  }

  find(clinicId: string, id: string): Promise<TriageRow | undefined> {
    return this.listQuery(clinicId).where('t.id', '=', id).executeTakeFirst();
  }

  /** Acknowledges an open item; undefined when it is not this clinic's or already done. */
  acknowledge(
    tx: Tx,
    clinicId: string,
    id: string,
    by: string,
    note: string,
    at: Date,
  ): Promise<TriageItem | undefined> {
    return tx
      .updateTable('triage_items')
      .set({ acknowledged_at: at, acknowledged_by: by, note })
      .where('clinic_id', '=', clinicId)
      .where('id', '=', id)
      .where('acknowledged_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  /** Items nobody has been told about yet (a crash, or a mail server down), oldest first. */
  unnotified(before: Date, limit: number): Promise<TriageItem[]> {
    return this.db
      .selectFrom('triage_items')
      .selectAll()
      .where('notified', 'is', null)
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  /** Records how the clinic was told; only the first record counts. */
  async markNotified(id: string, how: string): Promise<boolean> {
    const r = await this.db
      .updateTable('triage_items')
      .set({ notified: how })
      .where('id', '=', id)
      .where('notified', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Open items across all clinics: those within the hour, and those older. */
  async openCounts(now: Date): Promise<{ recent: number; overdue: number; oldestSeconds: number }> {
    const hourAgo = new Date(now.getTime() - 3_600_000);
    const r = await this.db
      .selectFrom('triage_items')
      .select([
        sql<string>`count(*) FILTER (WHERE created_at >= ${hourAgo})`.as('recent'),
        sql<string>`count(*) FILTER (WHERE created_at < ${hourAgo})`.as('overdue'),
        sql<Date | null>`min(created_at)`.as('oldest'),
      ])
      .where('acknowledged_at', 'is', null)
      .executeTakeFirstOrThrow();
    return {
      recent: Number(r.recent),
      overdue: Number(r.overdue),
      oldestSeconds: r.oldest
        ? Math.max(0, (now.getTime() - new Date(r.oldest).getTime()) / 1000)
        : 0,
    };
  }

  /** Open items per clinic, for the dashboard's navigation and overview. */
  async openCount(clinicId: string): Promise<number> {
    const r = await this.db
      .selectFrom('triage_items')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('clinic_id', '=', clinicId)
      .where('acknowledged_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
