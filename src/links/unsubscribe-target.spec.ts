import { describe, expect, it } from '@jest/globals';
import {
  decodeUnsubscribeTarget,
  encodeUnsubscribeTarget,
  type UnsubscribeTarget,
} from './unsubscribe-target.js';

const PERSON = '3f2b8c1e-7d4a-4e2b-9c61-0a5d7e8f9b10';
const CLINIC = 'b7e4d2a0-1c3f-4a5b-8d6e-9f0a1b2c3d4e';

describe('decodeUnsubscribeTarget', () => {
  it.each(['email', 'sms'] as const)(
    'reads the <subscriber>.%s subject of tokens already sent, as no clinic',
    (channel) => {
      expect(decodeUnsubscribeTarget(`${PERSON}.${channel}`)).toEqual({
        subscriberId: PERSON,
        channel,
        clinicId: null,
      });
    },
  );

  it('reads a subject that names a clinic', () => {
    expect(decodeUnsubscribeTarget(`${PERSON}.sms.${CLINIC}`)).toEqual({
      subscriberId: PERSON,
      channel: 'sms',
      clinicId: CLINIC,
    });
  });

  it.each([
    ['an empty subject', ''],
    ['a subscriber with no channel', PERSON],
    ['a channel with no subscriber', '.email'],
    ['an unknown channel', `${PERSON}.fax`],
    ['a channel in capitals', `${PERSON}.EMAIL`],
    ['an empty channel', `${PERSON}.`],
    ['a subscriber that is not a uuid', 'not-a-uuid.email'],
    // The old regex, /[0-9a-f-]{36}/, let this through; nothing ever sealed it.
    ['36 hyphens for a subscriber', `${'-'.repeat(36)}.email`],
    ['a subscriber in capitals', `${PERSON.toUpperCase()}.email`],
    ['a subscriber one character short', `${PERSON.slice(1)}.email`],
    ['a subscriber with a space', ` ${PERSON}.email`],
    ['an empty clinic', `${PERSON}.email.`],
    ['a clinic that is not a uuid', `${PERSON}.email.clinic-7`],
    ['a clinic followed by more', `${PERSON}.email.${CLINIC}.x`],
    ['the channel and clinic swapped', `${PERSON}.${CLINIC}.email`],
    ['a subject with a trailing newline', `${PERSON}.email\n`],
  ])('refuses %s', (_what, subject) => {
    expect(decodeUnsubscribeTarget(subject)).toBeNull();
  });
});

describe('encodeUnsubscribeTarget', () => {
  it('writes a target with no clinic exactly as tokens were written before', () => {
    expect(
      encodeUnsubscribeTarget({ subscriberId: PERSON, channel: 'email', clinicId: null }),
    ).toBe(`${PERSON}.email`);
  });

  it.each<UnsubscribeTarget>([
    { subscriberId: PERSON, channel: 'email', clinicId: null },
    { subscriberId: PERSON, channel: 'sms', clinicId: null },
    { subscriberId: PERSON, channel: 'email', clinicId: CLINIC },
    { subscriberId: PERSON, channel: 'sms', clinicId: CLINIC },
  ])('round-trips $channel with clinic $clinicId', (target) => {
    expect(decodeUnsubscribeTarget(encodeUnsubscribeTarget(target))).toEqual(target);
  });

  it.each<[string, UnsubscribeTarget]>([
    ['a subscriber that is not a uuid', { subscriberId: 'ann', channel: 'email', clinicId: null }],
    [
      'an unknown channel',
      { subscriberId: PERSON, channel: 'fax' as UnsubscribeTarget['channel'], clinicId: null },
    ],
    ['a clinic that is not a uuid', { subscriberId: PERSON, channel: 'sms', clinicId: 'c.1' }],
  ])('refuses %s, which would make a link that cannot work', (_what, target) => {
    expect(() => encodeUnsubscribeTarget(target)).toThrow(/unsubscribe target/);
  });
});
