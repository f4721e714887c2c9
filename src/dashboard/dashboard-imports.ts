import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import busboy from 'busboy';
import type { Request } from 'express';
import type { Readable } from 'node:stream';
import {
  AuditService,
  CsrfRefused,
  IMPORT_COLUMNS,
  ImportsService,
  StaffAuthService,
  type ImportView,
  type StaffCaller,
} from '../clinics/index.js';
import { invalid } from '../common/index.js';

/** The biggest upload the dashboard takes (100,000 rows are about 15 MB). */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

const STATUS_WORDS: Record<ImportView['status'], string> = {
  receiving: 'Reading the file',
  queued: 'Waiting to start',
  running: 'Enrolling',
  completed: 'Finished',
  rejected: 'File refused',
  failed: 'Stopped by an error',
};

/**
 * The dashboard's side of bulk imports: the upload form's multipart body, streamed straight
 * into ImportsService (never held whole), and the progress page's figures. The CSRF token
 * is a form field before the file, checked before a byte of the file is read.
 */
@Injectable()
export class DashboardImports {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly auth: StaffAuthService,
    private readonly audit: AuditService,
  ) {}

  private get imports(): ImportsService {
    return this.moduleRef.get(ImportsService, { strict: false });
  }

  readonly columns = IMPORT_COLUMNS;

  async upload(staff: StaffCaller, req: Request): Promise<ImportView> {
    if (!req.is('multipart/form-data'))
      throw invalid('file', 'send the form as multipart/form-data (the upload form does)');
    const fields: Record<string, string> = {};
    const started = await new Promise<ImportView | null>((resolve, reject) => {
      let work: Promise<ImportView> | null = null;
      let bb: busboy.Busboy;
      try {
        bb = busboy({
          headers: req.headers,
          limits: { files: 1, fields: 10, fieldSize: 1024, fileSize: MAX_UPLOAD_BYTES },
        });
      } catch {
        reject(
          invalid('file', 'the upload could not be read; choose the file and send the form again'),
        );
        return;
      }
      bb.on('field', (name, value) => (fields[name] = value));
      bb.on('file', (_name, stream: Readable, info) => {
        if (work) {
          stream.resume();
          return;
        }
        if (!this.auth.csrf.check(staff.sessionKey, fields._csrf)) {
          stream.resume();
          work = Promise.reject(new CsrfRefused());
          return;
        }
        if (!info.filename) {
          stream.resume();
          work = Promise.reject(invalid('file', 'choose a CSV file to upload'));
          return;
        }
        stream.on('limit', () =>
          stream.destroy(
            invalid(
              'file',
              `is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB; split it into smaller files`,
            ),
          ),
        );
        work = this.imports.start(staff.clinicId, stream, {
          dryRun: fields.dryRun === 'on' || fields.dryRun === 'true',
          filename: info.filename,
          startedBy: `staff:${staff.staffUserId}`,
        });
        // Settled at 'close'; caught here so a refusal mid-stream is not unhandled meanwhile.
        work.catch(() => undefined);
      });
      bb.on('error', (err) => reject(err instanceof Error ? err : new Error(String(err))));
      bb.on('close', () => {
        if (!work) {
          resolve(null);
          return;
        }
        work.then(resolve, reject);
      });
      req.pipe(bb);
    });
    if (!started) {
      if (!this.auth.csrf.check(staff.sessionKey, fields._csrf)) throw new CsrfRefused();
      throw invalid('file', 'choose a CSV file to upload');
    }
    await this.audit.record({
      clinicId: staff.clinicId,
      actor: { kind: 'staff', staffUserId: staff.staffUserId },
      action: started.dryRun ? 'import.checked' : 'import.started',
      detail: { importId: started.id, rows: started.totalRows },
    });
    return started;
  }

  async list(staff: StaffCaller) {
    return (await this.imports.list(staff.clinicId, 20)).map((j) => this.describe(j));
  }

  async progress(staff: StaffCaller, id: string) {
    return this.describe(await this.imports.progress(staff.clinicId, id));
  }

  errorsCsv(staff: StaffCaller, id: string): Promise<Readable> {
    return this.imports.errorsCsv(staff.clinicId, id);
  }

  private describe(j: ImportView) {
    const done = j.status === 'completed' || j.status === 'rejected' || j.status === 'failed';
    return {
      ...j,
      statusWords: STATUS_WORDS[j.status],
      done,
      percent: j.totalRows === 0 ? (done ? 100 : 0) : Math.floor((100 * j.processed) / j.totalRows),
      hasErrors: j.failed > 0,
    };
  }
}
