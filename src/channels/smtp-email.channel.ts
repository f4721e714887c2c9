import nodemailer, { type Transporter } from 'nodemailer';
import { EmailChannel, SendError, type EmailMessage, type SendResult } from './channel.types.js';

const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPROTOCOL',
]);

/** Pooled SMTP through nodemailer. 5xx replies are permanent; 4xx and network errors retry. */
export class SmtpEmailChannel extends EmailChannel {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    super();
    const url = new URL(smtpUrl);
    url.searchParams.set('pool', 'true');
    if (!url.searchParams.has('maxConnections')) url.searchParams.set('maxConnections', '5');
    if (!url.searchParams.has('maxMessages')) url.searchParams.set('maxMessages', '1000');
    this.transport = nodemailer.createTransport(url.toString());
  }

  async send(m: EmailMessage): Promise<SendResult> {
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: m.to,
        subject: m.subject,
        html: m.html,
        text: m.text,
        replyTo: m.replyTo,
        headers: { ...m.headers, 'X-Delivery-Id': m.reference },
      });
      if ((info.rejected ?? []).length > 0)
        throw new SendError('recipient rejected', true, 'rejected');
      return { providerId: info.messageId };
    } catch (err) {
      if (err instanceof SendError) throw err;
      const e = err as { responseCode?: number; code?: string; message?: string };
      const code = e.responseCode;
      if (typeof code === 'number' && code >= 500) throw new SendError(`SMTP ${code}`, true, code);
      if (typeof code === 'number' && code >= 400) throw new SendError(`SMTP ${code}`, false, code);
      throw new SendError(
        `SMTP ${e.code ?? 'error'}`,
        !TRANSIENT_CODES.has(e.code ?? '') && e.code === 'EENVELOPE',
        e.code,
      );
    }
  }

  override async close(): Promise<void> {
    this.transport.close();
  }
}
