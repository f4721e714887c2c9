import { Inject, Injectable } from '@nestjs/common';
import { DB, type Db, type Tx } from '../database/index.js';

/**
 * Pain scores and triage items, as data rights and retention need them. These tables are
 * the outcomes module's; its files were being changed by another hand when this was
 * written, so these few statements live here, each one narrow, until they move to
 * OutcomesRepository and TriageRepository (see docs/data-rights.md).
 */
@Injectable()
export class OutcomeRecordsRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  /** Scores and ratings of these subscriber rows; one clinic's only when `clinicId` is given. */
  painScoresOf(subscriberIds: string[], clinicId: string | null) {
    if (subscriberIds.length === 0) return Promise.resolve([]);
    let q = this.db
      .selectFrom('pain_scores')
      .selectAll()
      .where('subscriber_id', 'in', subscriberIds);
    if (clinicId) q = q.where('clinic_id', '=', clinicId);
    return q.orderBy('created_at').execute();
  }

  /** Triage items of these subscriber rows; one clinic's only when `clinicId` is given. */
  triageItemsOf(subscriberIds: string[], clinicId: string | null) {
    if (subscriberIds.length === 0) return Promise.resolve([]);
    let q = this.db
      .selectFrom('triage_items')
      .selectAll()
      .where('subscriber_id', 'in', subscriberIds);
    if (clinicId) q = q.where('clinic_id', '=', clinicId);
    return q.orderBy('created_at').execute();
  }

  /** One clinic's scores of these rows (an enrolment's deletion only unlinks them). */
  async deleteClinicPainScores(tx: Tx, subscriberIds: string[], clinicId: string): Promise<number> {
    if (subscriberIds.length === 0) return 0;
    const gone = await tx
      .deleteFrom('pain_scores')
      .where('subscriber_id', 'in', subscriberIds)
      .where('clinic_id', '=', clinicId)
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /** Retention: deletes up to `limit` scores given before `before`; returns how many. */
  async purgePainScores(before: Date, limit: number): Promise<number> {
    const gone = await this.db
      .deleteFrom('pain_scores')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('pain_scores')
          .select('id')
          // A replaced answer counts from its replacement.
          .where((w) => w.fn.coalesce('updated_at', 'created_at'), '<', before)
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }
}
