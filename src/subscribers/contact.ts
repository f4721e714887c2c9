import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';
import { invalidFields } from '../common/index.js';

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

/**
 * E.164 form of the number an SMS came from, of any type. A landline that texts through a
 * carrier service, or a toll-free number, can still send STOP, and STOP must be honoured
 * from any number; only sending to such numbers is refused (normalisePhone).
 */
export function normaliseSender(value: string): string | null {
  const raw = value.trim().replace(/[\s().-]/g, '');
  if (!/^\+\d{6,15}$/.test(raw)) return null;
  const parsed = parsePhoneNumberFromString(raw);
  return parsed && parsed.isPossible() ? parsed.number : null;
}

/** The contact fields shared by every way of joining; checked further by resolveContact. */
export const contactFields = {
  email: z.string().max(254, 'must be at most 254 characters').optional(),
  phone: z.string().max(32, 'must be at most 32 characters').optional(),
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code such as US or GB')
    .optional(),
};

/** Names are shown in messages: one line, printable, short. */
export const nameSchema = z
  .string()
  .trim()
  .max(100, 'must be at most 100 characters')
  .refine(
    (v) => !/[\p{Cc}\u2028\u2029]/u.test(v),
    'must be a single line without control characters',
  );

/**
 * Normalises the contact fields and lists every problem with them: a malformed address or
 * number, and a channel without its address (when the channel is known).
 */
export function checkContact(input: {
  channel?: 'email' | 'sms';
  email?: string;
  phone?: string;
  country?: string;
}): {
  email: string | null;
  phone: string | null;
  errors: { field: 'email' | 'phone'; message: string }[];
} {
  const errors: { field: 'email' | 'phone'; message: string }[] = [];
  const email = input.email === undefined ? null : normaliseEmail(input.email);
  const phone = input.phone === undefined ? null : normalisePhone(input.phone, input.country);
  if (input.email !== undefined && !email)
    errors.push({ field: 'email', message: 'is not a valid email address' });
  if (input.phone !== undefined && !phone) {
    errors.push({
      field: 'phone',
      message:
        'is not a valid mobile number; use international format such as +14155550123, or give country',
    });
  }
  if (input.channel === 'email' && input.email === undefined)
    errors.push({ field: 'email', message: 'is required when channel is "email"' });
  if (input.channel === 'sms' && input.phone === undefined)
    errors.push({ field: 'phone', message: 'is required when channel is "sms"' });
  return { email, phone, errors };
}

/** Normalises the contact fields and checks the channel has its address; 400 naming each field. */
export function resolveContact(input: {
  channel: 'email' | 'sms';
  email?: string;
  phone?: string;
  country?: string;
}): {
  email: string | null;
  phone: string | null;
  address: string;
} {
  const { email, phone, errors } = checkContact(input);
  if (errors.length > 0) throw invalidFields(errors);
  return { email, phone, address: (input.channel === 'email' ? email : phone)! };
}
