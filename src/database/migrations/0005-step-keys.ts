import { sql, type Kysely } from 'kysely';

/**
 * Steps are known by key, not by position (issue 7, item 12): editing a campaign's list of
 * steps must not shift anyone in flight.
 *
 * - `enrollments.step_key`: the step the enrolment waits on. NULL: the first step of the
 *   campaign (as it stands) that the person has not had, which is what a new enrolment and
 *   every enrolment from before this migration wait on. No backfill is needed for those:
 *   their deliveries already record the keys they have had.
 * - `enrollments.step` stays, now meaning how many steps have been queued (the next
 *   delivery's number, "Day N"), no longer an index into the campaign.
 * - The guard against a second delivery becomes (enrollment, step_key): "the same step" is
 *   the same key, wherever it has moved in the list.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('enrollments').addColumn('step_key', 'text').execute();
  // A campaign reordered before this fix could have sent one person the same key twice
  // (two positions mapped to it). Both rows stay, as history; the later is marked so the
  // new key can be unique.
  await sql`UPDATE deliveries AS d SET step_key = d.step_key || '#' || d.step
             WHERE EXISTS (SELECT 1 FROM deliveries AS o
                            WHERE o.enrollment_id = d.enrollment_id
                              AND o.step_key = d.step_key AND o.step < d.step)`.execute(db);
  await sql`ALTER TABLE deliveries DROP CONSTRAINT deliveries_once_per_step`.execute(db);
  await sql`ALTER TABLE deliveries ADD CONSTRAINT deliveries_once_per_step
              UNIQUE (enrollment_id, step_key)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE deliveries DROP CONSTRAINT deliveries_once_per_step`.execute(db);
  await sql`ALTER TABLE deliveries ADD CONSTRAINT deliveries_once_per_step
              UNIQUE (enrollment_id, step)`.execute(db);
  await db.schema.alterTable('enrollments').dropColumn('step_key').execute();
}
