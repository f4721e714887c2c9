import { z } from 'zod';
import { normaliseSender } from '../subscribers/index.js';

/** Twilio's longest inbound message, in characters. */
export const MAX_INBOUND_LENGTH = 1600;

/**
 * The fields of Twilio's inbound-message webhook that we use (it posts many more, which are
 * ignored). `From` becomes E.164.
 */
export const inboundSmsSchema = z
  .object({
    From: z.string({ message: 'is required: the sender’s phone number' }).transform((v, ctx) => {
      const phone = normaliseSender(v);
      if (!phone) {
        ctx.addIssue({
          code: 'custom',
          message: 'is not a phone number in international format such as +14155550123',
        });
        return z.NEVER;
      }
      return phone;
    }),
    // Counted in characters (code points), as Twilio counts, not UTF-16 units.
    Body: z
      .string({ message: 'is required: the text of the message' })
      .refine(
        (v) => [...v].length <= MAX_INBOUND_LENGTH,
        `must be at most ${MAX_INBOUND_LENGTH} characters`,
      ),
    MessageSid: z
      .string()
      .regex(/^[A-Za-z0-9]{2,64}$/, 'must be a Twilio message sid such as SM0123...')
      .optional(),
  })
  .transform((v) => ({ from: v.From, body: v.Body, messageSid: v.MessageSid }));

export type InboundSms = z.output<typeof inboundSmsSchema>;
