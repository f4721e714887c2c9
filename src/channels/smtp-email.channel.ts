import nodemailer, { type Transporter } from 'nodemailer';
import {
  EmailChannel,
  fromHeader,
  SendError,
  type EmailMessage,
  type FaultKind,
  type LookupResult,
  type SendResult,
} from './channel.types.js';

/** What nodemailer puts on its errors: the SMTP reply and the command it answered. */
interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
}

/** Reply codes that mean our login is wrong or missing (RFC 4954). */
const AUTH_REPLIES = new Set([530, 534, 535, 538]);
/** Errors raised before any connection existed: nothing can have been sent. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EDNS', 'ENOTFOUND', 'EAI_AGAIN', 'ETLS']);

/**
 * Sorts an SMTP failure by who is at fault. The stage matters as much as the code: a 550 to
 * MAIL FROM refuses our sender (every message would fail), a 550 5.1.1 to RCPT TO refuses one
 * mailbox, a 5xx after DATA refuses one message.
 */
export function classifySmtpError(e: SmtpFailure): { kind: FaultKind; label: string } {
  const code = e.responseCode;
  const enhanced = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})/.exec(e.response ?? '')?.[1];
  const label = `SMTP ${code ?? e.code ?? 'error'}${enhanced ? ` ${enhanced}` : ''}${
    e.command ? ` at ${e.command}` : ''
  }`;
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || (code && AUTH_REPLIES.has(code)))
    return { kind: 'config', label };
  if (code === 421) return { kind: 'outage', label }; // the server is closing: not about anyone
  if (code && code >= 400) {
    const permanent = code >= 500;
    switch (e.command) {
      case 'MAIL FROM':
        // The server refuses our sender (policy, unverified domain) or is busy for everyone.
        return { kind: permanent ? 'config' : 'outage', label };
      case 'RCPT TO':
        if (!permanent) return { kind: 'retry', label };
        // 5.1.x: the address does not exist; plain 550/551/553 mean the same without a code.
        if (enhanced ? enhanced.startsWith('5.1.') : [550, 551, 553].includes(code))
          return { kind: 'recipient', label };
        return { kind: 'message', label };
      default:
        return { kind: permanent ? 'message' : 'retry', label };
    }
  }
  if (NOT_CONNECTED.has(e.code ?? '') || NOT_CONNECTED.has(codeOfCause(e)))
    return { kind: 'outage', label };
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return { kind: 'message', label };
  // A dropped connection or a timeout: the message may have been accepted before it broke.
  return { kind: 'unknown', label };
}

function codeOfCause(e: SmtpFailure): string {
  const m = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN)\b/.exec(e.message ?? '');
  return m?.[1] ?? '';
}

/** Pooled SMTP through nodemailer, with timeouts shorter than a delivery's lease. */
export class SmtpEmailChannel extends EmailChannel {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly timeoutMs = 20_000,
  ) {
    super();
    const url = new URL(smtpUrl);
    url.searchParams.set('pool', 'true');
    if (!url.searchParams.has('maxConnections')) url.searchParams.set('maxConnections', '5');
    if (!url.searchParams.has('maxMessages')) url.searchParams.set('maxMessages', '1000');
    const connect = String(Math.min(10_000, timeoutMs));
    for (const [key, value] of [
      ['connectionTimeout', connect],
      ['greetingTimeout', connect],
      ['socketTimeout', String(timeoutMs)],
    ] as const) {
      if (!url.searchParams.has(key)) url.searchParams.set(key, value);
    }
    this.transport = nodemailer.createTransport(url.toString());
  }

  async send(m: EmailMessage): Promise<SendResult> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const sending = this.transport.sendMail({
        from: fromHeader(this.from, m.fromName),
        to: m.to,
        subject: m.subject,
        html: m.html,
        text: m.text,
        replyTo: m.replyTo,
        messageId: m.messageId,
        headers: { ...m.headers, 'X-Delivery-Id': m.reference },
      });
      // socketTimeout counts idle time only; this bounds the whole exchange.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error('send timed out'), { code: 'ETIMEDOUT' })),
          this.timeoutMs + 1_000,
        );
      });
      const info = await Promise.race([sending, deadline]);
      if ((info.rejected ?? []).length > 0)
        throw new SendError('SMTP recipient rejected', 'recipient', 'rejected');
      return { providerId: info.messageId };
    } catch (err) {
      if (err instanceof SendError) throw err;
      const e = err as SmtpFailure;
      const { kind, label } = classifySmtpError(e);
      throw new SendError(label, kind, e.responseCode ?? e.code);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connects and logs in: the probe of a channel paused for bad credentials. */
  override async verify(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (err) {
      const e = err as SmtpFailure;
      const { kind, label } = classifySmtpError(e);
      throw new SendError(label, kind, e.responseCode ?? e.code);
    }
  }

  /** SMTP keeps no log we can ask; a resend carries the same Message-ID instead. */
  override async lookup(): Promise<LookupResult> {
    return { found: 'cannot-tell' };
  }

  override async close(): Promise<void> {
    this.transport.close();
  }
}
