import type { Kysely } from 'kysely';

/** Placeholder: pain outcomes: check-ins and ratings of change (filled in by the outcomes work). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
