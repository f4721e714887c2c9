/** Masks an email address for logs: "jane.doe@example.com" -> "j***@e***.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${email[0]}***@${domain[0] ?? ''}***${tld}`;
}

/** Masks a phone number for logs, keeping the country code's first digits and the last two. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  return `+${digits.slice(0, 2)}***${digits.slice(-2)}`;
}

export function maskAddress(address: string): string {
  return address.includes('@') ? maskEmail(address) : maskPhone(address);
}

const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE_IN_TEXT = /\+?\d[\d\s().-]{6,}\d/g;

/** Masks any email address or phone number inside free text (error messages, URLs). */
export function maskText(text: string): string {
  return text
    .replace(EMAIL_IN_TEXT, (m) => maskEmail(m))
    .replace(PHONE_IN_TEXT, (m) => maskPhone(m));
}

/**
 * What of an error may go into a log: its kind, code and masked message and stack. Never the
 * whole object: a PostgreSQL error's `detail` holds the row's values, an address among them.
 */
export function safeError(err: unknown): {
  type: string;
  code?: string;
  message: string;
  stack?: string;
} {
  if (!(err instanceof Error)) return { type: typeof err, message: maskText(String(err)) };
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    message: maskText(err.message),
    stack: err.stack ? maskText(err.stack) : undefined,
  };
}
