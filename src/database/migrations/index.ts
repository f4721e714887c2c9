import type { Migration } from 'kysely';
import * as m0001 from './0001-core.js';

/** Every migration, in order. Listed here (not read from disk) so the build needs no file globbing. */
export const migrations: Record<string, Migration> = {
  '0001-core': m0001,
};
