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

describe('maskText and safeError', () => {
  it('masks every address and number inside free text', async () => {
    const text = maskText(
      '/api/v1/admin/subscribers?email=ann.lee@example.com&phone=+1 213 373 4253',
    );
    expect(text).not.toContain('ann.lee');
    expect(text).not.toContain('373 4253');
    expect(text).toContain('/api/v1/admin/subscribers?email=a***@e***.com');
  });

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
});
