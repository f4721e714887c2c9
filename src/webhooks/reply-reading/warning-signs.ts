/**
 * Warning signs in a free-text SMS reply (CONTENT.md's emergency list). Errs towards a match:
 * a false alarm costs a paused tip and an emergency reminder, a missed one much more. Negations
 * ("no chest pain") therefore still match.
 */
export type RedFlag =
  'chest' | 'breathing' | 'heart-attack' | 'arm-or-jaw' | 'numbness' | 'fainting';

const OPT_MY = String.raw`(?:(?:my|the)\s+)?`;
const OPT_SIDE = String.raw`(?:(?:left|right)\s+)?`;
// "pain in", "pain down", "pain is spreading to", "pain shooting into" ...
const PAIN_GOING = String.raw`pain\s+(?:is\s+|that\s+)?(?:[a-z]+ing\s+)?(?:in|down|into|to|along|through)\s+`;

const PATTERNS: Record<RedFlag, RegExp[]> = {
  chest: [
    /\bchest\s*(?:pains?|aches?|pressure|tight\w*|hurts?|hurting)\b/,
    /\bchest\s+(?:is|feels|feeling)\s+(?:very\s+|so\s+)?(?:tight|heavy|crushed)\b/,
    new RegExp(
      String.raw`\b(?:pain|pressure|tightness|heaviness)\s+(?:in|on|across)\s+${OPT_MY}chest\b`,
    ),
    /\btight(?:ness)?\s+(?:in\s+)?(?:my\s+)?chest\b/,
  ],
  breathing: [
    /\b(?:can'?t|cannot|can\s+not|couldn'?t|could\s+not)\s+(?:catch\s+my\s+)?breath(?:e|ing)?\b/,
    /\bshort(?:ness)?\s+of\s+breath\b/,
    /\b(?:trouble|difficulty|struggling|hard\s+to)\s+breath(?:e|ing)?\b/,
  ],
  'heart-attack': [/\bheart\s*attack\b/],
  'arm-or-jaw': [
    new RegExp(String.raw`\b${PAIN_GOING}${OPT_MY}${OPT_SIDE}arms?\b`),
    new RegExp(String.raw`\b${PAIN_GOING}${OPT_MY}jaw\b`),
    /\bjaw\s*(?:pain|aches?|hurts?|hurting)\b/,
  ],
  // Not "number": people text "what number do I send?".
  numbness: [/\bnumb(?:ness|ed|ing)?\b/],
  // Not a bare "faint", which also means "slight" ("a faint ache").
  fainting: [
    /\bfaint(?:ed|ing|s)\b/,
    /\b(?:feel|felt|feeling|going\s+to|gonna|about\s+to)\s+faint\b/,
    /\b(?:pass|passed|passing|black|blacked|blacking)\s+out\b/,
  ],
};

/** Lower case, straight apostrophes, single spaces. */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/g, "'")
    .replace(/\s+/g, ' ');
}

/** The warning signs the text mentions, in a fixed order; empty when none. */
export function redFlagsIn(text: string): RedFlag[] {
  const t = normalise(text);
  return (Object.keys(PATTERNS) as RedFlag[]).filter((flag) =>
    PATTERNS[flag].some((p) => p.test(t)),
  );
}
