import { ApiProperty } from '@nestjs/swagger';
import { z } from 'zod';
import { sendTimeSchema, timezoneSchema } from '../enrollments/index.js';
import { contactFields, nameSchema } from '../subscribers/index.js';
import { RED_FLAGS } from './red-flags.js';

const flagIds = RED_FLAGS.map((f) => f.id) as [string, ...string[]];
/** A ticked box: a form sends "on", JSON `true`. `false` is no agreement, so it is refused. */
const checkbox = z
  .union([z.literal(true), z.enum(['on', 'true', 'yes', '1'])], {
    message: 'tick the box to agree to receive the messages',
  })
  .transform(() => true);

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

/** A JSON signup accepted: nothing is sent until the person confirms. */
export class SignupAcceptedDto {
  @ApiProperty({ enum: ['pending-confirmation'] })
  status!: string;

  @ApiProperty({ example: 'Check your inbox: open the link in the email we just sent to start.' })
  message!: string;
}

/** A warning sign ticked: nobody is enrolled, and the person should get care first. */
export class NotEnrolledDto {
  @ApiProperty({ enum: ['not-enrolled'] })
  status!: string;

  @ApiProperty({ enum: ['red-flags'] })
  reason!: string;

  @ApiProperty({ description: 'A sign that needs emergency care now', example: true })
  emergency!: boolean;

  @ApiProperty({ type: 'string', isArray: true, enum: flagIds, example: ['chest'] })
  flags!: string[];
}
