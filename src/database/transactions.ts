import { Inject, Injectable } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { DB, type Db } from './database.js';
import type { Database } from './schema.js';

/**
 * A unit of work in progress. Services pass it along to repositories and never look inside:
 * only repositories (the modules that own the tables) run SQL on it.
 */
export type Tx = Transaction<Database>;

/** The one way services open a transaction. */
@Injectable()
export class Transactions {
  constructor(@Inject(DB) private readonly db: Db) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }
}
