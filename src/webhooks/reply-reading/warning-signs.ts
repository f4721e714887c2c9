import { wordsOf } from './text.js';

/**
 * Warning signs in a free-text reply, as CONTENT.md lists them, in English and Spanish.
 *
 * Patterns run on `wordsOf(body)`: lower case, no accents or apostrophes, words one space
 * apart ("Can’t BREATHE!!" → "cant breathe"). They err towards a match: a false alarm costs
 * a paused tip and a reminder, a missed sign much more. A negation therefore still matches
 * ("no chest pain"): we cannot tell it from "now chest pain" or "no chest pain till today".
 */

/** Call the emergency number now (CONTENT.md's first group). */
export type EmergencySign =
  'chest' | 'heart' | 'breathing' | 'sweating' | 'nausea' | 'light-headed' | 'spreading';

/** See a physician soon (CONTENT.md's second group). */
export type PhysicianSign =
  'injury' | 'fever' | 'weight-loss' | 'numbness' | 'weakness' | 'worsening';

export type WarningSign = EmergencySign | PhysicianSign;

// Words for pain, ache or odd feeling in a body part, after which or before which "arm" or
// "jaw" is a sign that pain is spreading.
const HURT = String.raw`(?:pain|ache|aching|achy|hurt|sore|numb(?!er)|tingl|throb|shoot|stab|burn|tight|dolor|duele|adolorid)`;
const ARM_OR_JAW = String.raw`(?:arms?|jaw|brazos?|mandibula|quijada)\b`;

const EMERGENCY: Record<EmergencySign, RegExp[]> = {
  // Any mention of the chest once the exercise phrases are set aside (see CHEST_EXERCISE).
  chest: [/\b(?:chest|chst|chset|chets|cheast|pecho|torax|opresion)\b/, /\bheartburn\b/],
  // Any mention of the heart ("heart racing", "think its my heart"), not "heartburn".
  heart: [
    /\bheart(?:\b|attac?k)|\bhart ?attac?k|\binfarto\b|\bangina\b|\bpalpita/,
    /\bataque (?:al corazon|cardiaco)\b|\b(?:duele el|dolor de|dolor en el) corazon\b/,
    /\bcorazon (?:acelerado|me late|late muy)/,
  ],
  breathing: [
    // "cant breathe", "hard to breathe", "hurts to breath", "struggling to catch my breath"
    /\b(?:cant|cannot|can not|couldnt|could not|barely|hard to|harder to|trouble|difficulty|difficult to|struggling to|struggle to|unable to|hurts to|painful to)(?: \w+){0,2} br[ea]+th/,
    /\bbr[ea]+th\w*(?: \w+){0,2} (?:hard|difficult|painful|shallow|laboured|labored)\b/,
    /\b(?:short|shortness|out) of br[ea]+th|\bbreathless|\bwinded\b|\bgasping\b|\bwheez/,
    /\b(?:get|getting|enough|no) air\b/,
    /\b(?:no puedo|me cuesta|dificultad para) respirar\b|\brespiro mal\b/,
    /\bfalta (?:de |el )?aire\b|\bme ahog|\bsin aliento\b/,
  ],
  sweating: [/\bswea?t(?:s|y|ing|ting|ed)?\b|\bclammy\b|\bsud(?:or|ores|ando|oracion|o|e)\b/],
  nausea: [
    /\bnaus|\bnasea\b|\bqueasy\b|\bvomit|\bthr(?:ow|owing|ew) up\b|\bpuk(?:e|ed|ing)\b/,
    /\bsick to my stomach\b|\bfeel(?:ing)? (?:so |really |very )?sick\b/,
  ],
  'light-headed': [
    /\bli(?:gh)?te? ?headed|\bdiz+(?:y|i)|\bwoozy\b|\bvertigo\b|\b(?:room|head)(?: is)? spinning\b/,
    // Not a bare "faint", which also means "slight" ("a faint ache").
    /\bfaint(?:ed|ing|s)\b|\b(?:feel|felt|feeling|going to|gonna|about to|almost|nearly) faint\b/,
    /\b(?:pass|passed|passing|black|blacked|blacking) out\b|\bblackout\b|\bwent (?:black|dark)\b/,
    /\bmare(?:os?|ad[oa]s?)\b|\bdesmay/,
  ],
  spreading: [
    new RegExp(String.raw`\b${ARM_OR_JAW}(?: \w+){0,3} ${HURT}`),
    new RegExp(String.raw`\b${HURT}\w*(?: \w+){0,5} ${ARM_OR_JAW}`),
    // Pain that travels: "going into my neck", "up into my neck", "down my left arm".
    /\b(?:into|down|up|to|towards) (?:my |the )?(?:left |right )?(?:arms?|neck|jaw)\b/,
    /\b(?:al|hasta el|hacia el|por el|hasta la|hacia la) (?:brazo|cuello|mandibula)\b|\birradi/,
  ],
};

