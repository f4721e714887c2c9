import { Inject, Injectable } from '@nestjs/common';
import { DB, type Db, type Enrollment } from '../database/index.js';

/**
 * The reads the consent export needs beyond subscribers' tables. Read only: the enrolments
 * are written by enrollments alone (consent must not depend on it, as enrollments records
 * consent evidence).
 */
@Injectable()
export class ConsentRepository {
  constructor(@Inject(DB) private readonly db: Db) {}

  /** The person's enrolments, newest first (as EnrollmentsRepository.forSubscriber). */
  enrollmentsOf(subscriberId: string): Promise<Enrollment[]> {
    return this.db
      .selectFrom('enrollments')
      .selectAll()
      .where('subscriber_id', '=', subscriberId)
      .orderBy('created_at', 'desc')
      .execute();
  }
}
