/**
 * Every variable a template may use. All keys are always present (optional ones are null),
 * because templates compile in Handlebars' strict mode: a misspelt variable fails loudly.
 */
import { RATING_SCALE, type Campaign } from '../campaigns/index.js';

export interface RenderContext {
  firstName: string;
  /**
   * `days`: tips (steps other than the welcome and the wrap-up); `messages`: every step;
   * `daily`: one a day at the person's time (a demo runs on an interval instead).
   */
  campaign: { name: string; days: number; messages: number; daily: boolean };
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
  /**
   * How the person came to the programme, which the footer says: not yet (the double opt-in
   * message: they have asked, not joined), on the signup form, through their clinic, or
   * enrolled by an operator (who confirmed that they agreed). Exactly one is true.
   */
  joined: { pending: boolean; form: boolean; clinic: boolean; operator: boolean };
  /** `confirm` is set only for the double opt-in message. */
  links: {
    unsubscribe: string;
    preferences: string;
    confirm: string | null;
    /** Emails: the page where the person reports a warning sign (pauses, tells the clinic). */
    warningSign?: string | null;
  };
  /** The pain score being thanked for, in that SMS reply only. */
  score: number | null;
  /**
   * Set when the step carries a check-in (campaign.yaml `checkIns`); null otherwise. The
   * layouts ask the question: the email with one link per answer, the SMS by a number reply
   * (and a link to a page of answers for the rating of change).
   */
  checkIn: CheckInLinks | null;
}

export interface CheckInLinks {
  asksPain: boolean;
  asksRating: boolean;
  /** One link per pain score, 0 to 10 (empty when the step does not ask). */
  pain: { score: number; url: string }[];
  /** One link per rating of change, much better first (empty when the step does not ask). */
  rating: { label: string; url: string }[];
  /** A page offering the seven ratings: the SMS's link. */
  ratingPage: string | null;
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

/** What the messages may say about a campaign's length and pace. */
export function campaignFacts(campaign: Campaign): RenderContext['campaign'] {
  return {
    name: campaign.name,
    days: campaign.steps.filter((s) => s.key !== 'welcome' && s.key !== 'wrap-up').length,
    messages: campaign.steps.length,
    daily: campaign.cadence.type === 'daily',
  };
}

/**
 * `source` of an enrolment (`web-form`, `admin`, `cli`, a clinic's) as the footer tells it.
 * Unknown or absent means an operator: "you agreed and were enrolled" is true of everyone.
 */
export function joinedBy(
  source: string | null | undefined,
  pending = false,
): RenderContext['joined'] {
  const form = !pending && source === 'web-form';
  const clinic = !pending && !form && Boolean(source?.startsWith('clinic'));
  return { pending, form, clinic, operator: !pending && !form && !clinic };
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
    campaign: { name: 'Upper-Back Relief', days: 5, messages: 7, daily: true },
    step: { number: 1, total: 7 },
    joined: joinedBy('clinic-api'),
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
      warningSign: 'https://drip.example/warning-sign/sample-token',
    },
    score: 7,
    checkIn: null,
    ...overrides,
  };
}

/**
 * Sample check-in links, as long as real ones (a 67-character token), for the template checks
 * and the SMS length check of check-in steps.
 */
export function sampleCheckIn(asks: { pain: boolean; rating: boolean }): CheckInLinks {
  const url = (n: number) =>
    `https://drip.example/o/${'T'.repeat(65)}${String(n).padStart(2, '0')}`;
  return {
    asksPain: asks.pain,
    asksRating: asks.rating,
    pain: asks.pain ? Array.from({ length: 11 }, (_v, score) => ({ score, url: url(score) })) : [],
    rating: asks.rating ? RATING_SCALE.map((r, i) => ({ label: r.label, url: url(20 + i) })) : [],
    ratingPage: asks.rating ? url(99) : null,
  };
}
