import { afterEach, describe, expect, it } from '@jest/globals';
import { DateTime, Settings } from 'luxon';
import {
  followingSendAt,
  isValidTimeZone,
  nextOccurrence,
  parseSendTime,
  respectQuietHours,
  resumeSendAt,
  retimeSendAt,
  type ScheduleContext,
} from './schedule.js';

/**
 * Schedule rules that schedule.spec.ts leaves open (found by mutation testing, see
 * docs/mutation-testing.md): input checks, interval cadences after a pause or a change of
 * time, the welcome's own timing, and the edges of the quiet-hours window.
 */

const ctx = (over: Partial<ScheduleContext> = {}): ScheduleContext => ({
  cadence: { type: 'daily' },
  channel: 'email',
  timezone: 'America/New_York',
  sendTime: '08:00',
  quietHours: true,
  ...over,
});
const interval = (over: Partial<ScheduleContext> = {}) =>
  ctx({ cadence: { type: 'interval', everyMs: 10_000 }, ...over });
const at = (iso: string, zone = 'America/New_York') => DateTime.fromISO(iso, { zone }).toJSDate();
const local = (d: Date, zone = 'America/New_York') =>
  DateTime.fromJSDate(d, { zone }).toFormat("yyyy-MM-dd'T'HH:mm ZZ");

describe('schedule rules: input checks', () => {
  it.each([
    ['00:00', 0, 0],
    ['08:05', 8, 5],
    ['19:59', 19, 59],
    ['20:00', 20, 0],
    ['23:59', 23, 59],
  ])('reads the send time %s', (value, hour, minute) => {
    expect(parseSendTime(value)).toEqual({ hour, minute });
  });

  it.each(['24:00', '8:00', '08:60', '108:00', '08:000', ' 08:00', '08:00 ', '0800', 'x08:00'])(
    'refuses the send time "%s"',
    (value) => {
      expect(parseSendTime(value)).toBeNull();
    },
  );

  it('names a stored send time it cannot read instead of sending at a made-up hour', () => {
    expect(() => followingSendAt(new Date(), ctx({ sendTime: '25:00' }))).toThrow(
      'bad send time 25:00',
    );
  });

  it.each(['EST5EDT', 'GMT+0', 'gmt-0', 'Etc/GMT+5 '])(
    'refuses "%s", which is not a place name in the tz database form',
    (zone) => {
      expect(isValidTimeZone(zone)).toBe(false);
    },
  );

  it('refuses legacy and offset names that Intl itself would take', () => {
    // The regexp is what keeps these out: the runtime accepts them.
    for (const zone of ['EST5EDT', 'GMT+0']) {
      expect(() => new Intl.DateTimeFormat('en-US', { timeZone: zone })).not.toThrow();
      expect(isValidTimeZone(zone)).toBe(false);
    }
  });

  it('accepts zones with digits, signs and dashes after the first slash', () => {
    expect(isValidTimeZone('Etc/GMT+5')).toBe(true);
    expect(isValidTimeZone('Etc/GMT-14')).toBe(true);
    expect(isValidTimeZone('America/Port-au-Prince')).toBe(true);
  });
});

describe('schedule rules: interval cadences', () => {
  it('resumes and retimes an interval enrolment at once, not at a daily send time', () => {
    const now = at('2026-05-09T12:00');
    expect(nextOccurrence(now, interval({ sendTime: '18:00' }))).toEqual(now);
    expect(resumeSendAt(now, 3, interval({ sendTime: '18:00' }))).toEqual(now);
    const pending = at('2026-05-09T12:00:30');
    expect(retimeSendAt(pending, now, 3, interval({ sendTime: '18:00' }))).toEqual(pending);
    const overdue = at('2026-05-09T11:00');
    expect(retimeSendAt(overdue, now, 3, interval({ sendTime: '18:00' }))).toEqual(now);
  });

  it('still keeps an interval SMS out of quiet hours when it resumes', () => {
    const night = at('2026-05-09T22:00');
    expect(local(nextOccurrence(night, interval({ channel: 'sms' })))).toBe(
      '2026-05-10T08:00 -04:00',
    );
  });
});

describe('schedule rules: the welcome is not tied to the send time', () => {
  it('keeps a welcome held for the morning where it is when the send time changes', () => {
    const now = at('2026-05-09T22:30');
    const pending = at('2026-05-10T08:00'); // an SMS welcome held until 08:00
    expect(retimeSendAt(pending, now, 0, ctx({ channel: 'sms', sendTime: '18:00' }))).toEqual(
      pending,
    );
  });

  it('sends an overdue welcome at once after a change of time', () => {
    const now = at('2026-05-09T12:00');
    expect(retimeSendAt(at('2026-05-09T09:00'), now, 0, ctx({ sendTime: '18:00' }))).toEqual(now);
  });
});

describe('schedule rules: quiet-hours edges', () => {
  const sms = ctx({ channel: 'sms', sendTime: '07:00' });

  it('retimes onto this morning when the held time is exactly now', () => {
    // 07:00 is held to 08:00, and it is 08:00: that is today's send, not tomorrow's.
    const now = at('2026-05-10T08:00');
    const pending = at('2026-05-10T09:30');
    expect(local(retimeSendAt(pending, now, 2, sms))).toBe('2026-05-10T08:00 -04:00');
  });

  it('holds an SMS from 21:00 to the next morning, and one before 08:00 to the same morning', () => {
    expect(local(respectQuietHours(at('2026-05-10T21:00'), sms))).toBe('2026-05-11T08:00 -04:00');
    expect(local(respectQuietHours(at('2026-05-10T07:59'), sms))).toBe('2026-05-10T08:00 -04:00');
    expect(local(respectQuietHours(at('2026-05-10T00:00'), sms))).toBe('2026-05-10T08:00 -04:00');
  });
});

describe('schedule rules: a repeated autumn hour, whatever the season of the run', () => {
  // Luxon resolves an ambiguous wall time from the zone's offset on the day the code runs:
  // in winter it picks the later 01:30, in summer the earlier one. Pin both.
  afterEach(() => {
    Settings.now = () => Date.now();
  });

  it.each(['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z'])(
    'takes the first 01:30 in New York when run on %s',
    (runDate) => {
      Settings.now = () => Date.parse(runDate);
      const next = followingSendAt(
        at('2026-10-31T01:30'),
        ctx({ timezone: 'America/New_York', sendTime: '01:30' }),
      );
      expect(next.toISOString()).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT
    },
  );

  it.each(['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z'])(
    'keeps the chosen wall time where DST moves clocks by half an hour (run on %s)',
    (runDate) => {
      // Lord Howe Island falls back from 02:00 to 01:30: 01:45 happens twice, 30 min apart.
      Settings.now = () => Date.parse(runDate);
      const zone = 'Australia/Lord_Howe';
      const next = followingSendAt(
        at('2026-04-04T01:45', zone),
        ctx({ timezone: zone, sendTime: '01:45' }),
      );
      expect(DateTime.fromJSDate(next, { zone }).toFormat('yyyy-MM-dd HH:mm')).toBe(
        '2026-04-05 01:45',
      );
    },
  );
});
