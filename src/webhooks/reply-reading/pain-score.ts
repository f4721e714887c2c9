import { plain, wordsOf } from './text.js';

const NUMBER_WORDS = [
  ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'],
  ['cero', 'uno', 'dos', 'tres', 'cuatro', 'cinco', 'seis', 'siete', 'ocho', 'nueve', 'diez'],
];

// Words that may stand beside a score: "pain is 6", "about a 5", "6 today thanks", "hoy un 3".
const SCORE_CONTEXT = new Set(
  (
    'pain is its it i im id at my back the a about around maybe prob probably like say rate ' +
    'today now tonight this morning still only better worse than yesterday thanks ok ish level ' +
    'dolor es un una mi de espalda hoy ahora ayer mejor peor que gracias'
  ).split(' '),
);

/**
 * The 0-10 pain score a reply gives, or null. One whole number (digits, or a number word in
 * English or Spanish), alone or as "7/10", "7 out of 10", "7 de 10", with only the words above
 * beside it. Two numbers ("from 8 to 5", "6-7"), a sign ("-1") or a fraction ("7.5") is not a
 * score: the reply asking for "a number 0-10" is a better answer than a guess.
 */
export function painScoreIn(body: string): number | null {
  const text = plain(body).replace(/(?<=\d) *(?:\/|out of|de|over) *10\b/g, '');
  if (/- *\d/.test(text)) return null;
  const words = wordsOf(text).split(' ');
  const numbers = words.filter((w) => valueOf(w) !== null);
  if (numbers.length !== 1) return null;
  const score = valueOf(numbers[0]!)!;
  if (!Number.isInteger(score) || score > 10) return null;
  return words.every((w) => w === numbers[0] || SCORE_CONTEXT.has(w)) ? score : null;
}

/** The value of a number written in digits or as a word 0-10; null for any other word. */
function valueOf(word: string): number | null {
  if (/\d/.test(word)) return Number(word);
  for (const names of NUMBER_WORDS) {
    const n = names.indexOf(word);
    if (n >= 0) return n;
  }
  return null;
}
