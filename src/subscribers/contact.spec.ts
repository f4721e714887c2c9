import { describe, expect, it } from '@jest/globals';
import { nameSchema, normaliseEmail, normalisePhone } from './contact.js';

describe('normaliseEmail', () => {
  it.each([
    ['jane.doe@example.com', 'jane.doe@example.com'],
    ['Jane.Doe@Example.COM', 'jane.doe@example.com'],
    ['  jane@example.com \t', 'jane@example.com'],
    ['\nJANE+drip@mail.clinic.example\n', 'jane+drip@mail.clinic.example'],
    ['o_brien-2@sub.example.co.uk', 'o_brien-2@sub.example.co.uk'],
  ])('normalises %p to %p', (input, expected) => {
    expect(normaliseEmail(input)).toBe(expected);
  });

  it.each([
    '',
    '   ',
    'jane',
    'jane@',
    '@example.com',
    'jane@example',
    'jane doe@example.com',
    'jane@@example.com',
    'jane..doe@example.com',
    'jane@exa mple.com',
    'jane@-example.com',
    'jane@example.com\r\nBcc: victim@example.com',
    '<jane@example.com>',
    'Jane <jane@example.com>',
  ])('rejects %p', (input) => {
    expect(normaliseEmail(input)).toBeNull();
  });

  it('accepts an address of exactly 254 characters and rejects 255', () => {
    const domain = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.com`; // 185 characters
    const at254 = `${'x'.repeat(254 - domain.length - 1)}@${domain}`;
    expect(at254.length).toBe(254);
    expect(normaliseEmail(at254)).toBe(at254);
    expect(normaliseEmail(`y${at254}`)).toBeNull();
  });

  it('measures the length after trimming', () => {
    const domain = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.com`;
    const at254 = `${'x'.repeat(254 - domain.length - 1)}@${domain}`;
    expect(normaliseEmail(`   ${at254}   `)).toBe(at254);
  });
});

describe('normalisePhone', () => {
  it.each([
    ['+44 7911 123456', undefined, '+447911123456'],
    ['+447911123456', undefined, '+447911123456'],
    ['+44 (0)7911 123456', undefined, '+447911123456'],
    ['07911 123456', 'GB', '+447911123456'],
    ['07911-123-456', 'gb', '+447911123456'],
    ['+49 1512 3456789', undefined, '+4915123456789'],
    ['01512 3456789', 'DE', '+4915123456789'],
    ['+33 6 12 34 56 78', undefined, '+33612345678'],
    ['06 12 34 56 78', 'FR', '+33612345678'],
    ['+61 412 345 678', undefined, '+61412345678'],
    ['  +81 90-1234-5678 ', undefined, '+819012345678'],
    // In the US and Canada a number cannot be told apart as mobile or fixed: let it through.
    ['+1 (202) 555-0143', undefined, '+12025550143'],
    ['(202) 555-0143', 'US', '+12025550143'],
  ])('normalises %p (country %p) to %p', (input, country, expected) => {
    expect(normalisePhone(input, country)).toBe(expected);
  });

  it.each([
    ['a UK London landline', '+44 20 7946 0958', undefined],
    ['a UK landline in national form', '020 7946 0958', 'GB'],
    ['a UK Birmingham landline', '+44 121 496 0000', undefined],
    ['a German landline', '+49 30 901820', undefined],
    ['a French landline', '+33 1 23 45 67 89', undefined],
    ['an Australian landline', '+61 2 9374 4000', undefined],
    ['a Japanese landline', '+81 3-1234-5678', undefined],
  ])('rejects %s (%s)', (_what, input, country) => {
    expect(normalisePhone(input, country)).toBeNull();
  });

  it.each([
    ['a UK freephone number', '0800 123 4567', 'GB'],
    ['a US toll-free number', '+1 800 555 0100', undefined],
    ['a UK premium-rate number', '+44 909 879 0000', undefined],
    ['a US premium-rate number', '+1 900 555 0100', undefined],
    ['a UK shared-cost number', '+44 845 464 0000', undefined],
    ['a UK pager number', '+44 7640 123456', undefined],
    ['a UK non-geographic (UAN) number', '+44 300 123 4567', undefined],
  ])('rejects %s that cannot take SMS (%s)', (_what, input, country) => {
    expect(normalisePhone(input, country)).toBeNull();
  });

  it.each([
    ['a national number without a country', '07911 123456', undefined],
    ['a number in an unallocated range', '+44 7700 900123', undefined],
    ['a number one digit short', '+44 7911 12345', undefined],
    ['a number far too long', '+447911123456789012', undefined],
    ['an unknown country code', '07911 123456', 'ZZ'],
    ['the wrong country', '07911 123456', 'US'],
    ['letters', 'call me maybe', undefined],
    ['letters mixed into digits', '+44 7911 12345a', undefined],
    ['an extension', '+44 7911 123456 ext. 12', undefined],
    ['an empty string', '', undefined],
    ['a few digits', '12345', undefined],
    ['an email address', 'jane@example.com', undefined],
    ['an injected line break', '+447911123456\n+447911654321', undefined],
    ['a double plus', '++447911123456', undefined],
    ['a very long run of digits', `+44${'7'.repeat(40)}`, undefined],
  ])('rejects %s (%p)', (_what, input, country) => {
    expect(normalisePhone(input, country)).toBeNull();
  });

  it('always returns E.164: a plus and 8 to 15 digits', () => {
    for (const [input, country] of [
      ['07911 123456', 'GB'],
      ['+1 (202) 555-0143', undefined],
      ['06 12 34 56 78', 'FR'],
    ] as const) {
      expect(normalisePhone(input, country)).toMatch(/^\+[1-9]\d{7,14}$/);
    }
  });
});

describe('nameSchema', () => {
  it.each([
    ['Jane Doe', 'Jane Doe'],
    ['  Zoë  ', 'Zoë'],
    ["Siobhán O'Brien-Ó Súilleabháin", "Siobhán O'Brien-Ó Súilleabháin"],
    ['李小龍', '李小龍'],
    ['Tom & "Jerry" <b>', 'Tom & "Jerry" <b>'],
    ['', ''],
  ])('accepts %p as %p', (input, expected) => {
    expect(nameSchema.parse(input)).toBe(expected);
  });

  it.each([
    ['CRLF', 'Jane\r\nBcc: x@example.com'],
    ['a line feed', 'Jane\nDoe'],
    ['a carriage return', 'Jane\rDoe'],
    ['a tab', 'Jane\tDoe'],
    ['a NUL', 'Jane\u0000Doe'],
    ['an escape sequence', 'Jane\u001b[31mDoe'],
    ['DEL', 'Jane\u007fDoe'],
    ['a C1 next-line control', 'Jane\u0085Doe'],
    ['a Unicode line separator', 'Jane\u2028Doe'],
    ['a Unicode paragraph separator', 'Jane\u2029Doe'],
  ])('rejects a name containing %s', (_what, input) => {
    const result = nameSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/single line|control/);
  });

  it('accepts 100 characters and rejects 101', () => {
    expect(nameSchema.parse('a'.repeat(100))).toBe('a'.repeat(100));
    const result = nameSchema.safeParse('a'.repeat(101));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/100/);
  });

  it('counts the length after trimming', () => {
    expect(nameSchema.parse(`  ${'a'.repeat(100)}  `)).toBe('a'.repeat(100));
  });

  it('rejects values that are not strings', () => {
    expect(nameSchema.safeParse(42).success).toBe(false);
    expect(nameSchema.safeParse(null).success).toBe(false);
  });
});
