import { sql, type Kysely } from 'kysely';

/**
 * Bulk CSV imports by clinics. `import_jobs` is one upload and its progress; `import_rows`
 * holds each staged row until it is done (rows that failed stay, for the error report).
 * At most one import per clinic is in flight: a partial unique index is the guard.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('import_jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clinic_id', 'uuid', (c) => c.notNull().references('clinics.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`status IN ('receiving', 'queued', 'running', 'completed', 'rejected', 'failed')`,
        ),
    )
    .addColumn('dry_run', 'boolean', (c) => c.notNull())
    .addColumn('filename', 'text')
    .addColumn('started_by', 'text', (c) => c.notNull())
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    // The file's columns, in its order (for the error report).
    .addColumn('columns', sql`text[]`)
    .addColumn('total_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('processed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('enrolled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('invited', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    // The last CSV row number done (the header is row 1); work resumes after it.
    .addColumn('checkpoint', 'integer', (c) => c.notNull().defaultTo(1))
    // Why the file was rejected, or why the job failed.
    .addColumn('reason', 'text')
    // The process working on it (receiving the upload, or enrolling) and until when.
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`CREATE UNIQUE INDEX import_jobs_one_open ON import_jobs (clinic_id)
            WHERE status IN ('receiving', 'queued', 'running')`.execute(db);
  await sql`CREATE INDEX import_jobs_clinic ON import_jobs (clinic_id, created_at DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX import_jobs_leases ON import_jobs (lease_until)
            WHERE status IN ('receiving', 'queued', 'running')`.execute(db);

  await db.schema
    .createTable('import_rows')
    .addColumn('import_id', 'uuid', (c) =>
      c.notNull().references('import_jobs.id').onDelete('cascade'),
    )
    .addColumn('row_number', 'integer', (c) => c.notNull())
    // The row's cells by column name, as uploaded.
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('pending', 'enrolled', 'invited', 'failed')`),
    )
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('import_rows_pk', ['import_id', 'row_number'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('import_rows').execute();
  await db.schema.dropTable('import_jobs').execute();
}
