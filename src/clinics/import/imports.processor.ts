import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import { Clock, DomainError, isConnectionError, safeError } from '../../common/index.js';
import {
  Transactions,
  type Clinic,
  type Enrollment,
  type ImportJob,
  type Tx,
} from '../../database/index.js';
import { QueuesService } from '../../delivery/index.js';
import {
  BatchSurprise,
  ClinicEnrollmentsService,
  type BatchResult,
} from '../clinic-enrollments.service.js';
import { ClinicsRepository } from '../clinics.repository.js';
import { describeFailure, readRow, type ReadRow, type RowCells } from './import-row.js';
import { ImportsRepository, type BatchTotals, type RowOutcome } from './imports.repository.js';

/** How long a worker's hold on an import lasts without news; each batch extends it. */
export const IMPORT_LEASE_MS = 60_000;
export const IMPORT_BATCH_SIZE = 200;

/** A staged row that read as an enrol body or an invitation. */
interface ReadableRow {
  rowNumber: number;
  cells: RowCells;
  read: Extract<ReadRow, { ok: true }>;
}

export type ProcessResult = 'completed' | 'busy' | 'stopped' | 'gone';

/**
 * Enrols the staged rows of an import, a batch at a time. Each batch is one transaction: its
 * enrolments, the rows' outcomes, the counts and the checkpoint (the last row done) commit
 * together, so a crash loses a whole batch or nothing, and work resumes after the checkpoint.
 * A row that fails is undone to its savepoint and reported; the batch goes on. A dry run
 * does the same work and then rolls the batch's enrolments back, keeping only the outcomes.
 * The lease (owner + deadline in import_jobs) keeps a second worker off a live import.
 */
@Injectable()
export class ImportsProcessor {
  private readonly logger = new Logger(ImportsProcessor.name);
  /** This process, as a lease owner. */
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private stopping = false;
  /**
   * Enrol every batch a row at a time (the path a batch falls back to), never all at once.
   * For tests and the benchmark's before/after figures.
   */
  rowByRow = false;
  /** Batches that met a concurrent change or an unexpected error and were redone row by row. */
  redone = 0;

  constructor(
    private readonly transactions: Transactions,
    private readonly imports: ImportsRepository,
    private readonly clinics: ClinicsRepository,
    private readonly enrolments: ClinicEnrollmentsService,
    private readonly queues: QueuesService,
    private readonly clock: Clock,
  ) {}

  /** Ends the current batch and gives the lease up (shutdown). */
  stop(): void {
    this.stopping = true;
  }

  private leaseUntil(): Date {
    return new Date(this.clock.now().getTime() + IMPORT_LEASE_MS);
  }

  /** Runs an import to its end, unless another live worker holds it ('busy'). */
  async process(importId: string, opts: { batchSize?: number } = {}): Promise<ProcessResult> {
    const job = await this.claim(importId, this.owner);
    if (!job) return 'busy';
    const clinic = await this.clinics.find(job.clinic_id);
    if (!clinic) return 'gone';
    this.logger.log(
      { importId, clinicId: clinic.id, checkpoint: job.checkpoint, dryRun: job.dry_run },
      job.checkpoint > 1 ? 'import resumed' : 'import started',
    );
    for (;;) {
      if (this.stopping) {
        await this.imports.releaseLease(importId, this.owner);
        return 'stopped';
      }
      const more = await this.runBatch(job, clinic, this.owner, opts.batchSize);
      if (!more) break;
    }
    await this.imports.complete(importId, this.owner);
    this.logger.log({ importId, clinicId: clinic.id }, 'import completed');
    return 'completed';
  }

  /** Takes the import's lease for `owner`; undefined when a live worker holds it. */
  claim(importId: string, owner: string): Promise<ImportJob | undefined> {
    return this.imports.claim(importId, owner, this.leaseUntil());
  }

