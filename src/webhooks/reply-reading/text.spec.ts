import { describe, expect, it } from '@jest/globals';
import { clausesOf, plain, wordsOf } from './text.js';

describe('plain', () => {
  it('lowers case and drops accents and apostrophes, keeping punctuation', () => {
    expect(plain('¿Más? Can’t DON‘T it´s I`m ʼok')).toBe('¿mas? cant dont its im ok');
    expect(plain("Ñandú, CAN'T")).toBe('nandu, cant');
  });
});

describe('wordsOf', () => {
  it('keeps words and numbers, one space apart', () => {
    expect(wordsOf('  Chest-pain!!\n 38,5°  and 7/10 😬 ')).toBe('chest pain 38.5 and 7 10');
    expect(wordsOf('temp 38.5, ok')).toBe('temp 38.5 ok');
    expect(wordsOf('3.')).toBe('3');
    expect(wordsOf('38.25')).toBe('38.25');
    expect(wordsOf('🙂')).toBe('');
    expect(wordsOf('')).toBe('');
  });
});

describe('clausesOf', () => {
  it('splits at . ! ? , ; : and line breaks, dropping empty clauses', () => {
    expect(clausesOf('No. STOP!please,now;ok:fine?\nbye')).toEqual([
      ['no'],
      ['stop'],
      ['please'],
      ['now'],
      ['ok'],
      ['fine'],
      ['bye'],
    ]);
    expect(clausesOf('stop 🛑 ...  !')).toEqual([['stop']]);
    expect(clausesOf('')).toEqual([]);
  });
});
