import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import {
  firstSendAt,
  followingSendAt,
  inSendingWindow,
  isValidTimeZone,
  nextOccurrence,
  respectQuietHours,
  resumeSendAt,
  retimeSendAt,
  type ScheduleContext,
} from './schedule.js';

const daily = (
  timezone: string,
  sendTime = '08:00',
  channel: 'email' | 'sms' = 'email',
  quietHours = true,
): ScheduleContext => ({
  cadence: { type: 'daily' },
  channel,
  timezone,
  sendTime,
  quietHours,
});
const local = (d: Date, zone: string) =>
  DateTime.fromJSDate(d, { zone }).toFormat("yyyy-MM-dd'T'HH:mm ZZ");
const at = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toJSDate();

describe('next send times', () => {
  it('sends the welcome at once and the next step at the send time on the following day', () => {
    const now = at('2026-03-03T15:42', 'Europe/London');
    expect(firstSendAt(now, daily('Europe/London'))).toEqual(now);
    expect(local(followingSendAt(now, daily('Europe/London')), 'Europe/London')).toBe(
      '2026-03-04T08:00 +00:00',
    );
  });

  it.each([
    // [zone, sent at (local), expected next (local)]
    ['America/New_York', '2026-03-07T08:00', '2026-03-08T08:00 -04:00'], // spring forward on Mar 8
    ['America/New_York', '2026-10-31T08:00', '2026-11-01T08:00 -05:00'], // fall back on Nov 1
    ['Europe/London', '2026-03-28T08:00', '2026-03-29T08:00 +01:00'], // BST starts Mar 29
    ['Europe/London', '2026-10-24T08:00', '2026-10-25T08:00 +00:00'], // BST ends Oct 25
  ])('keeps 08:00 local across the DST change in %s (%s)', (zone, sent, expected) => {
    const next = followingSendAt(at(sent, zone), daily(zone));
    expect(local(next, zone)).toBe(expected);
    // The gap between the two sends is 23 or 25 hours of real time, not 24.
    expect(Math.abs(next.getTime() - at(sent, zone).getTime() - 24 * 3600_000)).toBe(3600_000);
  });

  it('moves a send time inside the spring-forward gap to just after it', () => {
    const next = followingSendAt(
      at('2026-03-07T02:30', 'America/New_York'),
      daily('America/New_York', '02:30'),
    );
    expect(local(next, 'America/New_York')).toBe('2026-03-08T03:30 -04:00');
  });

  it('sends a repeated (fall-back) hour once, on its first occurrence', () => {
    const next = followingSendAt(
      at('2026-10-31T01:30', 'America/New_York'),
      daily('America/New_York', '01:30'),
    );
    expect(next.toISOString()).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT, the first of the two
  });

  it('counts interval cadences in real time', () => {
    const ctx: ScheduleContext = {
      cadence: { type: 'interval', everyMs: 10_000 },
      channel: 'sms',
      timezone: 'UTC',
      sendTime: '08:00',
      quietHours: false,
    };
    const now = new Date('2026-01-01T23:59:55Z');
    expect(followingSendAt(now, ctx).toISOString()).toBe('2026-01-02T00:00:05.000Z');
  });
});

