import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { Clock, conflict, DomainError, notFound, safeError, isUuid } from '../../common/index.js';
import { Transactions, type ImportJob } from '../../database/index.js';
import { EnrollmentLifecycle } from '../../enrollments/index.js';
import { readCsv, UploadInterrupted } from './csv-reader.js';
import { IMPORT_LEASE_MS } from './imports.processor.js';
import { ImportsQueue } from './imports.queue.js';
import { ImportsRepository } from './imports.repository.js';

/** The programme a row joins when the file has no campaign column and none was given. */
export const DEFAULT_IMPORT_CAMPAIGN = 'upper-back-relief';

export interface StartImportOptions {
  /** Check every row without enrolling anyone. */
  dryRun: boolean;
  /** Shown in progress and lists. */
  filename?: string;
  /** Who started it: 'api-key:<keyId>', 'staff:<uuid>', 'cli'. */
  startedBy: string;
  /** The campaign of rows without a campaign cell (default upper-back-relief). */
  campaign?: string;
}

/** An import as the API, the dashboard and the CLI show it. */
export interface ImportView {
  id: string;
  /** receiving → queued → running → completed; or rejected (the file) / failed. */
  status: 'receiving' | 'queued' | 'running' | 'completed' | 'rejected' | 'failed';
  dryRun: boolean;
  filename: string | null;
  campaign: string;
  startedBy: string;
  /** Rows read so far (all of them once the upload is in). */
  totalRows: number;
  processed: number;
  /** Rows with consent evidence, enrolled (active, or pending under the clinic's confirm mode). */
  enrolled: number;
  /** Rows without consent evidence: invited, waiting for the patient's confirmation. */
  invited: number;
  failed: number;
  /** Why the file was rejected or the import failed. */
  reason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const importView = (j: ImportJob): ImportView => ({
  id: j.id,
  status: j.status,
  dryRun: j.dry_run,
  filename: j.filename,
  campaign: j.campaign_id,
  startedBy: j.started_by,
  totalRows: j.total_rows,
  processed: j.processed,
  enrolled: j.enrolled,
  invited: j.invited,
  failed: j.failed,
  reason: j.reason,
  createdAt: j.created_at.toISOString(),
  startedAt: iso(j.started_at),
  finishedAt: iso(j.finished_at),
  updatedAt: j.updated_at.toISOString(),
});

/**
 * Bulk CSV imports of a clinic's patients: the front door for the clinic API, the dashboard
 * and the CLI. `start` reads the upload as a stream and stages every row in one transaction
 * (a refused file leaves no row behind), then queues the import for a worker; `progress`,
 * `list` and `errorsCsv` read it back. Every method takes the clinic id: another clinic's
 * import is not found.
 */
@Injectable()
export class ImportsService {
  private readonly logger = new Logger(ImportsService.name);

  constructor(
    private readonly imports: ImportsRepository,
    private readonly transactions: Transactions,
    private readonly queue: ImportsQueue,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly clock: Clock,
  ) {}

  /**
   * Reads a CSV upload and queues its import. Answers once the whole file is staged (the
   * enrolling happens in a worker; follow it with `progress`). Throws InvalidInput (400)
   * for a file refused as a whole, Conflict (409) while the clinic has another import in
   * flight. The stream is drained (and discarded) when refused, so an HTTP caller can still
   * be answered.
   */
  async start(
    clinicId: string,
    readable: NodeJS.ReadableStream,
    opts: StartImportOptions,
  ): Promise<ImportView> {
    const source = readable as Readable;
    let job: ImportJob | undefined;
    try {
      const campaign = this.lifecycle.campaignOf(opts.campaign ?? DEFAULT_IMPORT_CAMPAIGN);
      const owner = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
      job = await this.imports.open({
        clinicId,
        dryRun: opts.dryRun,
        filename: opts.filename?.slice(0, 200) ?? null,
        startedBy: opts.startedBy,
        campaignId: campaign.id,
        owner,
        leaseUntil: this.leaseUntil(),
      });
      if (!job) {
        const open = await this.imports.findOpen(clinicId);
        throw conflict(
          `import: import ${open?.id ?? '(another)'} is still ${open?.status ?? 'running'} for this clinic; ` +
            'wait for it to finish (GET /api/v1/enrollments/import/' +
            `${open?.id ?? ':id'}), then upload again`,
        );
      }
      const id = job.id;
      let rowsSoFar = 0;
      const heartbeat = setInterval(() => {
        void this.imports
          .heartbeat(id, owner, this.leaseUntil(), rowsSoFar)
          .catch((err) => this.logger.warn({ err: safeError(err), importId: id }, 'heartbeat'));
      }, IMPORT_LEASE_MS / 4);
      try {
        await this.transactions.run(async (tx) => {
          const read = await readCsv(source, (rows) => this.imports.stageRows(tx, id, rows), {
            onProgress: (n) => (rowsSoFar = n),
          });
          await this.imports.markQueued(tx, id, read.rows, read.columns);
        });
      } finally {
        clearInterval(heartbeat);
      }
    } catch (err) {
      drain(source);
      if (job) await this.settleRefused(job, err);
      throw err;
    }
    this.logger.log({ importId: job.id, clinicId, dryRun: opts.dryRun }, 'import staged');
    try {
      await this.queue.add({ importId: job.id, clinicId });
    } catch (err) {
      // Staged and safe in PostgreSQL: a worker's watchdog queues it when Redis is back.
      this.logger.warn({ err: safeError(err), importId: job.id }, 'import not queued yet');
    }
    return this.progress(clinicId, job.id);
  }

