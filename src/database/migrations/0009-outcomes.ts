import { sql, type Kysely } from 'kysely';

/**
 * Pain outcomes. pain_scores now holds two scales, told apart by `kind`: 'nprs' (the 0-10
 * pain score, as before) and 'groc' (the global rating of change at the wrap-up, -3 much
 * worse .. +3 much better). Each answer may name the delivery (the check-in) that asked it;
 * one answer per check-in and scale, so a link tapped twice is stored once. The clinic is
 * copied from the enrolment, so a clinic's outcomes are read without touching other tenants.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('pain_scores')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('nprs'))
    .addColumn('delivery_id', 'uuid', (c) => c.references('deliveries.id').onDelete('set null'))
    .addColumn('clinic_id', 'uuid', (c) => c.references('clinics.id').onDelete('cascade'))
    .addColumn('inbound_message_id', 'uuid', (c) =>
      c.references('inbound_messages.id').onDelete('set null'),
    )
    .addColumn('updated_at', 'timestamptz')
    .execute();
  // Scores recorded before this migration: their clinic is their enrolment's.
  await sql`UPDATE pain_scores p SET clinic_id = e.clinic_id
            FROM enrollments e WHERE e.id = p.enrollment_id`.execute(db);
  await sql`ALTER TABLE pain_scores DROP CONSTRAINT IF EXISTS pain_scores_score_check`.execute(db);
  await sql`ALTER TABLE pain_scores ADD CONSTRAINT pain_scores_kind_check
            CHECK (kind IN ('nprs', 'groc'))`.execute(db);
  await sql`ALTER TABLE pain_scores ADD CONSTRAINT pain_scores_score_range CHECK (
              (kind = 'nprs' AND score BETWEEN 0 AND 10) OR
              (kind = 'groc' AND score BETWEEN -3 AND 3))`.execute(db);
  // NULLs are distinct: any number of answers that name no check-in (a free-standing text).
  await sql`CREATE UNIQUE INDEX pain_scores_check_in ON pain_scores (delivery_id, kind)`.execute(
    db,
  );
  await sql`CREATE INDEX pain_scores_enrollment ON pain_scores (enrollment_id, kind, created_at)`.execute(
    db,
  );
  await sql`CREATE INDEX pain_scores_clinic ON pain_scores (clinic_id, kind)
            WHERE clinic_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM pain_scores WHERE kind <> 'nprs'`.execute(db);
  await sql`DROP INDEX pain_scores_clinic`.execute(db);
  await sql`DROP INDEX pain_scores_enrollment`.execute(db);
  await sql`DROP INDEX pain_scores_check_in`.execute(db);
  await sql`ALTER TABLE pain_scores DROP CONSTRAINT pain_scores_score_range`.execute(db);
  await sql`ALTER TABLE pain_scores DROP CONSTRAINT pain_scores_kind_check`.execute(db);
  await db.schema
    .alterTable('pain_scores')
    .dropColumn('kind')
    .dropColumn('delivery_id')
    .dropColumn('clinic_id')
    .dropColumn('inbound_message_id')
    .dropColumn('updated_at')
    .execute();
  await sql`ALTER TABLE pain_scores ADD CONSTRAINT pain_scores_score_check
            CHECK (score BETWEEN 0 AND 10)`.execute(db);
}
