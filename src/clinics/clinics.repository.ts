import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Clock } from '../common/index.js';
import {
  DB,
  type ApiKey,
  type ApiKeyScope,
  type Clinic,
  type ClinicsTable,
  type Db,
  type Tx,
} from '../database/index.js';
import type { Insertable, Updateable } from 'kysely';

type Executor = Db | Tx;

/** The clinics, their API keys and the record of their idempotent POSTs. */
@Injectable()
export class ClinicsRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  insert(row: Omit<Insertable<ClinicsTable>, 'created_at' | 'updated_at'>): Promise<Clinic> {
    const now = this.clock.now();
    return this.db
      .insertInto('clinics')
      .values({ ...row, created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Undefined when the slug is taken. */
  async insertUnlessSlugTaken(
    row: Omit<Insertable<ClinicsTable>, 'created_at' | 'updated_at'>,
  ): Promise<Clinic | undefined> {
    const now = this.clock.now();
    return this.db
      .insertInto('clinics')
      .values({ ...row, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('slug').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  list(): Promise<Clinic[]> {
    return this.db.selectFrom('clinics').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  find(id: string, trx: Executor = this.db): Promise<Clinic | undefined> {
    return trx.selectFrom('clinics').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findBySlug(slug: string): Promise<Clinic | undefined> {
    return this.db.selectFrom('clinics').selectAll().where('slug', '=', slug).executeTakeFirst();
  }

  update(
    id: string,
    changes: Omit<Updateable<ClinicsTable>, 'id' | 'created_at' | 'updated_at' | 'slug'>,
  ): Promise<Clinic | undefined> {
    return this.db
      .updateTable('clinics')
      .set({ ...changes, updated_at: this.clock.now() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  insertKey(row: {
    id: string;
    clinic_id: string;
    name: string | null;
    secret_hash: Buffer;
    scopes: ApiKeyScope[];
  }): Promise<ApiKey> {
    return this.db
      .insertInto('api_keys')
      .values({
        ...row,
        scopes: sql<ApiKeyScope[]>`${row.scopes}::text[]`,
        created_at: this.clock.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  findKey(id: string): Promise<ApiKey | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  keysOf(clinicId: string): Promise<ApiKey[]> {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .orderBy('created_at')
      .execute();
  }

  /** Revokes a key of this clinic now; undefined when the clinic has no such key. */
  revokeKey(clinicId: string, keyId: string): Promise<ApiKey | undefined> {
    return this.db
      .updateTable('api_keys')
      .set({ revoked_at: sql`coalesce(revoked_at, ${this.clock.now()})` })
      .where('id', '=', keyId)
      .where('clinic_id', '=', clinicId)
      .returningAll()
      .executeTakeFirst();
  }

  /** Makes a key stop working at `at` (rotation's overlap), unless it ends sooner already. */
  expireKey(clinicId: string, keyId: string, at: Date): Promise<ApiKey | undefined> {
    return this.db
      .updateTable('api_keys')
      .set({ expires_at: sql`least(coalesce(expires_at, ${at}), ${at})` })
      .where('id', '=', keyId)
      .where('clinic_id', '=', clinicId)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  /** Forgets the answers to idempotent requests made before `before`. */
  async forgetIdempotencyKeys(before: Date): Promise<number> {
    const gone = await this.db
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /** Records a use, at most once a minute per key (no write on every request). */
  async touchKey(id: string, now: Date): Promise<void> {
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('last_used_at', 'is', null),
          eb('last_used_at', '<', new Date(now.getTime() - 60_000)),
        ]),
      )
      .execute();
  }
}
