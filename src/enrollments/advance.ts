import { stepAfter, stepToSend, type Campaign } from '../campaigns/index.js';
import type { Channel, Enrollment } from '../database/index.js';
import type { EnrollmentAdvance } from './enrollments.repository.js';
import { followingSendAt, scheduleContextOf, type ScheduleContext } from './schedule.js';

/** The delivery a scheduler pass records for one due enrolment. */
export interface DueSend {
  enrollment_id: string;
  step: number;
  step_key: string;
  channel: Channel;
  /** The enrolment's clinic, for the job's payload (saves a lookup when it is written). */
  clinic_id: string | null;
}

/** What one due enrolment does in a pass: maybe one message, and where it goes next. */
export interface AdvancePlan {
  send: DueSend | null;
  advance: EnrollmentAdvance;
  /**
   * Something the operator should hear of: the campaign is gone (the enrolment is cancelled),
   * or the step it waited on is gone (it gets the next one it has not had).
   */
  notice:
    { kind: 'campaign-missing' } | { kind: 'step-gone'; waitingOn: string; sending: string } | null;
}

/**
 * The advance rules, in one place: which step a due enrolment gets and when the one after
 * goes. Pure: `had` is the step keys it has already had, `dailyNext` the memoised next daily
 * time for a schedule (the same for everyone with that zone, time and channel in a pass).
 */
export function planAdvance(
  e: Enrollment,
  campaign: Campaign | undefined,
  had: ReadonlySet<string>,
  now: Date,
  dailyNext: (ctx: ScheduleContext) => Date = (ctx) => followingSendAt(now, ctx),
): AdvancePlan {
  const stay = { id: e.id, step: e.step, stepKey: e.step_key };
  if (!campaign) {
    // A campaign removed from templates (start-up refuses that while people are in it, but
    // an older instance may still run): stop rather than loop every pass.
    return {
      send: null,
      advance: { ...stay, nextSendAt: null, status: 'cancelled' },
      notice: { kind: 'campaign-missing' },
    };
  }
  // By key, against the campaign as it stands: see src/campaigns/step-order.ts.
  const step = stepToSend(campaign, e.step_key, had);
  if (!step) {
    return {
      send: null,
      advance: { ...stay, stepKey: null, nextSendAt: null, status: 'completed' },
      notice: null,
    };
  }
  const notice =
    e.step_key !== null && step.key !== e.step_key
      ? ({ kind: 'step-gone', waitingOn: e.step_key, sending: step.key } as const)
      : null;
  const send = {
    enrollment_id: e.id,
    step: e.step,
    step_key: step.key,
    channel: e.channel,
    clinic_id: e.clinic_id ?? null,
  };
  const nextStep = e.step + 1;
  const after = stepAfter(campaign, step.key, had);
  if (!after) {
    return {
      send,
      advance: { id: e.id, step: nextStep, stepKey: null, nextSendAt: null, status: 'completed' },
      notice,
    };
  }
  const ctx = scheduleContextOf(e, campaign);
  // Interval cadences keep their rhythm from the planned time; daily ones count from today.
  const base = campaign.cadence.type === 'interval' && e.next_send_at ? e.next_send_at : now;
  let next = campaign.cadence.type === 'daily' ? dailyNext(ctx) : followingSendAt(base, ctx);
  if (next.getTime() <= now.getTime()) next = followingSendAt(now, ctx);
  return {
    send,
    advance: { id: e.id, step: nextStep, stepKey: after.key, nextSendAt: next, status: 'active' },
    notice,
  };
}
