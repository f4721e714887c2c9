import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { invalid, invalidFields, type FieldError } from '../../common/index.js';
import { columnOf, type ImportColumn } from './csv-columns.js';

/** The longest row accepted: longer is refused before more of the file is read. */
export const MAX_ROW_BYTES = 10 * 1024 * 1024;

/** One data row as staged: its spreadsheet row number (header = 1) and cells by column. */
export interface StagedRow {
  rowNumber: number;
  data: Partial<Record<ImportColumn, string>>;
  /** A problem found while reading (too many cells): the row fails without being checked. */
  error?: string;
}

export interface CsvReadResult {
  columns: ImportColumn[];
  rows: number;
}

/**
 * Passes bytes through while checking they are UTF-8 text: invalid UTF-8 or a NUL byte
 * (binary data, or UTF-16 from "Unicode text") stops the read with a 400.
 */
class TextGuard extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private first = true;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.first && chunk.length >= 2) {
      this.first = false;
      if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
        return done(
          invalid(
            'body',
            'is UTF-16 text; save the spreadsheet as "CSV UTF-8 (comma delimited)" and upload that',
          ),
        );
    }
    if (chunk.indexOf(0) >= 0) return done(binary());
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      return done(binary());
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.decoder.decode();
    } catch {
      return done(binary());
    }
    done();
  }
}

const binary = () =>
  invalid(
    'body',
    'is not a text CSV file (binary data or an encoding other than UTF-8); save the spreadsheet as "CSV UTF-8 (comma delimited)"',
  );

/** The header row: known columns in order, or a 400 naming every unknown and missing one. */
function readHeader(cells: string[]): (ImportColumn | null)[] {
  const errors: FieldError[] = [];
  const columns = cells.map((c) => columnOf(c));
  if (cells.length === 1 && cells[0]!.includes(';'))
    throw invalid(
      'columns',
      'the header has one column with semicolons in it; save the file with commas as separators (CSV UTF-8, comma delimited)',
    );
  const unknown = cells.filter((_, i) => columns[i] === undefined).map((c) => `"${c.trim()}"`);
  if (unknown.length > 0)
    errors.push({
      field: 'columns',
      message: `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the columns are name, email, phone, country, channel, timezone, sendTime, externalId, campaign, consentMethod, consentObtainedAt, consentCollectedBy, consentText`,
    });
  const seen = new Set<string>();
  for (const c of columns) {
    if (c === undefined || c === 'ignored') continue;
    if (seen.has(c)) errors.push({ field: 'columns', message: `"${c}" appears more than once` });
    seen.add(c);
  }
  const missing: string[] = [];
  if (!seen.has('channel')) missing.push('channel');
  if (!seen.has('email') && !seen.has('phone')) missing.push('email or phone');
  if (missing.length > 0)
    errors.push({ field: 'columns', message: `missing required column: ${missing.join(', ')}` });
  if (errors.length > 0) throw invalidFields(errors);
  return columns.map((c) => (c === undefined || c === 'ignored' ? null : c));
}

/** A csv-parse error as a 400 naming the row a spreadsheet would show. */
function parseProblem(err: CsvError, row: number) {
  switch (err.code) {
    case 'CSV_MAX_RECORD_SIZE':
      return invalid(
        `row ${row}`,
        `is longer than the ${MAX_ROW_BYTES / 1024 / 1024} MB limit for one row; the file was not imported (is a quote left open?)`,
      );
    case 'CSV_QUOTE_NOT_CLOSED':
      return invalid(
        `row ${row}`,
        'a quoted field is never closed (a " is missing); the file was not imported',
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return invalid(
        `row ${row}`,
        'has text after a closing quote; a quote inside a quoted field must be doubled ("")',
      );
    default:
      return invalid(`row ${row}`, 'cannot be read as CSV; the file was not imported');
  }
}

/**
 * Reads a CSV upload as a stream: a BOM, CRLF or LF, quoted fields with commas, quotes and
 * line breaks. Hands the rows to `onRows` in batches (awaiting each, so a slow database slows
 * the read rather than filling memory). Throws a 400 for a file that cannot be imported as a
 * whole: not text, an unknown or missing column, a row over 10 MB, broken quoting, no rows.
 * Blank rows are skipped but counted, so row numbers stay those of the spreadsheet.
 */
export async function readCsv(
  source: Readable,
  onRows: (rows: StagedRow[]) => Promise<void>,
  opts: { batchSize?: number; onProgress?: (rows: number) => void } = {},
): Promise<CsvReadResult> {
  const batchSize = opts.batchSize ?? 500;
  const parser = parse({
    bom: true,
    max_record_size: MAX_ROW_BYTES,
    relax_column_count: true,
    skip_empty_lines: false,
  });
  let header: (ImportColumn | null)[] | undefined;
  let rowNumber = 0;
  let rows = 0;
  let batch: StagedRow[] = [];
  const guard = new TextGuard();
  // The source is piped, not put in the pipeline: a refused file must not destroy the
  // request (its socket), so the caller can still answer; it drains the rest instead.
  const onSourceError = (err: unknown) => guard.destroy(err as Error);
  let ended = false;
  const onEnd = () => (ended = true);
  const onClose = () => {
    if (!ended) guard.destroy(new UploadInterrupted());
  };
  source.once('error', onSourceError);
  source.once('end', onEnd);
  source.once('close', onClose);
  source.pipe(guard);
  const consume = async (records: AsyncIterable<string[]>) => {
    for await (const cells of records) {
      rowNumber++;
      if (!header) {
        header = readHeader(cells);
        continue;
      }
      if (cells.every((c) => c.trim() === '')) continue;
      const data: StagedRow['data'] = {};
      header.forEach((column, i) => {
        const v = cells[i];
        if (column && v !== undefined && v.trim() !== '') data[column] = v;
      });
      const row: StagedRow = { rowNumber, data };
      if (cells.length > header.length && cells.slice(header.length).some((c) => c !== ''))
        row.error = `(row): has ${cells.length} cells but the header has ${header.length}; a comma inside a field needs quotes around the field`;
      batch.push(row);
      rows++;
      if (batch.length >= batchSize) {
        await onRows(batch);
        batch = [];
        opts.onProgress?.(rows);
      }
    }
  };
  let thrown: unknown;
  try {
    await pipeline(guard, parser, async (records: AsyncIterable<string[]>) => {
      try {
        await consume(records);
      } catch (err) {
        // Leaving the loop destroys the parser; pipeline may then report that AbortError.
        thrown = err;
        throw err;
      }
    });
  } catch (caught) {
    const err = thrown ?? caught;
    // The parser runs ahead of the rows handed over: its own count names the row.
    if (err instanceof CsvError)
      throw parseProblem(err, ((err as { records?: number }).records ?? rowNumber) + 1);
    throw err;
  } finally {
    source.off('error', onSourceError);
    source.off('end', onEnd);
    source.off('close', onClose);
    source.unpipe(guard);
  }
  if (!header)
    throw invalid('body', 'is empty; send a CSV file with a header row and one row per patient');
  if (rows === 0) throw invalid('body', 'has a header but no rows to import');
  if (batch.length > 0) await onRows(batch);
  opts.onProgress?.(rows);
  return { columns: header.filter((c): c is ImportColumn => c !== null), rows };
}

/** The client went away before the whole file arrived. */
export class UploadInterrupted extends Error {
  constructor() {
    super('the upload was interrupted before the end of the file');
  }
}
