/**
 * Every variable a template may use. All keys are always present (optional ones are null),
 * because templates compile in Handlebars' strict mode: a misspelt variable fails loudly.
 */
export interface RenderContext {
  firstName: string;
  campaign: { name: string; days: number };
  step: { number: number; total: number };
  sender: {
    name: string;
    isClinic: boolean;
    chiropractor: string | null;
    phone: string | null;
    bookingUrl: string | null;
    replyTo: string | null;
    address: string;
  };
  /** `confirm` is set only for the double opt-in message. */
  links: { unsubscribe: string; preferences: string; confirm: string | null };
  /** The pain score being thanked for, in that SMS reply only. */
  score: number | null;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface RenderedSms {
  body: string;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

/** The first word of a name, trimmed to something safe to greet with. */
export function firstNameOf(name: string | null | undefined): string {
  const first = (name ?? '').trim().split(/\s+/)[0] ?? '';
  return first.length > 0 ? first.slice(0, 40) : 'there';
}

/** Sample values for previews and template checks; long enough to catch overlong SMS. */
export function sampleContext(overrides: Partial<RenderContext> = {}): RenderContext {
  return {
    firstName: 'Alexandria',
    campaign: { name: 'Upper-Back Relief', days: 5 },
    step: { number: 1, total: 7 },
    sender: {
      name: 'Riverside Chiropractic Co.',
      isClinic: true,
      chiropractor: 'Dr. Lee',
      phone: '+1 555 010 0199',
      bookingUrl: 'https://clinic.example/book',
      replyTo: 'frontdesk@clinic.example',
      address: '12 River Road, Springfield, ST 00000',
    },
    links: {
      unsubscribe: 'https://drip.example/unsubscribe/sample-token',
      preferences: 'https://drip.example/preferences/sample-token',
      confirm: 'https://drip.example/confirm/sample-token',
    },
    score: 7,
    ...overrides,
  };
}
