import type { ParsedMail } from 'mailparser';
import type { SmtpSink } from './smtp-sink.js';

export const recipientOf = (m: ParsedMail) =>
  !Array.isArray(m.to) ? m.to?.value[0]?.address : undefined;
export const mailsTo = (smtp: SmtpSink, address: string) =>
  smtp.messages.filter((m) => recipientOf(m) === address);

/** The path of the first link in a mail's text part that starts with `/<kind>/`. */
export function linkPath(
  mail: ParsedMail,
  kind: 'confirm' | 'unsubscribe' | 'preferences',
): string {
  const m = new RegExp(`https?://[^/\\s]+(/${kind}/[A-Za-z0-9_-]+)`).exec(mail.text ?? '');
  if (!m) throw new Error(`no ${kind} link in the mail`);
  return m[1]!;
}
