export interface EmailMessage {
  to: string;
  /**
   * The display name of From (a clinic's name). The address, and the envelope sender, stay
   * MAIL_FROM's: that domain signs the mail. Unset: MAIL_FROM as configured.
   */
  fromName?: string;
  subject: string;
  html: string;
  text: string;
  replyTo?: string;
  headers?: Record<string, string>;
  /** Our delivery id, so outbox files and logs can be matched to the delivery. */
  reference: string;
  /**
   * A Message-ID derived from the delivery: a resend after an unknown outcome carries the
   * same one, and mailbox providers drop the second copy.
   */
  messageId?: string;
}

export interface SmsMessage {
  to: string;
  /** A number or messaging service sid (`MG...`) to send from; unset: the channel's own. */
  from?: string;
  body: string;
  reference: string;
}

/**
 * The From of an email: MAIL_FROM as configured, or its address under another display name
 * (nodemailer quotes and encodes it). Control characters cannot reach the header.
 */
export function fromHeader(
  mailFrom: string,
  name?: string,
): string | { name: string; address: string } {
  const shown = name?.replace(/\p{Cc}+/gu, ' ').trim();
  if (!shown) return mailFrom;
  return { name: shown, address: (/<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom).trim() };
}

export interface SendResult {
  providerId: string;
}

/** What the provider's own records say about a message whose outcome we do not know. */
export type LookupResult =
  | { found: true; providerId: string; sentAt?: Date }
  | { found: false }
  /** The provider keeps no log we can ask (SMTP): the caller must decide without one. */
  | { found: 'cannot-tell' };

/**
 * Who is at fault when a send fails, which decides what happens next:
 * - `recipient`: this address can never receive (no such mailbox, not a mobile, opted out at
 *   the carrier). The delivery fails, the address is suppressed, its enrolments end.
 * - `message`: this one message was refused (too large, content policy). It fails alone.
 * - `config`: our setup is wrong (credentials, sender). The channel's queue pauses until a
 *   probe succeeds; nothing fails meanwhile.
 * - `outage`: the provider or the network is down. The whole queue backs off; the recipient's
 *   attempts are not spent.
 * - `rate-limit`: the provider asked us to slow down (429), perhaps saying for how long.
 * - `retry`: a temporary problem with this recipient (mailbox busy). Retried with backoff.
 * - `unknown`: the request may have reached the provider (a timeout, a dropped connection):
 *   the message may have gone. Settled by the reconciler, never by guessing.
 */
export type FaultKind =
  'recipient' | 'message' | 'config' | 'outage' | 'rate-limit' | 'retry' | 'unknown';

/** A send that failed, with who is at fault. */
export class SendError extends Error {
  constructor(
    message: string,
    readonly kind: FaultKind,
    readonly code?: string | number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SendError';
  }

  /** Failures that no retry of this message can fix. */
  get permanent(): boolean {
    return this.kind === 'recipient' || this.kind === 'message';
  }
}

/** Shared by both channels: send, check the setup, and look a message up after a crash. */
abstract class Channel<M> {
  abstract readonly name: string;
  abstract send(message: M): Promise<SendResult>;
  /** Checks credentials and settings without sending; throws a SendError when they are wrong. */
  async verify(): Promise<void> {}
  /** Whether the provider accepted this message at or after `since`. */
  abstract lookup(message: M, since: Date): Promise<LookupResult>;
  async close(): Promise<void> {}
}

export abstract class EmailChannel extends Channel<EmailMessage> {}
export abstract class SmsChannel extends Channel<SmsMessage> {}
