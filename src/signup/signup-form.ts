import { InvalidInput, ZodPipe, type FieldError } from '../common/index.js';
import { checkContact } from '../subscribers/index.js';
import { RED_FLAGS, type RedFlagId } from './red-flags.js';
import { signupSchema, type SignupInput } from './signup.dto.js';

export type { FieldError };

/** A problem as the form shows it: the field's visible label, what to do, and where to go. */
export interface FormError {
  field: string;
  /** "Email address: enter an address like name@example.com" */
  text: string;
  /** Just "Enter an address like name@example.com", shown beside the field. */
  advice: string;
  /** The control the error summary links to. */
  href: string;
}

const pipe = new ZodPipe(signupSchema);

/** The form's fields in page order, with the label each shows (signup.hbs). */
const FIELDS: { field: string; label: string; target?: string }[] = [
  { field: 'campaign', label: 'Programme', target: 'main' },
  { field: 'name', label: 'Your first name' },
  { field: 'channel', label: 'How should we send your tips?', target: 'channel-email' },
  { field: 'email', label: 'Email address' },
  { field: 'phone', label: 'Mobile number' },
  { field: 'country', label: 'Mobile number', target: 'phone' },
  { field: 'timezone', label: 'Your time zone' },
  { field: 'sendTime', label: 'What time of day?' },
  { field: 'redFlags', label: 'Do you have any of these right now?' },
  { field: 'consent', label: 'Your agreement' },
];

/**
 * Fills in the channel from the one address given: someone who typed only an email address
 * wants email. With both or neither, the person still has to choose.
 */
export function withDefaultChannel(raw: Record<string, unknown>): Record<string, unknown> {
  if (raw.channel !== undefined) return raw;
  const email = raw.email !== undefined;
  const phone = raw.phone !== undefined;
  if (email === phone) return raw;
  return { ...raw, channel: email ? 'email' : 'sms' };
}

/**
 * Everything wrong with a signup, all at once, in the order of the page: the schema's
 * problems, then the address or number, then consent. One problem per field. `extra` adds
 * checks that need the service's knowledge (the campaign).
 */
export function signupProblems(
  raw: Record<string, unknown>,
  extra: (input: Partial<SignupInput>) => FieldError[] = () => [],
): { input?: SignupInput; errors: FieldError[] } {
  const found: FieldError[] = [];
  let input: SignupInput | undefined;
  try {
    input = pipe.transform(raw);
  } catch (err) {
    if (!(err instanceof InvalidInput)) throw err;
    found.push(...err.errors);
  }
  const text = (key: string) => (typeof raw[key] === 'string' ? (raw[key] as string) : undefined);
  const channel = raw.channel === 'email' || raw.channel === 'sms' ? raw.channel : undefined;
  found.push(
    ...checkContact({
      channel,
      email: text('email'),
      phone: text('phone'),
      country: text('country'),
    }).errors,
  );
  if (raw.consent === undefined) {
    found.push({ field: 'consent', message: 'tick the box to agree to receive the messages' });
  }
  found.push(...extra(input ?? { campaign: text('campaign') ?? 'upper-back-relief' }));
  const seen = new Set<string>();
  const order = (f: string) => {
    const i = FIELDS.findIndex((x) => x.field === f);
    return i < 0 ? FIELDS.length : i;
  };
  const errors = found
    .filter((e) => !seen.has(e.field) && seen.add(e.field))
    .sort((a, b) => order(a.field) - order(b.field));
  return { input: errors.length === 0 ? input : undefined, errors };
}

/** The warning signs ticked, if that field alone is valid: they come before any other error. */
export function redFlagsTicked(raw: Record<string, unknown>): (typeof RED_FLAGS)[number][] {
  const ticked = signupSchema.shape.redFlags.safeParse(raw.redFlags);
  if (!ticked.success) return [];
  return RED_FLAGS.filter((f) => (ticked.data as RedFlagId[]).includes(f.id));
}

/** What a person should do about one problem, in plain words (the API's wording is terse). */
function advice(e: FieldError): string {
  const m = e.message;
  switch (e.field) {
    case 'email':
      return /required/.test(m)
        ? 'enter your email address, or choose text message'
        : 'enter an address like name@example.com';
    case 'phone':
    case 'country':
      return /required/.test(m)
        ? 'enter your mobile number, or choose email'
        : 'enter a mobile number with its country code, like +1 213 373 4253';
    case 'channel':
      return 'choose email or text message';
    case 'timezone':
      return 'choose your time zone from the list';
    case 'sendTime':
      return /HH:MM/.test(m) ? 'enter a time like 08:00' : m;
    case 'consent':
      return 'tick the box to agree to receive the messages';
    case 'redFlags':
      return 'tick only the signs in the list';
    case 'name':
      return /at most/.test(m)
        ? 'use at most 100 characters'
        : /single line/.test(m)
          ? 'write it on one line'
          : 'enter your first name as text, or leave it empty';
    case 'campaign':
      return /demo/.test(m)
        ? 'this demonstration is not offered here; start again from the signup page'
        : 'this programme is not offered here; start again from the signup page';
    default:
      return m;
  }
}

/** The errors as the form shows them, each labelled with its field's visible label. */
export function formErrors(errors: readonly FieldError[]): FormError[] {
  return errors.map((e) => {
    const known = FIELDS.find((f) => f.field === e.field);
    const what = advice(e);
    const sentence = what.charAt(0).toUpperCase() + what.slice(1);
    if (!known) {
      // Not a field of ours (a tampered or outdated form): say so plainly.
      return {
        field: e.field,
        text: `The form sent something we do not expect (${e.field}): please reload the page and try again`,
        advice: sentence,
        href: '#main',
      };
    }
    return {
      field: e.field,
      text: known.label.endsWith('?') ? `${known.label} ${sentence}` : `${known.label}: ${what}`,
      advice: sentence,
      href: `#${known.target ?? known.field}`,
    };
  });
}
