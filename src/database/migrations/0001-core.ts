import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('subscribers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('subscribers_contact', sql`email IS NOT NULL OR phone IS NOT NULL`)
    .execute();
  await db.schema
    .createIndex('subscribers_email')
    .unique()
    .on('subscribers')
    .column('email')
    .where('email', 'is not', null)
    .execute();
  await db.schema
    .createIndex('subscribers_phone')
    .unique()
    .on('subscribers')
    .column('phone')
    .where('phone', 'is not', null)
    .execute();

  await db.schema
    .createTable('enrollments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('subscriber_id', 'uuid', (c) =>
      c.notNull().references('subscribers.id').onDelete('cascade'),
    )
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel IN ('email','sms')`))
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('send_time', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('active','paused','completed','cancelled')`),
    )
    .addColumn('step', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_send_at', 'timestamptz')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The scheduler's claim reads only this partial index, so a pass costs O(due), not O(all).
  await sql`CREATE INDEX enrollments_due ON enrollments (next_send_at) WHERE status = 'active'`.execute(
    db,
  );
  // One live enrolment per person and campaign.
  await sql`CREATE UNIQUE INDEX enrollments_live ON enrollments (subscriber_id, campaign_id)
            WHERE status IN ('active','paused')`.execute(db);

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('enrollment_id', 'uuid', (c) =>
      c.notNull().references('enrollments.id').onDelete('cascade'),
    )
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('step_key', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('queued','sending','sent','delivered','failed','skipped')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('provider_id', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    // The real guard against duplicates: a step can have only one delivery.
    .addUniqueConstraint('deliveries_once_per_step', ['enrollment_id', 'step'])
    .execute();
  await sql`CREATE INDEX deliveries_queued ON deliveries (updated_at) WHERE status = 'queued'`.execute(
    db,
  );
  await sql`CREATE INDEX deliveries_provider ON deliveries (provider_id) WHERE provider_id IS NOT NULL`.execute(
    db,
  );

  await db.schema
    .createTable('suppressions')
    .addColumn('address', 'text', (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('consent_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('subscriber_id', 'uuid', (c) =>
      c.notNull().references('subscribers.id').onDelete('cascade'),
    )
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('text_version', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('consent_events_subscriber')
    .on('consent_events')
    .columns(['subscriber_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['consent_events', 'suppressions', 'deliveries', 'enrollments', 'subscribers']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
