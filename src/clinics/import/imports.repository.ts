import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Clock } from '../../common/index.js';
import { DB, type Db, type ImportJob, type ImportStatus, type Tx } from '../../database/index.js';
import type { ImportColumn } from './csv-columns.js';
import type { StagedRow } from './csv-reader.js';

/** Statuses of an import still in flight; at most one per clinic (import_jobs_one_open). */
export const OPEN_STATUSES = ['receiving', 'queued', 'running'] as const satisfies ImportStatus[];

export interface StagedRecord {
  row_number: number;
  data: Record<string, string>;
  status: string;
  error: string | null;
}

export interface RowOutcome {
  rowNumber: number;
  status: 'enrolled' | 'invited' | 'failed';
  error?: string;
}

export interface BatchTotals {
  checkpoint: number;
  processed: number;
  enrolled: number;
  invited: number;
  failed: number;
}

/** The import_jobs and import_rows tables. Every read by a clinic takes its id. */
@Injectable()
export class ImportsRepository {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** A new import in 'receiving', or undefined when the clinic already has one in flight. */
  open(job: {
    clinicId: string;
    dryRun: boolean;
    filename: string | null;
    startedBy: string;
    campaignId: string;
    owner: string;
    leaseUntil: Date;
  }): Promise<ImportJob | undefined> {
    const now = this.clock.now();
    return this.db
      .insertInto('import_jobs')
      .values({
        clinic_id: job.clinicId,
        status: 'receiving',
        dry_run: job.dryRun,
        filename: job.filename,
        started_by: job.startedBy,
        campaign_id: job.campaignId,
        lease_owner: job.owner,
        lease_until: job.leaseUntil,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .column('clinic_id')
          .where('status', 'in', [...OPEN_STATUSES])
          .doNothing(),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /** The clinic's import in flight, if any. */
  findOpen(clinicId: string): Promise<ImportJob | undefined> {
    return this.db
      .selectFrom('import_jobs')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .where('status', 'in', [...OPEN_STATUSES])
      .executeTakeFirst();
  }

  find(clinicId: string, id: string): Promise<ImportJob | undefined> {
    return this.db
      .selectFrom('import_jobs')
      .selectAll()
      .where('id', '=', id)
      .where('clinic_id', '=', clinicId)
      .executeTakeFirst();
  }

  list(clinicId: string, limit: number): Promise<ImportJob[]> {
    return this.db
      .selectFrom('import_jobs')
      .selectAll()
      .where('clinic_id', '=', clinicId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** While the upload is read: keeps the lease alive and shows the rows read so far. */
  async heartbeat(id: string, owner: string, leaseUntil: Date, rowsSoFar: number): Promise<void> {
    await this.db
      .updateTable('import_jobs')
      .set({ lease_until: leaseUntil, total_rows: rowsSoFar, updated_at: this.clock.now() })
      .where('id', '=', id)
      .where('status', '=', 'receiving')
      .where('lease_owner', '=', owner)
      .execute();
  }

  async stageRows(tx: Tx, id: string, rows: StagedRow[]): Promise<void> {
    await tx
      .insertInto('import_rows')
      .values(
        rows.map((r) => ({
          import_id: id,
          row_number: r.rowNumber,
          data: JSON.stringify(r.data),
          status: r.error ? ('failed' as const) : ('pending' as const),
          error: r.error ?? null,
        })),
      )
      .execute();
  }

  /** The whole file is staged: ready for a worker (same transaction as the rows). */
  async markQueued(tx: Tx, id: string, totalRows: number, columns: ImportColumn[]): Promise<void> {
    await tx
      .updateTable('import_jobs')
      .set({
        status: 'queued',
        total_rows: totalRows,
        columns,
        lease_owner: null,
        lease_until: null,
        updated_at: this.clock.now(),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Ends an import that never got going (a refused file, a broken upload): no rows kept. */
  async end(id: string, status: 'rejected' | 'failed', reason: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('import_rows').where('import_id', '=', id).execute();
      await tx
        .updateTable('import_jobs')
        .set({
          status,
          reason,
          total_rows: 0,
          lease_owner: null,
          lease_until: null,
          finished_at: this.clock.now(),
          updated_at: this.clock.now(),
        })
        .where('id', '=', id)
        .where('status', 'in', [...OPEN_STATUSES])
        .execute();
    });
  }

  /**
   * Takes the lease of a queued or running import: free, expired, or already this owner's.
   * Undefined when another live worker holds it, or the import is over.
   */
  claim(id: string, owner: string, leaseUntil: Date): Promise<ImportJob | undefined> {
    const now = this.clock.now();
    return this.db
      .updateTable('import_jobs')
      .set({
        status: 'running',
        lease_owner: owner,
        lease_until: leaseUntil,
        started_at: sql<Date>`coalesce(started_at, ${now})`,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .where((eb) =>
        eb.or([
          eb('lease_owner', 'is', null),
          eb('lease_owner', '=', owner),
          eb('lease_until', 'is', null),
          eb('lease_until', '<', now),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /** The import, locked for a batch, if `owner` still holds its lease. */
  lockOwned(tx: Tx, id: string, owner: string): Promise<ImportJob | undefined> {
    return tx
      .selectFrom('import_jobs')
      .selectAll()
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('lease_owner', '=', owner)
      .forUpdate()
      .executeTakeFirst();
  }

  /** The next staged rows after the checkpoint, in file order. */
  nextRows(tx: Tx, id: string, after: number, limit: number): Promise<StagedRecord[]> {
    return tx
      .selectFrom('import_rows')
      .select(['row_number', 'data', 'status', 'error'])
      .where('import_id', '=', id)
      .where('row_number', '>', after)
      .orderBy('row_number')
      .limit(limit)
      .execute();
  }

  /**
   * Records a batch: rows done are dropped (their enrolments are the record), failed rows
   * keep their reason for the error report; the checkpoint and counts move on, and the
   * lease is extended. All in the batch's transaction, with its enrolments.
   */
  async recordBatch(
    tx: Tx,
    id: string,
    outcomes: RowOutcome[],
    totals: BatchTotals,
    leaseUntil: Date,
  ): Promise<void> {
    const done = outcomes.filter((o) => o.status !== 'failed').map((o) => o.rowNumber);
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (done.length > 0)
      await tx
        .deleteFrom('import_rows')
        .where('import_id', '=', id)
        .where('row_number', 'in', done)
        .execute();
    if (failed.length > 0)
      await sql`
        UPDATE import_rows r SET status = 'failed', error = u.error
        FROM unnest(${failed.map((f) => f.rowNumber)}::int[], ${failed.map((f) => f.error ?? '')}::text[])
          AS u(n, error)
        WHERE r.import_id = ${id} AND r.row_number = u.n`.execute(tx);
    await tx
      .updateTable('import_jobs')
      .set((eb) => ({
        checkpoint: totals.checkpoint,
        processed: eb('processed', '+', totals.processed),
        enrolled: eb('enrolled', '+', totals.enrolled),
        invited: eb('invited', '+', totals.invited),
        failed: eb('failed', '+', totals.failed),
        lease_until: leaseUntil,
        updated_at: this.clock.now(),
      }))
      .where('id', '=', id)
      .execute();
  }

  async complete(id: string, owner: string): Promise<void> {
    const now = this.clock.now();
    await this.db
      .updateTable('import_jobs')
      .set({
        status: 'completed',
        lease_owner: null,
        lease_until: null,
        finished_at: now,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }

  /** Gives the lease up (shutting down): another worker may take the import at once. */
  async releaseLease(id: string, owner: string): Promise<void> {
    await this.db
      .updateTable('import_jobs')
      .set({ lease_until: this.clock.now(), updated_at: this.clock.now() })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** Imports in flight whose holder is gone: an expired lease, or none (queued). */
  unattended(limit = 100): Promise<Pick<ImportJob, 'id' | 'status' | 'clinic_id'>[]> {
    const now = this.clock.now();
    return this.db
      .selectFrom('import_jobs')
      .select(['id', 'status', 'clinic_id'])
      .where('status', 'in', [...OPEN_STATUSES])
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .limit(limit)
      .execute();
  }

  /** Failed rows of an import, a page at a time, in file order. */
  failedRows(id: string, after: number, limit: number): Promise<StagedRecord[]> {
    return this.db
      .selectFrom('import_rows')
      .select(['row_number', 'data', 'status', 'error'])
      .where('import_id', '=', id)
      .where('status', '=', 'failed')
      .where('row_number', '>', after)
      .orderBy('row_number')
      .limit(limit)
      .execute();
  }

  /**
   * Savepoints: a batch that meets a concurrent change, or one row's failure, is undone
   * without losing the rest of the transaction.
   */
  async savepoint(tx: Tx, name: 'import_row' | 'import_batch' | 'import_dry_run'): Promise<void> {
    await sql`SAVEPOINT ${sql.raw(name)}`.execute(tx);
  }

  async rollbackTo(tx: Tx, name: 'import_row' | 'import_batch' | 'import_dry_run'): Promise<void> {
    await sql`ROLLBACK TO SAVEPOINT ${sql.raw(name)}`.execute(tx);
  }

  async releaseSavepoint(
    tx: Tx,
    name: 'import_row' | 'import_batch' | 'import_dry_run',
  ): Promise<void> {
    await sql`RELEASE SAVEPOINT ${sql.raw(name)}`.execute(tx);
  }
}
