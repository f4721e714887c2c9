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

/*
 * One scan finds, at each position, the first of these that matches: shapes that are made of
 * digits but are nobody's address (kept as they are), then email addresses and phone numbers
 * (masked). Keeping is decided before masking, so `127.0.0.1:6379`, a UUID or an ISO time is
 * never mistaken for a phone number; colons are never part of a number, so IPv6 addresses,
 * times and ports are left alone too.
 */
const KEEP = [
  // UUID (its last group may be all digits)
  /[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z])/,
  // ISO 8601 date, optionally with a time and an offset
  /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?!\d)/,
  // IPv4 address, optionally with a port
  /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\d.])/,
];
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
const PHONES = [
  // international: + and 7-15 digits, perhaps grouped: +14155550123, +1 (415) 555-0123
  /\+\d(?:[ ().-]{0,2}\d){6,14}(?!\d)/,
  // US style: (415) 555-0123, 415-555-0123, 415 555 0123, 415.555.0123
  /(?<![\w.])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/,
  // national numbers, bare or in groups of two or more digits: 07911 123456, 06 12 34 56 78;
  // fewer than 8 digits in all is not taken for a number (see maskNumberLike)
  /(?<![\w.+-])\d{2,}(?:[ -]\d{2,}){0,5}(?![\w]|[.-]\d)/,
];
const IN_TEXT = new RegExp(
  [
    ...KEEP.map((r) => `(${r.source})`),
    `(${EMAIL.source})`,
    `(${PHONES.map((r) => r.source).join('|')})`,
  ].join('|'),
  'g',
);

function maskNumberLike(text: string): string {
  return text.replace(/\D/g, '').length >= 8 ? maskPhone(text) : text;
}

/**
 * Masks any email address or phone number inside free text (error messages, URLs), and leaves
 * IP addresses, ports, UUIDs, ISO dates and times and short numbers (durations, counts) alone.
 */
export function maskText(text: string): string {
  return text.replace(IN_TEXT, (match, ...groups: unknown[]) => {
    if (groups.slice(0, KEEP.length).some((g) => g !== undefined)) return match;
    if (groups[KEEP.length] !== undefined) return maskEmail(match);
    return maskNumberLike(match);
  });
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
