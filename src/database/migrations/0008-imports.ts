import type { Kysely } from 'kysely';

/** Placeholder: bulk CSV imports (filled in by the import work). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
