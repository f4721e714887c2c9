import { sql } from 'kysely';
import type { Db } from '../src/database/index.js';

/** What pg_stat_statements says of one statement over a phase. */
export interface StatementCost {
  calls: number;
  rows: number;
  totalMs: number;
  meanMs: number;
  /** Share of the phase's statement time in this database. */
  share: number;
  query: string;
}

/**
 * Per-phase statement costs from pg_stat_statements, when the server has it loaded
 * (`scripts/bench-profile.sh` starts a private cluster that does). Otherwise every call is a
 * no-op and `available` is false.
 */
export class StatementProfile {
  private constructor(
    private readonly db: Db,
    readonly available: boolean,
  ) {}

  static async open(db: Db): Promise<StatementProfile> {
    try {
      await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`.execute(db);
      await sql`SELECT pg_stat_statements_reset()`.execute(db);
      return new StatementProfile(db, true);
    } catch {
      // Not in shared_preload_libraries: the view errors on first read.
      return new StatementProfile(db, false);
    }
  }

  async reset(): Promise<void> {
    if (this.available) await sql`SELECT pg_stat_statements_reset()`.execute(this.db);
  }

  /** The `top` statements by total execution time since the last reset, in this database. */
  async top(top = 8): Promise<StatementCost[]> {
    if (!this.available) return [];
    const { rows } = await sql<{
      calls: string;
      rows: string;
      total: number;
      mean: number;
      share: number;
      query: string;
    }>`
      SELECT calls, rows, total_exec_time AS total, mean_exec_time AS mean,
             total_exec_time / NULLIF(sum(total_exec_time) OVER (), 0) AS share, query
        FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time DESC
       LIMIT ${top}`.execute(this.db);
    return rows.map((r) => ({
      calls: Number(r.calls),
      rows: Number(r.rows),
      totalMs: Math.round(r.total),
      meanMs: Number(r.mean.toFixed(3)),
      share: Number((r.share ?? 0).toFixed(3)),
      query: r.query.replace(/\s+/g, ' ').slice(0, 160),
    }));
  }
}