  /**
   * One batch after the checkpoint, in one transaction. False when no row is left. Throws
   * LeaseLost when `owner` no longer holds the lease (another worker took it over).
   */
  async runBatch(
    job: ImportJob,
    clinic: Clinic,
    owner: string,
    batchSize = IMPORT_BATCH_SIZE,
  ): Promise<boolean> {
    const pending: Enrollment[] = [];
    const did = await this.transactions.run(async (tx) => {
      const current = await this.imports.lockOwned(tx, job.id, owner);
      if (!current) throw new LeaseLost(job.id);
      const rows = await this.imports.nextRows(tx, job.id, current.checkpoint, batchSize);
      if (rows.length === 0) return 0;
      if (job.dry_run) await this.imports.savepoint(tx, 'import_dry_run');
      const outcomes: RowOutcome[] = [];
      const readable: ReadableRow[] = [];
      for (const row of rows) {
        if (row.status === 'failed') {
          // Refused while reading (too many cells): reported as it is.
          outcomes.push({ rowNumber: row.row_number, status: 'failed', error: row.error ?? '' });
          continue;
        }
        const cells = row.data as RowCells;
        const read = readRow(cells, job.campaign_id);
        if (!read.ok) {
          outcomes.push({ rowNumber: row.row_number, status: 'failed', error: read.error });
          continue;
        }
        readable.push({ rowNumber: row.row_number, cells, read });
      }
      const results = await this.enrolAll(tx, clinic, job.id, readable);
      readable.forEach((r, k) => {
        const result = results[k]!;
        if (result.ok) {
          if (result.enrollment.status === 'pending') pending.push(result.enrollment);
          outcomes.push({ rowNumber: r.rowNumber, status: r.read.invite ? 'invited' : 'enrolled' });
        } else
          outcomes.push({
            rowNumber: r.rowNumber,
            status: 'failed',
            error: this.reasonOf(result.error, r.cells, job.id, r.rowNumber),
          });
      });
      outcomes.sort((a, b) => a.rowNumber - b.rowNumber);
      if (job.dry_run) {
        await this.imports.rollbackTo(tx, 'import_dry_run');
        pending.length = 0;
      }
      const totals: BatchTotals = {
        checkpoint: rows[rows.length - 1]!.row_number,
        processed: outcomes.length,
        enrolled: outcomes.filter((o) => o.status === 'enrolled').length,
        invited: outcomes.filter((o) => o.status === 'invited').length,
        failed: outcomes.filter((o) => o.status === 'failed').length,
      };
      await this.imports.recordBatch(tx, job.id, outcomes, totals, this.leaseUntil());
      return rows.length;
    });
    // After commit. A crash right here loses these confirmations (as the clinic API's
    // enrol would); the enrolments stay pending and expire unconfirmed.
    for (const e of pending)
      await this.queues.enqueueConfirmation(e.id, e.channel, e.confirm_count, clinic.id);
    return did > 0;
  }

  /**
   * Enrols the batch's readable rows: all at once (enrolManyIn, a statement per step), or, when
   * that meets a concurrent change or an unexpected error, undone to a savepoint and done again
   * a row at a time (enrolIn, each row in its own savepoint), which reports each row's fate.
   */
  private async enrolAll(
    tx: Tx,
    clinic: Clinic,
    importId: string,
    rows: ReadableRow[],
  ): Promise<BatchResult[]> {
    if (rows.length === 0) return [];
    if (!this.rowByRow) {
      await this.imports.savepoint(tx, 'import_batch');
      try {
        const inputs = rows.map((r) => r.read.input);
        const results = await this.enrolments.enrolManyIn(tx, clinic, inputs, 'clinic-import');
        await this.imports.releaseSavepoint(tx, 'import_batch');
        return results;
      } catch (err) {
        if (isConnectionError(err)) throw err; // the batch is retried as a whole
        await this.imports.rollbackTo(tx, 'import_batch');
        this.redone++;
        this.logger.warn(
          { err: err instanceof BatchSurprise ? err.message : safeError(err), importId },
          'import batch redone a row at a time',
        );
      }
    }
    const results: BatchResult[] = [];
    for (const row of rows) {
      await this.imports.savepoint(tx, 'import_row');
      try {
        const e = await this.enrolments.enrolIn(tx, clinic, row.read.input, 'clinic-import');
        await this.imports.releaseSavepoint(tx, 'import_row');
        results.push({ ok: true, enrollment: e });
      } catch (err) {
        if (isConnectionError(err)) throw err;
        await this.imports.rollbackTo(tx, 'import_row');
        results.push({ ok: false, error: err });
      }
    }
    return results;
  }

  private reasonOf(err: unknown, cells: RowCells, importId: string, row: number): string {
    if (err instanceof DomainError) return describeFailure(cells, err.message, err.errors);
    // Not the row's fault: logged (without the row's data) and reported plainly.
    this.logger.error({ err: safeError(err), importId, row }, 'import row failed unexpectedly');
    return 'could not be enrolled because of an internal error; import this row again later';
  }
}

/** Another worker took the import over (this one's lease had expired). */
export class LeaseLost extends Error {
  constructor(importId: string) {
    super(`lost the lease of import ${importId}`);
  }
}
