import { sql, type Kysely } from 'kysely';

/**
 * Deliveries that always end. An open delivery (queued or sending) carries `check_at`: the
 * moment the reconciler next looks at it. For `sending` it is the lease deadline of the
 * attempt in flight; for `queued` it is when to make sure a BullMQ job still exists for it.
 * `claimed_at` is when the current attempt started (the provider-log search starts there),
 * and `resolution` records how an unknown outcome was settled.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('deliveries')
    .addColumn('check_at', 'timestamptz')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('resolution', 'text')
    .execute();
  await sql`UPDATE deliveries SET check_at = updated_at + interval '2 minutes'
             WHERE status IN ('queued', 'sending')`.execute(db);
  await sql`DROP INDEX IF EXISTS deliveries_queued`.execute(db);
  // The reconciler reads only open deliveries that are due a look: O(due), not O(all).
  await sql`CREATE INDEX deliveries_open ON deliveries (check_at)
            WHERE status IN ('queued', 'sending')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS deliveries_open`.execute(db);
  await sql`CREATE INDEX deliveries_queued ON deliveries (updated_at) WHERE status = 'queued'`.execute(
    db,
  );
  await db.schema
    .alterTable('deliveries')
    .dropColumn('check_at')
    .dropColumn('claimed_at')
    .dropColumn('resolution')
    .execute();
}
