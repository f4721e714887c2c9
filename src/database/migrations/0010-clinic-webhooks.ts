import { sql, type Kysely } from 'kysely';

/**
 * Outbound webhooks: a clinic's endpoints (URL, the events it wants, its signing secret) and
 * the outbox of event deliveries. A delivery row is written in the same transaction as the
 * change it reports, so an event is never announced for a change that rolled back and never
 * lost for one that committed; the sender posts it, retries with backoff, and keeps the row
 * as the delivery log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('events', sql`text[]`, (c) => c.notNull())
    // The HMAC key, as given to the clinic once ("whsec_" + base64). Needed in the clear to
    // sign; never shown again after creation or rotation.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('disabled_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX webhook_endpoints_clinic ON webhook_endpoints (clinic_id)
            WHERE disabled_at IS NULL`.execute(db);

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'uuid', (c) =>
      c.notNull().references('webhook_endpoints.id').onDelete('cascade'),
    )
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    // The event's id: the same for every endpoint and every retry (receivers dedupe on it).
    .addColumn('event_id', 'uuid', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('enrollment_id', 'uuid', (c) => c.references('enrollments.id').onDelete('set null'))
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('pending', 'delivered', 'failed', 'cancelled')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // When a pending row is next due. A claim moves it a lease ahead, so a sender that dies
    // mid-post leaves a row that simply falls due again.
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_attempt_at', 'timestamptz')
    .addColumn('response_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('delivered_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
            WHERE status = 'pending'`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX webhook_deliveries_enrollment ON webhook_deliveries (enrollment_id)
            WHERE enrollment_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhook_endpoints').execute();
}