const PHYSICIAN: Record<PhysicianSign, RegExp[]> = {
  injury: [
    /\b(?:fell|fall|fallen|falling)\b(?! asleep| apart| behind)|\b(?:slipped|tripped)\b/,
    /\baccident|\bcrash|\bcollision\b|\bwhiplash\b|\b(?:rear ended|fender bender)\b|\btackled\b|\binjur/,
    /\b(?:hit by|got hit|was hit|knocked (?:over|down))\b|\bhurt myself\b/,
    /\b(?:cai|caida|caido|cayo)\b|\b(?:tropece|resbale|choque|lesion)\b|\bgolpe|\blastim/,
  ],
  fever: [
    /\bfe+a?ver|\bfiebre\b|\bcalentura\b|\bfebri|\bchills\b|\bescalofrio/,
    /\b(?:a|high|running|got|have|has|with) (?:\w+ )?temp(?:erature)?\b|\btemperatura alta\b/,
    /\btemp(?:erature|eratura)?(?: \w+){0,3} (?:3[89]|4[0-2]|10[0-6])\b/,
    /\b(?:3[89]|4[01]|10[0-5])(?:\.\d+)? (?:c|f|degrees|grados)\b/,
  ],
  'weight-loss': [
    /\b(?:lost|losing|dropped|dropping)(?: \w+){0,3} (?:weight|pounds|lbs?|kgs?|kilos|stone)\b/,
    /\bweight loss\b|\bweight (?:is )?(?:dropping|going down)\b/,
    /\b(?:perd|baj)\w*(?: \w+){0,3} (?:peso|kilos|kg)\b|\badelga[zc]/,
  ],
  numbness: [
    /\bnumb(?!er)|\btingl|\bpins and needles\b/,
    /\b(?:cant|cannot|can not|no) feel(?:ing)?(?: \w+){0,2} (?:hands?|fingers|feet|foot|toes|legs?)\b/,
    /\bhormigue|\bentumec|\badormec|\bse me (?:duerme|duermen|durmio|durmieron)\b/,
  ],
  weakness: [
    /\bweak|\b(?:no|losing|lost my) strength\b|\b(?:cant|cannot) (?:grip|lift|hold)\b/,
    /\bdropping (?:stuff|things)\b|\b(?:legs?|knees?) (?:gave|gives?|giving) (?:way|out)\b/,
    /\bdebil|\b(?:sin|no tengo|pierdo|perdiendo|perdi) (?:\w+ )?fuerza\b/,
  ],
  worsening: [
    /\b(?:getting|gets|growing) worse\b|\bworse and worse\b|\bworse than ever\b/,
    /\b(?:worse|more) (?:every|each|by the) (?:day|night|week|morning)\b|\bworst (?:pain )?ever\b/,
    /\bcada (?:vez|dia)(?: \w+){0,2} (?:peor|mas)\b|\bempeor|\bva a peor\b|\bpeor y peor\b/,
  ],
};

// The tips name a "chest stretch"; gym talk has "chest day": neither is a warning sign.
const CHEST_EXERCISE =
  /\bchest (?:stretch\w*|opener|day|press|flys?|flies|workout|exercises?)\b|\b(?:estiramientos?|ejercicios?) (?:de|del|para el) pecho\b/g;

function signsIn<S extends string>(table: Record<S, RegExp[]>, words: string): S[] {
  return (Object.keys(table) as S[]).filter((sign) => table[sign].some((p) => p.test(words)));
}

/** The emergency signs a reply mentions, in a fixed order; empty when none. */
export function redFlagsIn(body: string): EmergencySign[] {
  return signsIn(EMERGENCY, wordsOf(body).replace(CHEST_EXERCISE, 'exercise'));
}

/** The see-a-physician signs a reply mentions, in a fixed order; empty when none. */
export function physicianSignsIn(body: string): PhysicianSign[] {
  return signsIn(PHYSICIAN, wordsOf(body));
}
