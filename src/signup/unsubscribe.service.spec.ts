import { describe, expect, it } from '@jest/globals';
import { scopeOf } from './unsubscribe.service.js';

const PERSON = '5a1c9e70-2b3d-4f6a-8c0e-1d2f3a4b5c6d';
const CLINIC = 'c0ffee00-1234-4abc-9def-0123456789ab';

describe('scopeOf: what an unsubscribe link stops', () => {
  it("stops only the clinic's programme from a clinic's email", () => {
    expect(scopeOf({ subscriberId: PERSON, channel: 'email', clinicId: CLINIC }, false)).toEqual({
      kind: 'clinic',
      clinicId: CLINIC,
    });
  });

  it('stops everything when the person asks for it', () => {
    expect(scopeOf({ subscriberId: PERSON, channel: 'email', clinicId: CLINIC }, true)).toEqual({
      kind: 'all',
    });
  });

  it('stops everything from a public email, asked or not', () => {
    for (const everything of [false, true])
      expect(
        scopeOf({ subscriberId: PERSON, channel: 'email', clinicId: null }, everything),
      ).toEqual({ kind: 'all' });
  });

  it("stops every text from a clinic's SMS link, as STOP does", () => {
    expect(scopeOf({ subscriberId: PERSON, channel: 'sms', clinicId: CLINIC }, false)).toEqual({
      kind: 'all',
    });
  });
});