  /** Marks an import whose file was refused (rejected) or whose upload broke (failed). */
  private async settleRefused(job: ImportJob, err: unknown): Promise<void> {
    const refused = err instanceof DomainError;
    const reason = refused
      ? err.message
      : err instanceof UploadInterrupted
        ? `${err.message}; nothing was imported, upload it again`
        : 'the upload could not be read; nothing was imported, upload it again';
    await this.imports.end(job.id, refused ? 'rejected' : 'failed', reason).catch((e) => {
      this.logger.warn({ err: safeError(e), importId: job.id }, 'could not mark import');
    });
    this.logger.log({ importId: job.id, clinicId: job.clinic_id, reason }, 'import refused');
  }

  private leaseUntil(): Date {
    return new Date(this.clock.now().getTime() + IMPORT_LEASE_MS);
  }

  /** The import's status and counts; 404 for another clinic's or an unknown id. */
  async progress(clinicId: string, importId: string): Promise<ImportView> {
    return importView(await this.mine(clinicId, importId));
  }

  /** The clinic's latest imports, newest first (limit 1-100). */
  async list(clinicId: string, limit = 20): Promise<ImportView[]> {
    const n = Math.min(Math.max(Math.trunc(limit) || 20, 1), 100);
    return (await this.imports.list(clinicId, n)).map(importView);
  }

  /**
   * The rows that failed, as CSV: `row` (the spreadsheet's row number, header = 1), `error`,
   * then the file's own columns, so the corrected report can be uploaded again as it is.
   * Streamed a page at a time. 404 for another clinic's or an unknown id.
   */
  async errorsCsv(clinicId: string, importId: string): Promise<Readable> {
    const job = await this.mine(clinicId, importId);
    const columns = job.columns ?? [];
    const imports = this.imports;
    async function* lines() {
      yield csvLine(['row', 'error', ...columns]);
      let after = 0;
      for (;;) {
        const page = await imports.failedRows(job.id, after, 1000);
        if (page.length === 0) return;
        let chunk = '';
        for (const r of page)
          chunk += csvLine([
            String(r.row_number),
            r.error ?? '',
            ...columns.map((c) => r.data[c] ?? ''),
          ]);
        yield chunk;
        after = page[page.length - 1]!.row_number;
      }
    }
    return Readable.from(lines());
  }

  private async mine(clinicId: string, importId: string): Promise<ImportJob> {
    const job = isUuid(importId) ? await this.imports.find(clinicId, importId) : undefined;
    if (!job) throw notFound(`import ${isUuid(importId) ? importId : '(malformed id)'} not found`);
    return job;
  }
}

/** Reads and discards what is left of a refused upload, so its sender can read the answer. */
function drain(source: Readable): void {
  if (typeof source.resume === 'function' && !source.readableEnded) source.resume();
}

/** One CSV line (CRLF). Cells that a spreadsheet would run as a formula get a leading '. */
export function csvLine(cells: string[]): string {
  return (
    cells
      .map((raw) => {
        const v = /^[=@\t\r]|^[+-](?![\d\s(])/.test(raw) ? `'${raw}` : raw;
        return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
      })
      .join(',') + '\r\n'
  );
}
