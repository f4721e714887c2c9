import { wordsOf } from './text.js';

export type Language = 'en' | 'es';

// Common words of each language that are rare in the other (so not "no", "me", "a").
const SPANISH = new Set(
  (
    'si de la el los las y que por favor para gracias hola tengo estoy duele dolor pecho ' +
    'espalda mi mas mensajes muy hoy ayer bien mal con se un una es esta parar baja alto ' +
    'cancelar ayuda fiebre brazo cuello creo siento voy cada vez peor mejor quiero entiendo ' +
    'comenzar empezar respirar cuesta casi'
  ).split(' '),
);
const ENGLISH = new Set(
  (
    'i im my the and is it to of you your this that in with have had feel pain back ' +
    'stop please thanks thank help yes not today can what how do dont'
  ).split(' '),
);

/**
 * The reply's language, for the answer: Spanish when it has more Spanish marker words than
 * English ones (an accent, ñ, ¿ or ¡ counts as one), English otherwise, and when unsure.
 */
export function languageOf(body: string): Language {
  const words = wordsOf(body).split(' ');
  const accents = /[\u00e1\u00e9\u00ed\u00f3\u00fa\u00f1\u00bf\u00a1]/i.test(body) ? 1 : 0;
  const spanish = words.filter((w) => SPANISH.has(w)).length + accents;
  const english = words.filter((w) => ENGLISH.has(w)).length;
  return spanish > english ? 'es' : 'en';
}
