import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';

/** Lower-cases and checks an email address; null when it is not one. */
export function normaliseEmail(value: string): string | null {
  const email = value.trim().toLowerCase();
  if (email.length > 254) return null;
  return z.email().safeParse(email).success ? email : null;
}

/** E.164 form of a mobile number, or null. National numbers need a country (ISO 3166 alpha-2). */
export function normalisePhone(value: string, country?: string): string | null {
  const raw = value.trim();
  if (!/^[+\d(][\d\s().-]{5,24}$/.test(raw)) return null;
  const parsed = parsePhoneNumberFromString(raw, country?.toUpperCase() as CountryCode | undefined);
  if (!parsed || !parsed.isValid()) return null;
  const type = parsed.getType();
  // Landlines, pagers and service numbers cannot take SMS; "fixed or mobile" (some
  // countries cannot tell) is let through.
  if (
    type === 'FIXED_LINE' ||
    type === 'TOLL_FREE' ||
    type === 'PREMIUM_RATE' ||
    type === 'SHARED_COST' ||
    type === 'PAGER' ||
    type === 'UAN' ||
    type === 'VOICEMAIL'
  )
    return null;
  return parsed.number;
}

/** Names are shown in messages: one line, printable, short. */
export const nameSchema = z
  .string()
  .trim()
  .max(100, 'must be at most 100 characters')
  .refine(
    (v) => !/[\p{Cc}\u2028\u2029]/u.test(v),
    'must be a single line without control characters',
  );
