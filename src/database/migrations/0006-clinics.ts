import { sql, type Kysely } from 'kysely';

/**
 * Clinics as tenants: their API keys, the Idempotency-Key record of their POSTs, and the
 * clinic of each enrolment and consent event. A public signup has no clinic (null).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('clinics')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('sender_name', 'text', (c) => c.notNull())
    .addColumn('reply_to', 'text', (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('postal_address', 'text', (c) => c.notNull())
    .addColumn('booking_url', 'text', (c) => c.notNull())
    .addColumn('chiropractor_name', 'text')
    .addColumn('logo_url', 'text')
    .addColumn('sms_from', 'text')
    // 'confirm': the patient confirms once (YES or the email button) before the tips start.
    // 'attested': the clinic holds written consent; the tips start on its word.
    .addColumn('consent_mode', 'text', (c) =>
      c
        .notNull()
        .defaultTo('confirm')
        .check(sql`consent_mode IN ('confirm', 'attested')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('api_keys')
    // The key's public id, part of the key itself: sdk_live_<id>_<secret>.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    .addColumn('name', 'text')
    .addColumn('secret_hash', 'bytea', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Set when rotated: the old key keeps working until then (the overlap window).
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX api_keys_clinic ON api_keys (clinic_id)`.execute(db);

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('route', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    // null while the first request is still running
    .addColumn('response_status', 'integer')
    .addColumn('response_body', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['clinic_id', 'key'])
    .execute();
  await sql`CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at)`.execute(db);

  await db.schema
    .alterTable('enrollments')
    .addColumn('clinic_id', 'uuid', (c) => c.references('clinics.id').onDelete('restrict'))
    .addColumn('external_id', 'text')
    .execute();
  // One live enrolment per person, campaign and clinic (null: the public programme): a
  // patient of two clinics can be in both clinics' programmes.
  await sql`DROP INDEX enrollments_live`.execute(db);
  await sql`CREATE UNIQUE INDEX enrollments_live ON enrollments
            (subscriber_id, campaign_id, coalesce(clinic_id, '00000000-0000-0000-0000-000000000000'::uuid))
            WHERE status IN ('pending','active','paused')`.execute(db);
  await sql`CREATE INDEX enrollments_clinic ON enrollments (clinic_id, created_at DESC, id DESC)
            WHERE clinic_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX enrollments_clinic_external ON enrollments (clinic_id, external_id)
            WHERE external_id IS NOT NULL`.execute(db);

  await db.schema
    .alterTable('consent_events')
    .addColumn('clinic_id', 'uuid', (c) => c.references('clinics.id').onDelete('set null'))
    // A clinic's attestation: how and when the patient agreed, and who took it.
    .addColumn('method', 'text')
    .addColumn('obtained_at', 'timestamptz')
    .addColumn('collected_by', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('consent_events')
    .dropColumn('clinic_id')
    .dropColumn('method')
    .dropColumn('obtained_at')
    .dropColumn('collected_by')
    .execute();
  await sql`DROP INDEX enrollments_live`.execute(db);
  await sql`DROP INDEX enrollments_clinic`.execute(db);
  await sql`DROP INDEX enrollments_clinic_external`.execute(db);
  await db.schema
    .alterTable('enrollments')
    .dropColumn('clinic_id')
    .dropColumn('external_id')
    .execute();
  await sql`CREATE UNIQUE INDEX enrollments_live ON enrollments (subscriber_id, campaign_id)
            WHERE status IN ('pending','active','paused')`.execute(db);
  await db.schema.dropTable('idempotency_keys').execute();
  await db.schema.dropTable('api_keys').execute();
  await db.schema.dropTable('clinics').execute();
}
