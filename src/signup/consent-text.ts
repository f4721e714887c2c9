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
  'admin-v1':
    'Enrolled by an operator, who confirmed that the person agreed to receive the programme.',
  'sms-keyword-v1': 'Texted a keyword (STOP, START, YES) to the programme number.',
  'email-link-v1': 'Opened a link sent to their email address (confirm or unsubscribe).',
} as const;

export type ConsentTextVersion = keyof typeof CONSENT_TEXTS;
export const CURRENT_SIGNUP_TEXT: ConsentTextVersion = 'signup-v1';

export function consentText(
  version: string | null,
  vars: { programme: string; days: number; sender: string },
): string | null {
  const text = version ? CONSENT_TEXTS[version as ConsentTextVersion] : undefined;
  if (!text) return null;
  return text
    .replace('{programme}', vars.programme)
    .replace('{days}', String(vars.days))
    .replace('{sender}', vars.sender);
}

/** The red flags of CONTENT.md, as the form's checkboxes. `emergency` ones need a call now. */
export const RED_FLAGS = [
  { id: 'chest', label: 'Chest pain, pressure or tightness', emergency: true },
  { id: 'breath', label: 'Shortness of breath', emergency: true },
  { id: 'sweat', label: 'Sweating, nausea or feeling light-headed', emergency: true },
  { id: 'spread', label: 'Pain spreading to the arm, neck or jaw', emergency: true },
  { id: 'injury', label: 'Pain that started after a fall or injury', emergency: false },
  { id: 'fever', label: 'Fever', emergency: false },
  { id: 'weight', label: 'Weight loss you cannot explain', emergency: false },
  { id: 'numb', label: 'Numbness or weakness', emergency: false },
  { id: 'worse', label: 'Pain that keeps getting worse', emergency: false },
] as const;
export type RedFlagId = (typeof RED_FLAGS)[number]['id'];
