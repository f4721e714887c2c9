import { DateTime } from 'luxon';
import type { Cadence } from '../campaigns/index.js';
import type { Channel } from '../database/index.js';

export type { Cadence };

export interface ScheduleContext {
  cadence: Cadence;
  channel: Channel;
  timezone: string;
  /** Local "HH:MM". */
  sendTime: string;
  /** SMS may only go out between 08:00 and 21:00 local when true. */
  quietHours: boolean;
}

/** The schedule of one enrolment: its campaign's cadence and quiet hours, its own zone and time. */
export function scheduleContextOf(
  e: { channel: Channel; timezone: string; send_time: string },
  campaign: { cadence: Cadence; quietHours: boolean },
): ScheduleContext {
  return {
    cadence: campaign.cadence,
    channel: e.channel,
    timezone: e.timezone,
    sendTime: e.send_time,
    quietHours: campaign.quietHours,
  };
}

/** SMS sending window, local hours: [start, end). */
export const SMS_WINDOW = { startHour: 8, endHour: 21 } as const;

/** Zones already checked: building an Intl.DateTimeFormat per check is slow in bulk imports. */
const zoneChecks = new Map<string, boolean>();

export function isValidTimeZone(zone: string): boolean {
  // Luxon accepts fixed offsets too; the product wants real IANA zones only.
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  const known = zoneChecks.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  // Bounded: names that pass the pattern are few in practice, but input is not to be trusted.
  if (zoneChecks.size < 1000) zoneChecks.set(zone, valid);
  return valid;
}

export function parseSendTime(value: string): { hour: number; minute: number } | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

function atLocalTime(day: DateTime, sendTime: string): DateTime {
  const t = parseSendTime(sendTime);
  if (!t) throw new Error(`bad send time ${sendTime}`);
  // Luxon moves a time that falls in a spring-forward gap to the first valid instant after it.
  const at = DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, hour: t.hour, minute: t.minute },
    { zone: day.zone },
  );
  // A wall time that happens twice (autumn fall-back) is taken at its first occurrence.
  const hourEarlier = at.minus({ hours: 1 });
  return hourEarlier.hour === at.hour && hourEarlier.minute === at.minute ? hourEarlier : at;
}

/** True when an SMS may go out at this instant for this person. */
export function inSendingWindow(
  at: Date,
  ctx: Pick<ScheduleContext, 'channel' | 'quietHours' | 'timezone'>,
): boolean {
  if (ctx.channel !== 'sms' || !ctx.quietHours) return true;
  const hour = DateTime.fromJSDate(at, { zone: ctx.timezone }).hour;
  return hour >= SMS_WINDOW.startHour && hour < SMS_WINDOW.endHour;
}

/** Defers an instant that falls in SMS quiet hours to the next 08:00 local. Deferred, never dropped. */
export function respectQuietHours(
  at: Date,
  ctx: Pick<ScheduleContext, 'channel' | 'quietHours' | 'timezone'>,
): Date {
  if (inSendingWindow(at, ctx)) return at;
  const local = DateTime.fromJSDate(at, { zone: ctx.timezone });
  const day = local.hour < SMS_WINDOW.startHour ? local : local.plus({ days: 1 });
  return day.set({ hour: SMS_WINDOW.startHour, minute: 0, second: 0, millisecond: 0 }).toJSDate();
}

/** When the first step (the welcome) goes out: at once, quiet hours permitting. */
export function firstSendAt(now: Date, ctx: ScheduleContext): Date {
  return respectQuietHours(now, ctx);
}

/** When the step after one sent at `sentAt` goes out. */
export function followingSendAt(sentAt: Date, ctx: ScheduleContext): Date {
  if (ctx.cadence.type === 'interval') {
    return respectQuietHours(new Date(sentAt.getTime() + ctx.cadence.everyMs), ctx);
  }
  const local = DateTime.fromJSDate(sentAt, { zone: ctx.timezone });
  // A text planned for 21:00 or later goes out at 08:00 the next morning. It still belongs
  // to the evening before: counting from the morning it went out would plan the next one a
  // day late, and every other day would get no tip.
  const day = sentBeforeItsTime(local, ctx) ? local.minus({ days: 1 }) : local;
  return respectQuietHours(
    atLocalTime(day.plus({ days: 1 }).startOf('day'), ctx.sendTime).toJSDate(),
    ctx,
  );
}

/** True for a text whose send time falls after the SMS window, sent before that time of day. */
function sentBeforeItsTime(local: DateTime, ctx: ScheduleContext): boolean {
  if (ctx.channel !== 'sms' || !ctx.quietHours) return false;
  const t = parseSendTime(ctx.sendTime)!;
  if (t.hour < SMS_WINDOW.endHour) return false;
  return local.hour * 60 + local.minute < t.hour * 60 + t.minute;
}

/** Next occurrence of the send time at or after `now` (daily), or `now` (interval). */
export function nextOccurrence(now: Date, ctx: ScheduleContext): Date {
  if (ctx.cadence.type === 'interval') return respectQuietHours(now, ctx);
  const local = DateTime.fromJSDate(now, { zone: ctx.timezone });
  let at = atLocalTime(local.startOf('day'), ctx.sendTime);
  if (at.toMillis() < now.getTime())
    at = atLocalTime(local.plus({ days: 1 }).startOf('day'), ctx.sendTime);
  return respectQuietHours(at.toJSDate(), ctx);
}

/** When a resumed enrolment sends its kept step next. */
export function resumeSendAt(now: Date, step: number, ctx: ScheduleContext): Date {
  return step === 0 ? firstSendAt(now, ctx) : nextOccurrence(now, ctx);
}

/**
 * After a change of send time or zone: the pending step keeps its local day and moves to
 * the new time, or to the next occurrence if that moment has already passed.
 */
export function retimeSendAt(pending: Date, now: Date, step: number, ctx: ScheduleContext): Date {
  if (step === 0 || ctx.cadence.type === 'interval')
    return pending.getTime() < now.getTime() ? now : pending;
  const day = DateTime.fromJSDate(pending, { zone: ctx.timezone }).startOf('day');
  const at = respectQuietHours(atLocalTime(day, ctx.sendTime).toJSDate(), ctx);
  return at.getTime() >= now.getTime() ? at : nextOccurrence(now, ctx);
}
