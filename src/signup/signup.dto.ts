import { z } from 'zod';
import { sendTimeSchema, timezoneSchema } from '../enrollments/index.js';
import { contactFields, nameSchema } from '../subscribers/index.js';
import { RED_FLAGS } from './red-flags.js';

const flagIds = RED_FLAGS.map((f) => f.id) as [string, ...string[]];
const checkbox = z.union([z.boolean(), z.enum(['on', 'true', 'yes', '1'])]).transform(() => true);

/**
 * The signup form, posted as a form or as JSON. Unknown fields are refused; empty optional
 * fields (as forms send them) count as absent.
 */
export const signupSchema = z.strictObject({
  campaign: z.string().max(100).default('upper-back-relief'),
  name: nameSchema.optional(),
  channel: z.enum(['email', 'sms'], { message: 'choose "email" or "sms"' }),
  ...contactFields,
  timezone: timezoneSchema,
  sendTime: sendTimeSchema.default('08:00'),
  consent: checkbox.optional(),
  redFlags: z
    .union([z.enum(flagIds), z.array(z.enum(flagIds)).max(flagIds.length)], {
      message: 'lists an unknown warning sign',
    })
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  /** Honeypot: hidden from people, filled in by bots. */
  website: z.string().max(500).optional(),
});
export type SignupInput = z.output<typeof signupSchema>;

/** Drops empty strings, which is how an HTML form says "not given". */
export function withoutEmpty(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== ''));
}
