import { beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../common/index.js';
import { loadConfig } from '../config/index.js';
import { TokensService, type TokenPurpose } from './tokens.service.js';

const SUBJECT = '3f2b8c1e-7d4a-4e2b-9c61-0a5d7e8f9b10';
const DAY = 24 * 3600;

let clock: ManualClock;
let tokens: TokensService;

beforeEach(() => {
  clock = new ManualClock(new Date('2026-03-01T08:00:00Z'));
  tokens = new TokensService(loadConfig({ APP_SECRET: 'x'.repeat(40) }), clock);
});

/** The token with the character at `i` swapped for a different base64url character. */
function swapChar(token: string, i: number): string {
  const ch = token[i]!;
  return token.slice(0, i) + (ch === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

describe('TokensService round trip', () => {
  it.each(['unsubscribe', 'preferences', 'confirm'] as const)(
    'returns the subject of a %s token',
    (purpose) => {
      const token = tokens.issue(purpose, SUBJECT, DAY);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(tokens.verify(purpose, token)).toBe(SUBJECT);
    },
  );

  it('round-trips subjects with any characters', () => {
    for (const subject of [
      'jane.doe@example.com',
      '+447911123456',
      'Zoë "quoted" \\ ünïcödé 🙂',
      'a',
    ]) {
      expect(tokens.verify('confirm', tokens.issue('confirm', subject, 60))).toBe(subject);
    }
  });

  it('issues a different token each time for the same subject', () => {
    const a = tokens.issue('unsubscribe', SUBJECT, DAY);
    const b = tokens.issue('unsubscribe', SUBJECT, DAY);
    expect(a).not.toBe(b);
    expect(tokens.verify('unsubscribe', a)).toBe(SUBJECT);
    expect(tokens.verify('unsubscribe', b)).toBe(SUBJECT);
  });

  it('verifies with a second instance built from the same secret', () => {
    const token = tokens.issue('preferences', SUBJECT, DAY);
    const other = new TokensService(loadConfig({ APP_SECRET: 'x'.repeat(40) }), clock);
    expect(other.verify('preferences', token)).toBe(SUBJECT);
  });
});

describe('TokensService rejects', () => {
  const purposes: TokenPurpose[] = ['unsubscribe', 'preferences', 'confirm'];

  it.each(purposes)('a %s token used for any other purpose', (purpose) => {
    const token = tokens.issue(purpose, SUBJECT, DAY);
    for (const other of purposes.filter((p) => p !== purpose)) {
      expect(tokens.verify(other, token)).toBeNull();
    }
  });

  it('an expired token', () => {
    const token = tokens.issue('unsubscribe', SUBJECT, 3600);
    clock.advance(3599_000);
    expect(tokens.verify('unsubscribe', token)).toBe(SUBJECT);
    clock.advance(2_000);
    expect(tokens.verify('unsubscribe', token)).toBeNull();
    clock.advance(365 * DAY * 1000);
    expect(tokens.verify('unsubscribe', token)).toBeNull();
  });

  it('a token issued already expired', () => {
    expect(tokens.verify('confirm', tokens.issue('confirm', SUBJECT, -1))).toBeNull();
  });

  // Subjects of three lengths put the token's last character at each base64 alignment,
  // including those where it carries unused low bits.
  it.each([SUBJECT, `${SUBJECT}x`, `${SUBJECT}xy`])(
    'a token with any single character changed (%s)',
    (subject) => {
      const token = tokens.issue('unsubscribe', subject, DAY);
      for (let i = 0; i < token.length; i++) {
        const tampered = swapChar(token, i);
        expect({ i, subject: tokens.verify('unsubscribe', tampered) }).toEqual({
          i,
          subject: null,
        });
      }
    },
  );

  it('a token that was cut short or had characters added', () => {
    const token = tokens.issue('unsubscribe', SUBJECT, DAY);
    for (const tampered of [
      token.slice(0, -1),
      token.slice(0, -4),
      token.slice(1),
      `${token}A`,
      `${token}AAAA`,
      `A${token}`,
    ]) {
      expect(tokens.verify('unsubscribe', tampered)).toBeNull();
    }
  });

  it('a token whose bytes were flipped in the iv, the tag or the sealed body', () => {
    const token = tokens.issue('unsubscribe', SUBJECT, DAY);
    const raw = Buffer.from(token, 'base64url');
    for (const at of [0, 11, 12, 27, 28, raw.length - 1]) {
      const copy = Buffer.from(raw);
      copy[at] = copy[at]! ^ 0x01;
      expect({ at, subject: tokens.verify('unsubscribe', copy.toString('base64url')) }).toEqual({
        at,
        subject: null,
      });
    }
  });

  it('a token made with another APP_SECRET', () => {
    const other = new TokensService(loadConfig({ APP_SECRET: 'y'.repeat(40) }), clock);
    const forged = other.issue('unsubscribe', SUBJECT, DAY);
    expect(other.verify('unsubscribe', forged)).toBe(SUBJECT);
    expect(tokens.verify('unsubscribe', forged)).toBeNull();
    expect(other.verify('unsubscribe', tokens.issue('unsubscribe', SUBJECT, DAY))).toBeNull();
  });

  it.each([
    ['an empty string', ''],
    ['a short word', 'abc'],
    ['the subject itself', SUBJECT],
    ['40 letters', 'a'.repeat(40)],
    ['600 zero bytes', 'A'.repeat(600)],
    ['601 characters', 'A'.repeat(601)],
    ['punctuation', '!'.repeat(60)],
    ['standard base64 with padding', `${Buffer.alloc(60, 7).toString('base64')}==`],
    ['a path', `../../etc/passwd${'/..'.repeat(20)}`],
    ['a token with whitespace', `${'A'.repeat(30)} ${'B'.repeat(30)}`],
    [
      'random bytes',
      Buffer.from(Array.from({ length: 80 }, (_, i) => (i * 37 + 11) % 256)).toString('base64url'),
    ],
    [
      'an unsealed payload',
      Buffer.concat([
        Buffer.alloc(28),
        Buffer.from(JSON.stringify({ s: SUBJECT, e: 9e9 })),
      ]).toString('base64url'),
    ],
  ])('garbage: %s', (_what, garbage) => {
    for (const purpose of ['unsubscribe', 'preferences', 'confirm'] as const) {
      expect(tokens.verify(purpose, garbage)).toBeNull();
    }
  });
});

describe('TokensService hides the subject', () => {
  it.each([SUBJECT, 'jane.doe@example.com', '+447911123456'])(
    'does not show %s in plain or base64 form',
    (subject) => {
      const token = tokens.issue('unsubscribe', subject, DAY);
      const raw = Buffer.from(token, 'base64url');
      expect(token).not.toContain(subject);
      expect(token.toLowerCase()).not.toContain(subject.toLowerCase());
      expect(raw.includes(Buffer.from(subject))).toBe(false);
      expect(raw.toString('latin1')).not.toContain('"s"');
      // The subject's base64 at each of the three byte alignments, minus the edge characters
      // that depend on neighbouring bytes.
      for (let shift = 0; shift < 3; shift++) {
        for (const enc of ['base64', 'base64url'] as const) {
          const encoded = Buffer.from('\0'.repeat(shift) + subject)
            .toString(enc)
            .replace(/=+$/, '');
          const core = encoded.slice(Math.ceil((shift * 4) / 3) + 1, -2);
          expect(core.length).toBeGreaterThan(8);
          expect(token).not.toContain(core);
        }
      }
    },
  );
});
