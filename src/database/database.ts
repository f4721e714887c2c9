import {
  Kysely,
  Migrator,
  PostgresDialect,
  type MigrationProvider,
  type PostgresPool,
  type PostgresPoolClient,
} from 'kysely';
import pg from 'pg';
import {
  isConnectionError,
  registerEndpoint,
  reportOutage,
  reportRecovery,
} from '../common/index.js';
import type { Database } from './schema.js';
import { migrations } from './migrations/index.js';

export type Db = Kysely<Database>;
export const DB = Symbol('DB');

// timestamptz arrives as Date; bigint counts arrive as strings unless parsed.
pg.types.setTypeParser(20, (v) => Number(v));

export interface DbTimeouts {
  /**
   * How long getting a connection may take (a new one, or a free one from a busy pool) before
   * the query fails: with PostgreSQL unreachable a request answers 503 instead of hanging.
   */
  connectMs?: number;
  /** Server-side limit on one statement (lock waits included); 0 for none (migrations). */
  statementMs?: number;
  /**
   * Client-side limit on waiting for an answer, a little over `statementMs`: the backstop
   * when the network itself stalls and the server's own limit cannot reach us. 0 for none.
   */
  queryMs?: number;
}

const DEFAULT_TIMEOUTS: Required<DbTimeouts> = {
  connectMs: 2_000,
  statementMs: 30_000,
  queryMs: 35_000,
};

/**
 * A Kysely instance on a pg pool that survives PostgreSQL going away.
 *
 * Every client gets an 'error' listener for its whole life. pg-pool listens for errors only
 * on idle clients and removes its listener while a client is lent out; Kysely adds none. So
 * when the server drops a connection that is checked out but between two queries (inside a
 * transaction, or just acquired), the client emits 'error' with no listener, which Node turns
 * into an uncaught exception: the process exited with code 1 whenever its backends were
 * terminated under load. The error is counted as an outage here; the caller still sees it on
 * its next query ("not queryable"), and pg-pool discards the broken client on release.
 */
export function createDb(databaseUrl: string, max = 10, timeouts: DbTimeouts = {}): Db {
  const t = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: t.connectMs,
    ...(t.statementMs > 0 ? { statement_timeout: t.statementMs } : {}),
    ...(t.queryMs > 0 ? { query_timeout: t.queryMs } : {}),
    // Notice a silently dead peer eventually, even with no query running.
    keepAlive: true,
  });
  registerEndpoint('postgres', databaseUrl);
  // An idle client whose connection the server dropped: the pool discards it and tells us.
  pool.on('error', (err) => reportOutage('postgres', err));
  pool.on('connect', (client) => {
    client.on('error', (err) => reportOutage('postgres', err));
    reportRecovery('postgres'); // a new connection worked: PostgreSQL is reachable
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: tracked(pool) }) });
}

/**
 * The pool as Kysely sees it. A failure to connect or a connection error in a query counts
 * towards an outage, and an answer ends it. A client that hit a connection error or a
 * client-side timeout is destroyed on release instead of being lent out again (after a query
 * read timeout its connection is stuck behind the unanswered query).
 */
function tracked(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        if (!pool.ending) reportOutage('postgres', err); // not our own shutdown
        throw err;
      }
      const inner = client as unknown as PostgresPoolClient;
      let broken = false;
      const query = (...args: unknown[]): unknown => {
        const result = (inner.query as (...a: unknown[]) => unknown).apply(client, args);
        if (!(result instanceof Promise)) return result; // a cursor
        return result.then(
          (value) => {
            reportRecovery('postgres'); // an answer: reachable (nothing happens if it was)
            return value;
          },
          (err: unknown) => {
            if (isConnectionError(err)) {
              broken = true;
              reportOutage('postgres', err);
            }
            throw err;
          },
        );
      };
      return {
        query: query as PostgresPoolClient['query'],
        release: () => client.release(broken),
      };
    },
    end: () => pool.end(),
  };
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date; safe to run from several processes at once (Kysely locks). */
export async function migrate(db: Kysely<unknown>): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Creates the database named in the URL when it does not exist yet, so a newcomer's
 * `npm start` works against a bare PostgreSQL.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return;
  const probe = new pg.Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // created meanwhile by another instance
  } finally {
    await admin.end();
  }
}
