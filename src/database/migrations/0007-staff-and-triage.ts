import { sql, type Kysely } from 'kysely';

/**
 * The clinic's workplace: staff users (invited by an operator), their one-time login links
 * and sessions, the audit log of what they do, and the triage queue of red-flag replies.
 * Tokens and session ids are stored as SHA-256 hashes only: a copy of the database signs
 * nobody in.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('staff_users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    // Lower-cased. One person may be staff of several clinics: one row each.
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('staff', 'admin')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_sign_in_at', 'timestamptz')
    // Set when removed: their sessions end and no new link is sent.
    .addColumn('disabled_at', 'timestamptz')
    .execute();
  await sql`CREATE UNIQUE INDEX staff_users_clinic_email ON staff_users (clinic_id, email)`.execute(
    db,
  );
  await sql`CREATE INDEX staff_users_email ON staff_users (email)`.execute(db);

  await db.schema
    .createTable('login_tokens')
    .addColumn('token_hash', 'bytea', (c) => c.primaryKey())
    .addColumn('staff_user_id', 'uuid', (c) =>
      c.notNull().references('staff_users.id').onDelete('cascade'),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX login_tokens_expiry ON login_tokens (expires_at)`.execute(db);

  await db.schema
    .createTable('staff_sessions')
    .addColumn('id_hash', 'bytea', (c) => c.primaryKey())
    .addColumn('staff_user_id', 'uuid', (c) =>
      c.notNull().references('staff_users.id').onDelete('cascade'),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .execute();
  await sql`CREATE INDEX staff_sessions_user ON staff_sessions (staff_user_id)`.execute(db);

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    // null: the operator (admin API) or the service itself; actor says which.
    .addColumn('staff_user_id', 'uuid', (c) => c.references('staff_users.id').onDelete('set null'))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('enrollment_id', 'uuid', (c) => c.references('enrollments.id').onDelete('set null'))
    .addColumn('subscriber_id', 'uuid', (c) => c.references('subscribers.id').onDelete('set null'))
    .addColumn('detail', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`CREATE INDEX audit_log_clinic ON audit_log (clinic_id, id DESC)`.execute(db);
  await sql`CREATE INDEX audit_log_subscriber ON audit_log (subscriber_id) WHERE subscriber_id IS NOT NULL`.execute(
    db,
  );

  await db.schema
    .createTable('triage_items')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    .addColumn('enrollment_id', 'uuid', (c) =>
      c.notNull().references('enrollments.id').onDelete('cascade'),
    )
    .addColumn('subscriber_id', 'uuid', (c) =>
      c.notNull().references('subscribers.id').onDelete('cascade'),
    )
    // 'sms' (a text) or 'email' (the reply link in an email)
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('signs', 'text', (c) => c.notNull())
    .addColumn('inbound_message_id', 'uuid', (c) =>
      c.references('inbound_messages.id').onDelete('set null'),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('acknowledged_by', 'uuid', (c) =>
      c.references('staff_users.id').onDelete('set null'),
    )
    .addColumn('note', 'text')
    // How the clinic was told: 'email', 'email+sms', or why not ('no-recipient').
    .addColumn('notified', 'text')
    .execute();
  await sql`CREATE INDEX triage_items_open ON triage_items (clinic_id, created_at)
            WHERE acknowledged_at IS NULL`.execute(db);
  await sql`CREATE INDEX triage_items_clinic ON triage_items (clinic_id, created_at DESC)`.execute(
    db,
  );

  // Where a clinic is told about a red flag: its on-call mobile (SMS), and an inbox (else its
  // clinic admins).
  await db.schema
    .alterTable('clinics')
    .addColumn('on_call_phone', 'text')
    .addColumn('alert_email', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clinics')
    .dropColumn('on_call_phone')
    .dropColumn('alert_email')
    .execute();
  await db.schema.dropTable('triage_items').execute();
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('staff_sessions').execute();
  await db.schema.dropTable('login_tokens').execute();
  await db.schema.dropTable('staff_users').execute();
}
