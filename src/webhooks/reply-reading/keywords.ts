import { clausesOf, wordsOf } from './text.js';

/*
 * Opt-out, opt-in and help, in ordinary words. A missed opt-out costs a lawsuit (the FCC's
 * 2024 rule accepts revocation "by any reasonable means"), a wrong one a "reply START to
 * rejoin": so opt-outs are read generously, opt-ins and help strictly.
 */

// Words that say "stop" when a clause holds nothing else (with polite filler): "STOP",
// "Stop please", "END.", "alto", "basta ya", "no. PARAR". Some are ordinary words in a
// sentence ("end of the day", "dolor alto"), so this is the only place they count. (STOP and
// its typos are in STOP_SPELLINGS; "unsubscribe" and "optout" count anywhere, in REVOKING.)
const STOP_CLAUSE_WORDS = new Set([
  'stopall',
  'end',
  'quit',
  'cancel',
  'revoke',
  'remove',
  'enough',
  'parar',
  'para',
  'pare',
  'paren',
  'baja',
  'cancelar',
  'alto',
  'fin',
  'basta',
]);
const POLITE = new Set([
  'please',
  'pls',
  'plz',
  'now',
  'all',
  'it',
  'this',
  'thanks',
  'thank',
  'you',
  'ok',
  'just',
  'already',
  'por',
  'favor',
  'ya',
  'gracias',
  'todo',
]);

// STOP as typed: "stop", "stopp", "stoppp", "sotp", "stpo".
const STOP_SPELLINGS = /^(?:stop+|sotp|stpo)$/;

// Phrases that revoke consent wherever they stand, in a message of any length.
const REVOKING = [
  /\bunsub|\bopt ?out\b|\bopt me out\b|\b(?:remove|delete) (?:me|my number)\b|\btake me off\b/,
  /\bleave me alone\b|\bwrong number\b|\b(?:not|no longer) interested\b|\bwant out\b/,
  /^no (?:more|thanks|thank you|gracias)(?: please| thanks)?$/,
  /\b(?:stop|quit|cease|end)(?: \w+){0,2} (?:texts?|txts?|texting|msgs?|messages?|messaging|sending|contacting)\b/,
  /\b(?:dont|do not|never) (?:text|txt|message|msg|contact|send|sms) me\b/,
  /\b(?:dont|do not) want (?:these|this|them|any more|anymore|texts|messages)\b/,
  /\b(?:no more|enough|too many|sick of|tired of)(?: \w+)? (?:texts|txts|msgs|messages)\b/,
  /\bno more (?:of )?(?:these|them)\b/,
  /\bcancel\w* (?:\w+ )?subscription\b/,
  /\b(?:dar|darme|den|denme) de baja\b|\bdesuscrib/,
  /\bno(?: \w+){0,2} mas (?:mensajes|sms|textos)\b|\bno quiero(?: \w+){0,2} mensajes\b/,
  /\bno me (?:manden|envien|escriban|contacten|molesten)\b|\bdej(?:en|a) de (?:mandar|enviar|escribir)/,
  /\b(?:quit|borr|sac|saqu)(?:ar|a|en|e)me\b|\bnumero equivocado\b|\bno me interesa\b|\bdej(?:en|a)me en paz\b/,
];

// In a short message, these stop words count anywhere in it: "i want to stop getting these".
const SHORT_MESSAGE_WORDS = 8;
const STOP_INSIDE = /\b(?:stop+|stopall|parar|paren|cancel|cancelar)\b/;
// ...unless negated ("don't stop", "won't stop", "no parar"; but "no, parar" is two clauses)
const NEGATED = /\b(?:dont|not|never|wont|doesnt|didnt|cant|cannot) stop+\b|\bno (?:parar|paren)\b/;
// ...or about something other than the messages ("stop the heat if it burns"),
const ABOUT_CARE =
  /\bstop+ (?:(?:the|using|doing|my) ){0,2}(?:pain|hurt|ach|heat|exercis|stretch|roll|foam|massag|ice|if|when|after|before)|\bparar (?:\w+ )?(?:dolor|doler|ejercicio|calor)/;
// ...or, for "cancel", about an appointment.
const APPOINTMENT = /\b(?:appointment|appt|session|booking|visit|cita|sesion|consulta)/;

/** True when the message revokes consent to be texted. */
export function optOutIn(body: string): boolean {
  const text = body.replace(/\u{1F6D1}/gu, ' stop '); // the stop-sign emoji
  const words = wordsOf(text);
  if (REVOKING.some((p) => p.test(words))) return true;
  const clauses = clausesOf(text);
  if (clauses.some((clause) => onlyOf(clause, isStopWord, POLITE))) return true;
  if (words.split(' ').length > SHORT_MESSAGE_WORDS) return false;
  return clauses.some((clause) => {
    const c = clause.join(' ');
    if (!STOP_INSIDE.test(c) || NEGATED.test(c) || ABOUT_CARE.test(c)) return false;
    return !(/\bcancel/.test(c) && APPOINTMENT.test(words));
  });
}

function isStopWord(word: string): boolean {
  return STOP_CLAUSE_WORDS.has(word) || STOP_SPELLINGS.test(word);
}

const START_WORDS = new Set([
  'start',
  'unstop',
  'restart',
  'subscribe',
  'resubscribe',
  'yes',
  'yeah',
  'yep',
  'yup',
  'si',
  'comenzar',
  'empezar',
]);
const START_FILLER = new Set([
  ...POLITE,
  'again',
  'okay',
  'sure',
  'i',
  'do',
  'want',
  'to',
  'me',
  'claro',
  'de',
  'nuevo',
]);
const START_PHRASE = /\bopt (?:me )?in\b|\bsign me (?:back )?up\b|\bcount me in\b/;

/**
 * True when the message asks to (re)join: a start word with nothing but filler ("Yes!",
 * "yes please", "Start again", "sí"), or "sign me up". Not "yes it helped": a YES confirms a
 * signup, so it must stand alone.
 */
export function optInIn(body: string): boolean {
  const words = wordsOf(body);
  return (
    START_PHRASE.test(words) || onlyOf(words.split(' '), (w) => START_WORDS.has(w), START_FILLER)
  );
}

const HELP_WORDS = new Set(['help', 'info', 'information', 'ayuda', 'informacion']);
const HELP_FILLER = new Set([
  ...POLITE,
  'me',
  'i',
  'need',
  'more',
  'hi',
  'hello',
  'hola',
  'necesito',
  'mas',
]);
const WHO_ARE_YOU =
  /^(?:(?:hi|hello|hey|hola|sorry) )?(?:who is this|whos this|who are you|what is this|quien (?:es|eres|son)|que es esto)$/;

/** True when the message asks for help: HELP, INFO, AYUDA (with filler), or "who is this?". */
export function helpIn(body: string): boolean {
  const words = wordsOf(body);
  return WHO_ARE_YOU.test(words) || onlyOf(words.split(' '), (w) => HELP_WORDS.has(w), HELP_FILLER);
}

/** True when `words` hold at least one keyword and nothing but keywords and filler. */
function onlyOf(words: string[], isKeyword: (w: string) => boolean, filler: Set<string>): boolean {
  return words.some(isKeyword) && words.every((w) => isKeyword(w) || filler.has(w));
}
