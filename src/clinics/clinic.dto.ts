import { z } from 'zod';
import { sendTimeSchema, timezoneSchema } from '../enrollments/index.js';
import {
  contactFields,
  nameSchema,
  normaliseEmail,
  normaliseSender,
} from '../subscribers/index.js';
import { API_KEY_SCOPES } from './api-keys.service.js';

const line = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'is required')
    .max(max, `must be at most ${max} characters`)
    .refine(
      (v) => !/[\p{Cc}\u2028\u2029]/u.test(v),
      'must be a single line without control characters',
    );

const httpsUrl = z
  .string()
  .max(500, 'must be at most 500 characters')
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'https:' || (u.protocol === 'http:' && u.hostname === 'localhost');
    } catch {
      return false;
    }
  }, 'must be an https:// URL');

const email = z
  .string()
  .max(254)
  .transform((v, ctx) => {
    const e = normaliseEmail(v);
    if (!e) ctx.addIssue({ code: 'custom', message: 'must be an email address' });
    return e ?? v;
  });

/** A phone number people can call: any valid number in international form (+ and digits). */
const callable = z
  .string()
  .max(32)
  .transform((v, ctx) => {
    const n = normaliseSender(v);
    if (!n) ctx.addIssue({ code: 'custom', message: 'must be a phone number in +E.164 form' });
    return n ?? v;
  });

/** A Twilio sender: a number in +E.164 form, or a messaging service sid (MG…). */
const smsSender = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    if (/^MG[0-9a-f]{32}$/.test(v)) return v;
    const n = normaliseSender(v);
    if (!n)
      ctx.addIssue({
        code: 'custom',
        message: 'must be a number in +E.164 form or a Twilio messaging service sid (MG…)',
      });
    return n ?? v;
  });

const slug = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/,
    'must be 1-50 lower-case letters, digits and hyphens',
  );

const clinicFields = {
  name: line(120),
  timezone: timezoneSchema,
  senderName: line(120),
  replyTo: email,
  phone: callable,
  postalAddress: line(300),
  bookingUrl: httpsUrl,
  chiropractorName: line(120).nullable().optional(),
  logoUrl: httpsUrl.nullable().optional(),
  smsFrom: smsSender.nullable().optional(),
  /** Red flags are texted here (an on-call mobile). */
  onCallPhone: callable.nullable().optional(),
  /** Red flags are emailed here; unset: to the clinic's admins. */
  alertEmail: email.nullable().optional(),
  consentMode: z
    .enum(['confirm', 'attested'], {
      message:
        'must be "confirm" (the patient confirms once) or "attested" (written consent held by the clinic)',
    })
    .optional(),
};

export const createClinicSchema = z.strictObject({ ...clinicFields, slug: slug.optional() });
export type CreateClinicInput = z.output<typeof createClinicSchema>;

export const updateClinicSchema = z
  .strictObject({
    name: clinicFields.name.optional(),
    timezone: clinicFields.timezone.optional(),
    senderName: clinicFields.senderName.optional(),
    replyTo: clinicFields.replyTo.optional(),
    phone: clinicFields.phone.optional(),
    postalAddress: clinicFields.postalAddress.optional(),
    bookingUrl: clinicFields.bookingUrl.optional(),
    chiropractorName: clinicFields.chiropractorName,
    logoUrl: clinicFields.logoUrl,
    smsFrom: clinicFields.smsFrom,
    onCallPhone: clinicFields.onCallPhone,
    alertEmail: clinicFields.alertEmail,
    consentMode: clinicFields.consentMode,
  })
  .refine((v) => Object.keys(v).length > 0, 'give at least one field to change');
export type UpdateClinicInput = z.output<typeof updateClinicSchema>;

export const createKeySchema = z.strictObject({
  name: line(100).optional(),
  scopes: z
    .array(z.enum(API_KEY_SCOPES, { message: `must be one of ${API_KEY_SCOPES.join(', ')}` }))
    .min(1, 'give at least one scope')
    .optional(),
});
export type CreateKeyInput = z.output<typeof createKeySchema>;

export const rotateKeySchema = z.strictObject({
  overlapHours: z
    .number()
    .int('must be a whole number of hours')
    .min(0, 'must be from 0 to 168')
    .max(168, 'must be from 0 to 168')
    .optional(),
});

const iso = z
  .string()
  .refine(
    (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d{2}-\d{2}T/.test(v),
    'must be an ISO 8601 date-time such as 2026-11-30T15:04:05Z',
  )
  .transform((v) => new Date(v));

export const CONSENT_METHODS = ['written', 'electronic', 'verbal'] as const;

/** What the clinic attests: how and when the patient agreed, who took it, the words shown. */
export const attestationSchema = z.strictObject({
  method: z.enum(CONSENT_METHODS, { message: `must be one of ${CONSENT_METHODS.join(', ')}` }),
  obtainedAt: iso,
  collectedBy: line(120),
  text: z.string().trim().max(2000, 'must be at most 2000 characters').optional(),
});

export const clinicEnrollmentSchema = z.strictObject({
  campaign: z.string().min(1, 'is required').max(100),
  channel: z.enum(['email', 'sms'], { message: 'must be "email" or "sms"' }),
  ...contactFields,
  name: nameSchema.optional(),
  /** Default: the clinic's own time zone. */
  timezone: timezoneSchema.optional(),
  sendTime: sendTimeSchema.default('08:00'),
  externalId: line(100).optional(),
  consent: attestationSchema,
});
export type ClinicEnrollmentInput = z.output<typeof clinicEnrollmentSchema>;

/** The same patient without consent evidence: an opt-in invitation (a CSV import's row). */
export const clinicInvitationSchema = clinicEnrollmentSchema.omit({ consent: true });
export type ClinicInvitationInput = z.output<typeof clinicInvitationSchema>;

export const ENROLLMENT_STATUSES = [
  'pending',
  'active',
  'paused',
  'completed',
  'cancelled',
] as const;

export const listEnrollmentsSchema = z.strictObject({
  status: z
    .enum(ENROLLMENT_STATUSES, { message: `must be one of ${ENROLLMENT_STATUSES.join(', ')}` })
    .optional(),
  externalId: z.string().max(100).optional(),
  limit: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be from 1 to 200')
    .max(200, 'must be from 1 to 200')
    .default(50),
  cursor: z.string().max(200).optional(),
});
export type ListEnrollmentsQuery = z.output<typeof listEnrollmentsSchema>;

export const inviteStaffSchema = z.strictObject({
  email,
  name: line(120),
  role: z.enum(['staff', 'admin'], {
    message:
      'must be "staff" (patients, triage, imports) or "admin" (also the audit log and staff)',
  }),
});
export type InviteStaffInput = z.output<typeof inviteStaffSchema>;
