/**
 * Lower case, accents and apostrophes dropped, punctuation kept: "¿Más?" → "¿mas?",
 * "Can’t" → "cant". Patterns are then written once, without accents or apostrophes.
 */
export function plain(body: string): string {
  return body
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['\u2018\u2019\u02bc`\u00b4]/g, '');
}

/**
 * The words and numbers of a text, one space apart: "Chest-pain!! 38,5°" → "chest pain 38.5".
 * Emoji and punctuation go; a decimal comma becomes a point.
 */
export function wordsOf(body: string): string {
  const tokens = plain(body).match(/\d+(?:[.,]\d+)?|[a-z]+/g) ?? [];
  return tokens.join(' ').replace(/,/g, '.');
}

/** The clauses of a message (split at . ! ? , ; : and line breaks), each as its words. */
export function clausesOf(body: string): string[][] {
  return plain(body)
    .split(/[.!?,;:\n]/)
    .map((clause) => wordsOf(clause).split(' ').filter(Boolean))
    .filter((words) => words.length > 0);
}
