import { redFlagsIn } from './red-flags.js';

/** What an inbound SMS asks for; also the `kind` recorded in inbound_messages. */
export type InboundKind = 'stop' | 'start' | 'help' | 'pain' | 'red-flag' | 'unknown';

export type Intent = { kind: Exclude<InboundKind, 'pain'> } | { kind: 'pain'; score: number };

// The carrier-standard opt-out and opt-in words (Twilio's list, plus REVOKE and OPTOUT).
const STOP_WORDS = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
const START_WORDS = new Set(['START', 'UNSTOP', 'YES']);
const HELP_WORDS = new Set(['HELP', 'INFO']);

/**
 * Reads a reply. Keywords must be the whole message (any case, spaces and a trailing "." or
 * "!" allowed). A warning sign wins over a pain score in the same message ("9 and chest pain").
 * A score is a whole number 0-10, alone or as "7/10".
 */
export function classifyInbound(body: string): Intent {
  const word = body
    .trim()
    .replace(/[.!]+$/, '')
    .trim()
    .toUpperCase();
  if (STOP_WORDS.has(word)) return { kind: 'stop' };
  if (START_WORDS.has(word)) return { kind: 'start' };
  if (HELP_WORDS.has(word)) return { kind: 'help' };
  if (redFlagsIn(body).length > 0) return { kind: 'red-flag' };
  const score = /^(\d{1,2})(?:\s*\/\s*10)?$/.exec(word);
  if (score && Number(score[1]) <= 10) return { kind: 'pain', score: Number(score[1]) };
  return { kind: 'unknown' };
}
