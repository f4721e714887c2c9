import { describe, expect, it } from '@jest/globals';
import { classifyInbound } from './inbound-intent.js';

describe('classifyInbound', () => {
  it.each(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'])(
    'reads %p as stop, in any case, with spaces and a trailing period or exclamation',
    (word) => {
      for (const body of [
        word,
        word.toLowerCase(),
        `  ${word}  `,
        `${word}.`,
        `${word}!`,
        `\n${word[0]}${word.slice(1).toLowerCase()}!!\n`,
      ]) {
        expect(classifyInbound(body)).toEqual({ kind: 'stop' });
      }
    },
  );

  it.each(['START', 'UNSTOP', 'YES', 'start', ' Yes. ', 'unstop!'])('reads %p as start', (body) => {
    expect(classifyInbound(body)).toEqual({ kind: 'start' });
  });

  it.each(['HELP', 'INFO', 'help', ' Info. ', 'Help!'])('reads %p as help', (body) => {
    expect(classifyInbound(body)).toEqual({ kind: 'help' });
  });

  it.each([
    ['0', 0],
    ['7', 7],
    [' 10 ', 10],
    ['10.', 10],
    ['07', 7],
    ['7/10', 7],
    ['3 / 10', 3],
  ])('reads %p as pain score %p', (body, score) => {
    expect(classifyInbound(body)).toEqual({ kind: 'pain', score });
  });

  it.each(['11', '-1', '7.5', '100', '1 0', 'seven', '7 out of 10 today', '', '   '])(
    'reads %p as unknown',
    (body) => {
      expect(classifyInbound(body)).toEqual({ kind: 'unknown' });
    },
  );

  it.each(['STOP please', 'please stop', 'yes please', 'STOP STOP', 'stopp'])(
    'does not read %p as a keyword (it must be the whole message)',
    (body) => {
      expect(classifyInbound(body).kind).toBe('unknown');
    },
  );

  it('lets a warning sign win over a pain score', () => {
    expect(classifyInbound('9 and chest pain')).toEqual({ kind: 'red-flag' });
    expect(classifyInbound('chest pain')).toEqual({ kind: 'red-flag' });
  });
});
