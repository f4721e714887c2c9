import { z } from 'zod';
import { contactFields, nameSchema } from '../subscribers/index.js';
import { isValidTimeZone, parseSendTime } from './schedule.js';

export const timezoneSchema = z
  .string()
  .max(64)
  .refine(isValidTimeZone, 'must be an IANA time zone such as Europe/London or America/New_York');

export const sendTimeSchema = z
  .string()
  .refine((v) => parseSendTime(v) !== null, 'must be a 24-hour time HH:MM such as 08:00');

export const createEnrollmentSchema = z.strictObject({
  campaign: z.string().min(1, 'is required').max(100),
  channel: z.enum(['email', 'sms'], { message: 'must be "email" or "sms"' }),
  ...contactFields,
  name: nameSchema.optional(),
  timezone: timezoneSchema,
  sendTime: sendTimeSchema.default('08:00'),
});
export type CreateEnrollmentInput = z.output<typeof createEnrollmentSchema>;

export const updateEnrollmentSchema = z
  .strictObject({ timezone: timezoneSchema.optional(), sendTime: sendTimeSchema.optional() })
  .refine((v) => v.timezone !== undefined || v.sendTime !== undefined, 'give timezone or sendTime');
export type UpdateEnrollmentInput = z.output<typeof updateEnrollmentSchema>;
