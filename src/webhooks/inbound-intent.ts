import { helpIn, optInIn, optOutIn } from './reply-reading/keywords.js';
import { languageOf, type Language } from './reply-reading/language.js';
import { painScoreIn } from './reply-reading/pain-score.js';
import { physicianSignsIn, redFlagsIn } from './reply-reading/warning-signs.js';

export { optOutIn, redFlagsIn, physicianSignsIn, type Language };
export type { EmergencySign, PhysicianSign, WarningSign } from './reply-reading/warning-signs.js';

/** What an inbound SMS asks for; also the `kind` recorded in inbound_messages. */
export type InboundKind =
  'stop' | 'start' | 'help' | 'pain' | 'red-flag' | 'see-physician' | 'unknown';

export type Intent =
  | { kind: 'stop' | 'start' | 'help' | 'unknown'; language: Language }
  // signs: stable ids ('chest', 'breathing', 'fever', 'injury', ...): see warning-signs.ts
  | { kind: 'red-flag' | 'see-physician'; language: Language; signs: string[] }
  | { kind: 'pain'; score: number; language: Language };

/**
 * Reads a reply. One kind wins, in this order:
 *
 *   red-flag > stop > see-physician > start > help > pain > unknown
 *
 * An emergency sign wins even over an opt-out, so "stop, chest pain" still gets the emergency
 * guidance; `optOutIn` then tells the caller to honour the STOP as well. An opt-out wins over
 * the rest: after it, only its one confirmation may be sent. A red-flag's `signs` list its
 * emergency signs first, then any see-a-physician ones.
 */
export function classifyInbound(body: string): Intent {
  const language = languageOf(body);
  const emergency = redFlagsIn(body);
  const physician = physicianSignsIn(body);
  if (emergency.length > 0) {
    return { kind: 'red-flag', language, signs: [...emergency, ...physician] };
  }
  if (optOutIn(body)) return { kind: 'stop', language };
  if (physician.length > 0) return { kind: 'see-physician', language, signs: physician };
  if (optInIn(body)) return { kind: 'start', language };
  if (helpIn(body)) return { kind: 'help', language };
  const score = painScoreIn(body);
  if (score !== null) return { kind: 'pain', score, language };
  return { kind: 'unknown', language };
}