describe('SMS quiet hours', () => {
  const sms = daily('America/New_York', '07:00', 'sms');

  it('defers, never drops, an SMS due before 08:00 or from 21:00 local', () => {
    expect(
      local(respectQuietHours(at('2026-06-01T06:15', 'America/New_York'), sms), 'America/New_York'),
    ).toBe('2026-06-01T08:00 -04:00');
    expect(
      local(respectQuietHours(at('2026-06-01T21:00', 'America/New_York'), sms), 'America/New_York'),
    ).toBe('2026-06-02T08:00 -04:00');
    expect(
      local(respectQuietHours(at('2026-06-01T23:59', 'America/New_York'), sms), 'America/New_York'),
    ).toBe('2026-06-02T08:00 -04:00');
  });

  it('lets an SMS through from 08:00 to 20:59 local', () => {
    expect(inSendingWindow(at('2026-06-01T08:00', 'America/New_York'), sms)).toBe(true);
    expect(inSendingWindow(at('2026-06-01T20:59', 'America/New_York'), sms)).toBe(true);
    expect(inSendingWindow(at('2026-06-01T07:59', 'America/New_York'), sms)).toBe(false);
  });

  it('moves a daily SMS chosen for 07:00 to 08:00', () => {
    expect(
      local(followingSendAt(at('2026-06-01T10:00', 'America/New_York'), sms), 'America/New_York'),
    ).toBe('2026-06-02T08:00 -04:00');
  });

  it('defers a late-night welcome SMS to the next morning', () => {
    expect(
      local(firstSendAt(at('2026-06-01T22:30', 'America/New_York'), sms), 'America/New_York'),
    ).toBe('2026-06-02T08:00 -04:00');
  });

  it.each(['21:00', '21:30', '22:00', '23:59'])(
    'sends a daily SMS chosen for %s at 08:00 every day, never skipping one (issue 7, item 11)',
    (sendTime) => {
      const zone = 'America/New_York';
      const ctx = daily(zone, sendTime, 'sms');
      // Signed up in the afternoon: the welcome goes at once, then one tip a morning.
      let sent = firstSendAt(at('2026-06-01T15:00', zone), ctx);
      const days: string[] = [];
      for (let i = 0; i < 10; i++) {
        sent = followingSendAt(sent, ctx);
        days.push(local(sent, zone));
      }
      expect(days).toEqual(
        Array.from({ length: 10 }, (_, i) =>
          DateTime.fromISO('2026-06-02T08:00', { zone })
            .plus({ days: i })
            .toFormat("yyyy-MM-dd'T'HH:mm ZZ"),
        ),
      );
      // A welcome held from a late signup to the morning is followed the next morning.
      const held = firstSendAt(at('2026-06-01T23:30', zone), ctx);
      expect(local(followingSendAt(held, ctx), zone)).toBe('2026-06-03T08:00 -04:00');
    },
  );

  it('leaves a text chosen inside the window alone: a morning welcome, then the next day', () => {
    const zone = 'America/New_York';
    const ctx = daily(zone, '20:00', 'sms');
    expect(local(followingSendAt(at('2026-06-01T10:00', zone), ctx), zone)).toBe(
      '2026-06-02T20:00 -04:00',
    );
  });

  it('counts minutes too: a welcome at 20:45 belongs before a 21:30 send time', () => {
    const zone = 'America/New_York';
    const ctx = daily(zone, '21:30', 'sms');
    expect(local(followingSendAt(at('2026-06-01T20:45', zone), ctx), zone)).toBe(
      '2026-06-02T08:00 -04:00',
    );
  });

  it('counts an evening text sent late (after an outage) from the day it went out', () => {
    const zone = 'America/New_York';
    const ctx = daily(zone, '21:30', 'sms');
    // Sent at 21:45: after its time, so the next is planned for tomorrow evening (→ 08:00).
    expect(local(followingSendAt(at('2026-06-01T21:45', zone), ctx), zone)).toBe(
      '2026-06-03T08:00 -04:00',
    );
    // The same text as an email (no quiet hours) simply goes at 21:30 the next day.
    expect(
      local(followingSendAt(at('2026-06-01T10:00', zone), daily(zone, '21:30', 'email')), zone),
    ).toBe('2026-06-02T21:30 -04:00');
    expect(
      local(
        followingSendAt(at('2026-06-01T10:00', zone), daily(zone, '21:30', 'sms', false)),
        zone,
      ),
    ).toBe('2026-06-02T21:30 -04:00');
  });

  it('does not apply to email, nor to a campaign that turns quiet hours off', () => {
    const late = at('2026-06-01T23:00', 'America/New_York');
    expect(respectQuietHours(late, daily('America/New_York', '08:00', 'email'))).toEqual(late);
    expect(respectQuietHours(late, daily('America/New_York', '08:00', 'sms', false))).toEqual(late);
  });
});

describe('send-time changes, pause and resume', () => {
  it('moves the pending step to the new time within its day', () => {
    const zone = 'Europe/London';
    const pending = at('2026-05-10T08:00', zone);
    const now = at('2026-05-09T12:00', zone);
    expect(local(retimeSendAt(pending, now, 2, daily(zone, '18:30')), zone)).toBe(
      '2026-05-10T18:30 +01:00',
    );
  });

  it('goes to the next occurrence when the new time has already passed today', () => {
    const zone = 'Europe/London';
    const pending = at('2026-05-10T20:00', zone);
    const now = at('2026-05-10T09:00', zone);
    expect(local(retimeSendAt(pending, now, 2, daily(zone, '07:00')), zone)).toBe(
      '2026-05-11T07:00 +01:00',
    );
  });

  it('follows a change of time zone', () => {
    const pending = at('2026-05-10T08:00', 'Europe/London');
    const now = at('2026-05-09T12:00', 'Europe/London');
    expect(
      local(retimeSendAt(pending, now, 3, daily('America/New_York', '08:00')), 'America/New_York'),
    ).toBe('2026-05-10T08:00 -04:00');
  });

  it('resumes a kept step at the next send time, or at once for the welcome', () => {
    const zone = 'America/New_York';
    const now = at('2026-05-09T12:00', zone);
    expect(local(resumeSendAt(now, 3, daily(zone, '08:00')), zone)).toBe('2026-05-10T08:00 -04:00');
    expect(local(resumeSendAt(now, 3, daily(zone, '18:00')), zone)).toBe('2026-05-09T18:00 -04:00');
    expect(resumeSendAt(now, 0, daily(zone))).toEqual(now);
    expect(local(nextOccurrence(at('2026-05-09T08:00', zone), daily(zone)), zone)).toBe(
      '2026-05-09T08:00 -04:00',
    );
  });
});

describe('time zones', () => {
  it.each([
    'Europe/London',
    'America/New_York',
    'America/Argentina/Buenos_Aires',
    'UTC',
    'Asia/Kolkata',
  ])('accepts %s', (z) => {
    expect(isValidTimeZone(z)).toBe(true);
  });
  it.each(['Mars/Olympus', 'GMT+5', '+05:00', 'europe/london ', '', 'Local'])(
    'rejects "%s"',
    (z) => {
      expect(isValidTimeZone(z)).toBe(false);
    },
  );
});
