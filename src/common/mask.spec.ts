import { describe, expect, it } from '@jest/globals';
import { maskAddress, maskEmail, maskPhone, maskText, safeError } from './mask.js';

describe('maskEmail', () => {
  it('keeps the first letter, the domain initial and the top-level domain', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j***@e***.com');
    expect(maskEmail('Bob@Clinic.co.uk')).toBe('B***@C***.uk');
  });

  it.each([
    'jane.doe@example.com',
    'alexandria.smith+drip@mail.clinic.example',
    'ab@xy.org',
    'firstname.lastname@localhost',
  ])('never shows the full local part or domain of %s', (email) => {
    const masked = maskEmail(email);
    const [local, domain] = email.split('@') as [string, string];
    expect(masked).not.toContain(local);
    expect(masked).not.toContain(domain.split('.')[0]);
    expect(masked).not.toContain(email);
    expect(masked).toContain('***');
  });

  it('uses the last @ so a quoted local part with @ is still hidden', () => {
    const masked = maskEmail('"a@b"@example.com');
    expect(masked).toBe('"***@e***.com');
    expect(masked).not.toContain('a@b');
  });

  it.each(['', 'not-an-email', '@example.com'])(
    'masks %p completely when it is not an address',
    (value) => {
      expect(maskEmail(value)).toBe('***');
    },
  );

  it('copes with a domain without a dot', () => {
    expect(maskEmail('root@localhost')).toBe('r***@l***');
  });
});

describe('maskPhone', () => {
  it('keeps the first two digits and the last two', () => {
    expect(maskPhone('+447911123456')).toBe('+44***56');
    expect(maskPhone('+1 (555) 010-0199')).toBe('+15***99');
  });

  it.each(['+447911123456', '+15550100199', '+4915123456789', '+33 6 12 34 56 78'])(
    'never shows the full number %s',
    (phone) => {
      const masked = maskPhone(phone);
      const digits = phone.replace(/\D/g, '');
      const maskedDigits = masked.replace(/\D/g, '');
      expect(masked).not.toContain(phone);
      expect(masked).not.toContain(digits);
      expect(maskedDigits.length).toBeLessThanOrEqual(4);
      // The subscriber part (everything after the first four digits) never appears in a row.
      expect(masked).not.toContain(digits.slice(4, -2));
    },
  );

  it.each(['', '12345', 'call me', '+1 2'])(
    'masks %p completely when it is too short to be a number',
    (value) => {
      expect(maskPhone(value)).toBe('***');
    },
  );
});

describe('maskAddress', () => {
  it('picks the email or phone mask by the presence of @', () => {
    expect(maskAddress('jane.doe@example.com')).toBe('j***@e***.com');
    expect(maskAddress('+447911123456')).toBe('+44***56');
  });
});

describe('maskText', () => {
  // Text that holds no address: it must come back exactly as it went in.
  it.each([
    ['an IPv4 address and port', 'connect ECONNREFUSED 127.0.0.1:6379'],
    ['an IPv4 address without a port', 'proxy 10.20.30.40 answered'],
    ['IPv6 loopback', 'connect ECONNREFUSED ::1:5432'],
    ['a bracketed IPv6 address', 'redis at [2001:db8::8a2e:370:7334]:6379'],
    ['a UUID', 'delivery 123e4567-e89b-12d3-a456-426614174000 sent'],
    ['a UUID whose last group is all digits', 'enrolment 3f2b8c1a-0d4e-4f5a-9b6c-123456789012'],
    ['an ISO time', 'due at 2026-11-30T05:52:50.123Z'],
    ['an ISO time with an offset', 'due at 2026-03-29T01:30:00+01:00, moved'],
    ['an ISO date', 'report for 2026-11-30'],
    ['a time of day', 'send at 08:00:00 local'],
    ['a duration in seconds', 'redis reachable again after 12.3 s; 245 errors during the outage'],
    ['a duration in milliseconds', 'no answer within 1500 ms'],
    ['a count and a port', 'listening on port 3000 with 20 workers'],
    ['a version', 'node v20.19.2, redis 7.0.15'],
    ['a localhost URL', 'http://localhost:3000/health?probe=1'],
    ['a pg error code', 'terminating connection (57P01)'],
    ['short numbers in a row', 'steps 1 2 3 of 7'],
  ])('leaves %s alone', (_what, text) => {
    expect(maskText(text)).toBe(text);
  });

  // Text with a phone number in it: the number must not survive, the words around it must.
  it.each([
    ['E.164', 'texting +14155550123 now', '+14***23', '4155550123'],
    ['E.164 with spaces', 'number +44 7911 123456 opted out', '+44***56', '7911 123456'],
    ['E.164 with dashes', 'to +1-415-555-0123.', '+14***23', '555-0123'],
    ['E.164 with a bracketed area code', 'to +1 (415) 555-0123 failed', '+14***23', '555-0123'],
    ['US style with brackets', 'call (415) 555-0123 today', '+41***23', '555-0123'],
    ['US style with dashes', 'call 415-555-0123 today', '+41***23', '555-0123'],
    ['US style with spaces', 'call 415 555 0123 today', '+41***23', '555 0123'],
    ['US style with dots', 'call 415.555.0123 today', '+41***23', '555.0123'],
    ['a national number in groups', 'mobile 07911 123456 given', '+07***56', '7911 123456'],
    ['a French number in pairs', 'portable 06 12 34 56 78 ok', '+06***78', '12 34 56'],
    ['a bare national number', 'phone=4155550123&x=1', '+41***23', '4155550123'],
    [
      'a number in an error message',
      "The 'To' number +15005550001 is not valid",
      '+15***01',
      '5005550001',
    ],
  ])('masks %s', (_what, text, masked, hidden) => {
    const out = maskText(text);
    expect(out).toContain(masked);
    expect(out).not.toContain(hidden);
    expect(out.split(masked)[0]).toBe(text.split(/[+(\d]/)[0]);
  });

  it('masks an address and a number next to an IP address, and keeps the IP address', () => {
    const out = maskText(
      'from 192.168.1.20:5432 for ann.lee@example.com (+1 213 373 4253) at 2026-11-30T05:52:50Z',
    );
    expect(out).toBe('from 192.168.1.20:5432 for a***@e***.com (+12***53) at 2026-11-30T05:52:50Z');
  });

  it('masks every address and number inside a URL', () => {
    const text = maskText(
      '/api/v1/admin/subscribers?email=ann.lee@example.com&phone=+1 213 373 4253',
    );
    expect(text).not.toContain('ann.lee');
    expect(text).not.toContain('373 4253');
    expect(text).toContain('/api/v1/admin/subscribers?email=a***@e***.com');
  });
});

describe('safeError', () => {
  it("keeps a PostgreSQL error's detail (which holds row values) out of what is logged", async () => {
    const err = Object.assign(
      new Error('duplicate key value violates unique constraint "subscribers_email"'),
      {
        code: '23505',
        detail: 'Key (email)=(ann@example.com) already exists.',
      },
    );
    const logged = JSON.stringify(safeError(err));
    expect(logged).toContain('23505');
    expect(logged).toContain('subscribers_email');
    expect(logged).not.toContain('ann@example.com');
    expect(JSON.stringify(safeError(new Error('no mailbox for bob@example.org')))).not.toContain(
      'bob@example.org',
    );
    expect(safeError('text +44 7911 123456').message).not.toContain('123456');
  });

  it('keeps the address of an unreachable server readable', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
      code: 'ECONNREFUSED',
    });
    expect(safeError(err).message).toBe('connect ECONNREFUSED 127.0.0.1:6379');
  });
});
