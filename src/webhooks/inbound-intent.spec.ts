import { describe, expect, it } from '@jest/globals';
import { classifyInbound, optOutIn, physicianSignsIn, redFlagsIn } from './inbound-intent.js';

describe('classifyInbound', () => {
  it.each(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'])(
    'reads %p as stop, in any case, with spaces and punctuation',
    (word) => {
      for (const body of [
        word,
        word.toLowerCase(),
        `  ${word}  `,
        `${word}.`,
        `${word}!`,
        `\n${word[0]}${word.slice(1).toLowerCase()}!!\n`,
      ]) {
        expect(classifyInbound(body)).toEqual({ kind: 'stop', language: 'en' });
      }
    },
  );

  it.each([
    ['opt out', 'en'],
    ['Stop please', 'en'],
    ['STOP ALL', 'en'],
    ['no more texts', 'en'],
    ['PARAR', 'es'],
    ['no más mensajes', 'es'],
  ])('reads %p as stop (%s)', (body, language) => {
    expect(classifyInbound(body)).toEqual({ kind: 'stop', language });
  });

  it.each([
    ['START', 'en'],
    ['UNSTOP', 'en'],
    [' Yes. ', 'en'],
    ['yes please', 'en'],
    ['sí', 'es'],
  ])('reads %p as start (%s)', (body, language) => {
    expect(classifyInbound(body)).toEqual({ kind: 'start', language });
  });

  it.each([
    ['HELP', 'en'],
    [' Info. ', 'en'],
    ['AYUDA', 'es'],
  ])('reads %p as help (%s)', (body, language) => {
    expect(classifyInbound(body)).toEqual({ kind: 'help', language });
  });

  it.each([
    ['0', 0],
    ['7/10', 7],
    ['pain is 6', 6],
    ['6 today', 6],
  ])('reads %p as pain score %p', (body, score) => {
    expect(classifyInbound(body)).toEqual({ kind: 'pain', score, language: 'en' });
  });

  it.each(['11', '-1', '7.5', 'ok thanks', 'my back feels better', '', '   '])(
    'reads %p as unknown',
    (body) => {
      expect(classifyInbound(body)).toEqual({ kind: 'unknown', language: 'en' });
    },
  );

  it('reads warning signs with their ids, and the language', () => {
    expect(classifyInbound('tight band round my chest')).toEqual({
      kind: 'red-flag',
      language: 'en',
      signs: ['chest'],
    });
    expect(classifyInbound('me falta el aire')).toEqual({
      kind: 'red-flag',
      language: 'es',
      signs: ['breathing'],
    });
    expect(classifyInbound('back pain and a temperature of 39')).toEqual({
      kind: 'see-physician',
      language: 'en',
      signs: ['fever'],
    });
    expect(classifyInbound('me caí ayer')).toEqual({
      kind: 'see-physician',
      language: 'es',
      signs: ['injury'],
    });
  });

  describe('precedence: red-flag > stop > see-physician > start > help > pain > unknown', () => {
    it('an emergency wins over everything, and lists see-a-physician signs after its own', () => {
      expect(classifyInbound('stop texting me, chest pain')).toMatchObject({ kind: 'red-flag' });
      expect(classifyInbound('chest pain after a fall')).toEqual({
        kind: 'red-flag',
        language: 'en',
        signs: ['chest', 'injury'],
      });
      expect(classifyInbound('9 and chest pain')).toMatchObject({ kind: 'red-flag' });
      expect(classifyInbound('help, dizzy')).toMatchObject({ kind: 'red-flag' });
    });

    it('an opt-out wins over a see-a-physician sign and the rest', () => {
      expect(classifyInbound('had a fall. STOP')).toEqual({ kind: 'stop', language: 'en' });
      expect(classifyInbound('yes stop')).toEqual({ kind: 'stop', language: 'en' });
    });

    it('a see-a-physician sign wins over start, help and a score', () => {
      expect(classifyInbound('yes, fever')).toMatchObject({ kind: 'see-physician' });
      expect(classifyInbound('8, getting worse')).toMatchObject({ kind: 'see-physician' });
      expect(classifyInbound('fiebre 5')).toMatchObject({ kind: 'see-physician' });
    });

    // Start and help never both hold (each must be nearly the whole message); a score needs
    // a message of score words only.
    it('start and help are read before a score', () => {
      expect(classifyInbound('sign me up, help')).toEqual({ kind: 'start', language: 'en' });
      expect(classifyInbound('who is this')).toEqual({ kind: 'help', language: 'en' });
    });
  });

  it('lets the caller honour a STOP inside an emergency message', () => {
    const body = 'STOP. chest pain';
    expect(classifyInbound(body).kind).toBe('red-flag');
    expect(optOutIn(body)).toBe(true);
    expect(redFlagsIn(body)).toEqual(['chest']);
    expect(physicianSignsIn('fever')).toEqual(['fever']);
  });
});
