import { z } from 'zod';

/** The fields of Twilio's message status callback that we use; the rest are ignored. */
export const statusCallbackSchema = z.object({
  MessageSid: z
    .string()
    .regex(/^(SM|MM)[0-9a-f]{32}$/i, 'must be a Twilio message sid (SM followed by 32 hex digits)'),
  MessageStatus: z.enum(
    [
      'accepted',
      'scheduled',
      'queued',
      'sending',
      'sent',
      'delivered',
      'undelivered',
      'failed',
      'read',
      'canceled',
      'receiving',
      'received',
    ],
    { message: 'is not a Twilio message status' },
  ),
  ErrorCode: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a numeric Twilio error code')
    .optional(),
});
export type StatusCallback = z.output<typeof statusCallbackSchema>;
