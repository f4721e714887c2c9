/**
 * The columns an import file may have, as a spreadsheet names them. Header names match
 * case-insensitively, ignoring spaces, underscores and hyphens ("Send Time" = sendTime).
 * The consent columns mirror the clinic API's `consent` object (clinic.dto.ts).
 */
export const IMPORT_COLUMNS = [
  'name',
  'email',
  'phone',
  'country',
  'channel',
  'timezone',
  'sendTime',
  'externalId',
  'campaign',
  'consentMethod',
  'consentObtainedAt',
  'consentCollectedBy',
  'consentText',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export const CONSENT_COLUMNS = [
  'consentMethod',
  'consentObtainedAt',
  'consentCollectedBy',
  'consentText',
] as const satisfies readonly ImportColumn[];

/**
 * Columns of our own error report (`row`, `error`): ignored on upload, so a corrected error
 * report can be imported again as it is.
 */
export const REPORT_COLUMNS = ['row', 'error'] as const;

const key = (header: string) => header.toLowerCase().replace(/[\s_-]+/g, '');
const BY_KEY = new Map<string, ImportColumn>(IMPORT_COLUMNS.map((c) => [key(c), c]));
const IGNORED = new Set<string>(REPORT_COLUMNS.map(key));

/** A header cell read: a known column, one to skip, or unknown. */
export function columnOf(header: string): ImportColumn | 'ignored' | undefined {
  const k = key(header.trim());
  if (k === '' || IGNORED.has(k)) return 'ignored';
  return BY_KEY.get(k);
}

/** Where a field of the clinic API's body is in the file: `consent.obtainedAt` → consentObtainedAt. */
export function columnOfField(field: string): string {
  const m = /^consent\.(\w)(\w*)$/.exec(field);
  return m ? `consent${m[1]!.toUpperCase()}${m[2]}` : field;
}
