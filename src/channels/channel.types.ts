export interface EmailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  replyTo?: string;
  headers?: Record<string, string>;
  /** Our delivery id, so outbox files and logs can be matched to the delivery. */
  reference: string;
}

export interface SmsMessage {
  to: string;
  body: string;
  reference: string;
}

export interface SendResult {
  providerId: string;
}

export abstract class EmailChannel {
  abstract readonly name: string;
  abstract send(message: EmailMessage): Promise<SendResult>;
  async close(): Promise<void> {}
}

export abstract class SmsChannel {
  abstract readonly name: string;
  abstract send(message: SmsMessage): Promise<SendResult>;
  async close(): Promise<void> {}
}

/**
 * A send that failed. `permanent` failures (bad address, opted-out number, mailbox gone)
 * are not retried; others are, with backoff. `retryAfterMs` marks a provider's rate limit.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly code?: string | number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SendError';
  }
}
