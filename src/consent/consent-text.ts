import type { Campaign } from '../campaigns/index.js';
import { campaignFacts } from '../rendering/index.js';

/**
 * What a person agrees to, versioned: each consent event records the version it showed, and
 * the export gives the exact words. Never edit a published version; add a new one.
 */
export const CONSENT_TEXTS = {
  'signup-v1':
    'I agree to receive {programme}: one self-care message a day for {days} days by the channel I chose, ' +
    'from {sender}. Msg & data rates may apply. Reply HELP for help, STOP to opt out, or use the ' +
    'unsubscribe link in any email. I agree that my contact details, time zone and any pain scores I send ' +
    'are kept to run the programme, as described in the privacy notice.',
  // v1 said "one a day for {days} days" while {days} counted only the tips: 5, of 7 messages.
  'signup-v2':
    'I agree to receive {programme} from {sender} by the channel I chose: {messages} messages, {pace} ' +
    '(a welcome, {days} self-care tips and a recap). Msg & data rates may apply. Reply HELP for help, ' +
    'STOP to opt out, or use the unsubscribe link in any email. I agree that my contact details, time ' +
    'zone and any pain scores I send are kept to run the programme, as described in the privacy notice.',
  'admin-v1':
    'Enrolled by an operator, who confirmed that the person agreed to receive the programme.',
  'clinic-attested-v1':
    'Enrolled by {sender}, which stated that the patient agreed to receive {programme} by the channel ' +
    'given, and recorded how, when and by whom that agreement was collected.',
  'sms-keyword-v1': 'Texted a keyword (STOP, START, YES) to the programme number.',
  'email-link-v1': 'Opened a link sent to their email address (confirm or unsubscribe).',
} as const;

export type ConsentTextVersion = keyof typeof CONSENT_TEXTS;
export const CURRENT_SIGNUP_TEXT: ConsentTextVersion = 'signup-v2';

/**
 * What fills a text's placeholders. `messages` (every message, welcome and recap included)
 * and `pace` are needed by signup-v2 onwards: build them with consentVars.
 */
export interface ConsentVars {
  programme: string;
  days: number;
  sender: string;
  messages?: number;
  pace?: string;
}

/** The placeholders of a signup text for one campaign, as the form shows them. */
export function consentVars(campaign: Campaign, sender: string): Required<ConsentVars> {
  const facts = campaignFacts(campaign);
  return {
    programme: campaign.name,
    days: facts.days,
    sender,
    messages: facts.messages,
    pace: paceOf(campaign.cadence),
  };
}

/** Part of the versioned words of signup-v2: change it only together with a new version. */
function paceOf(cadence: Campaign['cadence']): string {
  if (cadence.type === 'daily') return 'at most one a day';
  const seconds = Math.round(cadence.everyMs / 1000);
  const every =
    seconds % 3600 === 0
      ? plural(seconds / 3600, 'hour')
      : seconds % 60 === 0
        ? plural(seconds / 60, 'minute')
        : plural(seconds, 'second');
  return `one every ${every}, as a demonstration`;
}

const plural = (n: number, unit: string) => (n === 1 ? unit : `${n} ${unit}s`);

export function consentText(
  version: string | null,
  vars: Partial<ConsentVars> = {},
): string | null {
  const text = version ? CONSENT_TEXTS[version as ConsentTextVersion] : undefined;
  if (!text) return null;
  return text.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = vars[key as keyof ConsentVars];
    // Words with a hole in them must never be shown or stored as what someone agreed to.
    if (value === undefined) throw new Error(`consent text ${version}: no value for {${key}}`);
    return String(value);
  });
}
