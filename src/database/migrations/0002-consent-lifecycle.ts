import { sql, type Kysely } from 'kysely';

/** Double opt-in (pending enrolments), timed pauses, SMS replies and pain scores. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE enrollments DROP CONSTRAINT enrollments_status_check`.execute(db);
  await sql`ALTER TABLE enrollments ADD CONSTRAINT enrollments_status_check
            CHECK (status IN ('pending','active','paused','completed','cancelled'))`.execute(db);
  await sql`DROP INDEX enrollments_live`.execute(db);
  await sql`CREATE UNIQUE INDEX enrollments_live ON enrollments (subscriber_id, campaign_id)
            WHERE status IN ('pending','active','paused')`.execute(db);
  await db.schema
    .alterTable('enrollments')
    .addColumn('paused_until', 'timestamptz')
    .addColumn('confirm_sent_at', 'timestamptz')
    .addColumn('confirm_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cancel_reason', 'text')
    .execute();
  await sql`CREATE INDEX enrollments_pause_ends ON enrollments (paused_until) WHERE status = 'paused' AND paused_until IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX enrollments_pending ON enrollments (created_at) WHERE status = 'pending'`.execute(
    db,
  );
  await sql`CREATE INDEX enrollments_subscriber ON enrollments (subscriber_id)`.execute(db);

  await db.schema
    .createTable('inbound_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('provider_id', 'text', (c) => c.unique())
    .addColumn('from_phone', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subscriber_id', 'uuid', (c) => c.references('subscribers.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('pain_scores')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('subscriber_id', 'uuid', (c) =>
      c.notNull().references('subscribers.id').onDelete('cascade'),
    )
    .addColumn('enrollment_id', 'uuid', (c) => c.references('enrollments.id').onDelete('set null'))
    .addColumn('score', 'integer', (c) => c.notNull().check(sql`score BETWEEN 0 AND 10`))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('pain_scores_subscriber')
    .on('pain_scores')
    .columns(['subscriber_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pain_scores').execute();
  await db.schema.dropTable('inbound_messages').execute();
  await db.schema
    .alterTable('enrollments')
    .dropColumn('paused_until')
    .dropColumn('confirm_sent_at')
    .dropColumn('confirm_count')
    .dropColumn('cancel_reason')
    .execute();
}
