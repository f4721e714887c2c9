import type { FieldError } from '../../common/index.js';
import {
  clinicEnrollmentSchema,
  clinicInvitationSchema,
  type ClinicEnrollmentInput,
  type ClinicInvitationInput,
} from '../clinic.dto.js';
import { CONSENT_COLUMNS, columnOfField, type ImportColumn } from './csv-columns.js';

export type RowCells = Partial<Record<ImportColumn, string>>;

/** A row read: the clinic API's enrol body (with consent) or an invitation (without), or why not. */
export type ReadRow =
  | { ok: true; invite: false; input: ClinicEnrollmentInput }
  | { ok: true; invite: true; input: ClinicInvitationInput }
  | { ok: false; error: string };

const SCIENTIFIC = /^[+-]?\d+(?:[.,]\d+)?E\+?\d+$/i;
/** What Excel writes for a time it stored as a fraction of a day (0.375 = 09:00). */
const DAY_FRACTION = /^0?[.,]\d+$|^1(?:[.,]0+)?$/;
/** A date (Excel's "1900-01-00" zero date too) where a time belongs, or a day serial number. */
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}/;
const SERIAL_DAY = /^\d{4,6}(?:[.,]\d+)?$/;

/** Excel's usual damage to a column, recognised before the normal rules give a vaguer reason. */
function excelProblems(cells: RowCells): FieldError[] {
  const out: FieldError[] = [];
  const phone = cells.phone?.trim();
  if (phone && SCIENTIFIC.test(phone))
    out.push({
      field: 'phone',
      message:
        'looks like Excel turned the phone number into a number in scientific notation; format the column as text and type the numbers again with their leading +',
    });
  const time = cells.sendTime?.trim();
  if (time && DAY_FRACTION.test(time))
    out.push({
      field: 'sendTime',
      message: `looks like Excel turned the time into a fraction of a day (${time}); format the column as text and type the time as HH:MM such as 08:00`,
    });
  else if (time && (DATE_LIKE.test(time) || /^1900-01-0?0/.test(time)))
    out.push({
      field: 'sendTime',
      message: `looks like Excel turned the time into a date (${time}); format the column as text and type the time as HH:MM such as 08:00`,
    });
  const at = cells.consentObtainedAt?.trim();
  if (at && (/^1900-01-0?0/.test(at) || /^1899-12-3[01]/.test(at)))
    out.push({
      field: 'consentObtainedAt',
      message: `is Excel's empty date (${at}), not a real one; give when the patient agreed, such as 2026-11-30T14:05:00Z`,
    });
  else if (at && SERIAL_DAY.test(at))
    out.push({
      field: 'consentObtainedAt',
      message: `looks like Excel turned the date into a day number (${at}); format the column as text and type an ISO 8601 date-time such as 2026-11-30T14:05:00Z`,
    });
  return out;
}

/** A phone without its + (Excel drops it from a number): say so rather than "not valid". */
function phoneHint(cells: RowCells, errors: FieldError[]): void {
  const phone = cells.phone?.trim();
  const e = errors.find((x) => x.field === 'phone');
  if (e && phone && /^\d{8,15}$/.test(phone) && !cells.country)
    e.message +=
      ' (it has no leading +: Excel drops it from numbers; format the column as text, or add a country column)';
}

const describe = (errors: FieldError[]) =>
  errors.map((e) => `${columnOfField(e.field)}: ${e.message}`).join('; ');

/**
 * One row as the clinic API's enrol body, checked by the same zod schema. A row whose
 * consent cells are all empty is an invitation (the patient confirms first); a row with some
 * consent cells must have them all, as the API's `consent` object must.
 */
export function readRow(cells: RowCells, defaultCampaign: string): ReadRow {
  const excel = excelProblems(cells);
  if (excel.length > 0) return { ok: false, error: describe(excel) };
  const base = {
    campaign: cells.campaign?.trim() ?? defaultCampaign,
    channel: cells.channel?.trim().toLowerCase(),
    email: cells.email?.trim(),
    phone: cells.phone?.trim(),
    country: cells.country?.trim(),
    name: cells.name,
    timezone: cells.timezone?.trim(),
    sendTime: cells.sendTime?.trim(),
    externalId: cells.externalId,
  };
  const invite = CONSENT_COLUMNS.every((c) => cells[c] === undefined);
  const parsed = invite
    ? clinicInvitationSchema.safeParse(base)
    : clinicEnrollmentSchema.safeParse({
        ...base,
        consent: {
          method: cells.consentMethod?.trim().toLowerCase(),
          obtainedAt: cells.consentObtainedAt?.trim(),
          collectedBy: cells.consentCollectedBy,
          text: cells.consentText,
        },
      });
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || '(row)',
      message: i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message,
    }));
    phoneHint(cells, errors);
    return { ok: false, error: describe(errors) };
  }
  return invite
    ? { ok: true, invite: true, input: parsed.data as ClinicInvitationInput }
    : { ok: true, invite: false, input: parsed.data as ClinicEnrollmentInput };
}

/** A domain error's fields in the file's column names, or its message. */
export function describeFailure(
  cells: RowCells,
  message: string,
  errors?: readonly FieldError[],
): string {
  if (!errors || errors.length === 0) return message;
  const copy = errors.map((e) => ({ ...e }));
  phoneHint(cells, copy);
  return describe(copy);
}
