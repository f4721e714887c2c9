import { Injectable } from '@nestjs/common';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import { enrollmentData, WebhookOutbox } from '../webhook-outbox/index.js';
import { Clock, conflict, invalid } from '../common/index.js';
import type {
  CancelReason,
  Channel,
  Enrollment,
  EnrollmentStatus,
  NewEnrollment,
  PauseReason,
  Tx,
} from '../database/index.js';
import { DeliveriesRepository } from '../deliveries/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import { EnrollmentsRepository, type EnrollmentAdvance } from './enrollments.repository.js';
import {
  firstSendAt,
  nextOccurrence,
  resumeSendAt,
  retimeSendAt,
  scheduleContextOf,
} from './schedule.js';

export type { CancelReason, PauseReason } from '../database/index.js';

/** A state an enrolment can be in, or `new` for one not yet written. */
type From = EnrollmentStatus | 'new';

/**
 * The enrolment state machine: every change of status, step or next send time is one of
 * these, and each is a method of EnrollmentLifecycle. `from` lists where it may start, `to`
 * where it may end. Anything else is refused with a 409 naming the status.
 *
 *   new ──signUp──▶ pending ──confirm──▶ active ◀──resume── paused
 *   new ──enrol───▶ active ──pause────▶ paused      (held: enrol/confirm/restart land in paused)
 *   active ──advance──▶ active | completed          pending|active|paused ──cancel──▶ cancelled
 *   cancelled (by STOP) ──restart──▶ active         paused ──resume──▶ completed (nothing left)
 */
export const TRANSITIONS = {
  signUp: { from: ['new'], to: ['pending'], verb: 'sign up' },
  enrol: { from: ['new'], to: ['active', 'paused'], verb: 'enrol' },
  refreshPending: { from: ['pending'], to: 'same', verb: 'update the signup of' },
  confirm: { from: ['pending'], to: ['active', 'paused'], verb: 'confirm' },
  pause: { from: ['active', 'paused'], to: ['paused'], verb: 'pause' },
  resume: { from: ['paused'], to: ['active', 'completed'], verb: 'resume' },
  cancel: { from: ['pending', 'active', 'paused'], to: ['cancelled'], verb: 'cancel' },
  restart: { from: ['cancelled'], to: ['active', 'paused'], verb: 'restart' },
  retime: { from: ['pending', 'active', 'paused'], to: 'same', verb: 'change' },
  switchChannel: { from: ['pending', 'active', 'paused'], to: 'same', verb: 'move' },
  advance: { from: ['active'], to: ['active', 'completed', 'cancelled'], verb: 'advance' },
  endUndeliverable: { from: ['pending', 'active', 'paused'], to: ['cancelled'], verb: 'end' },
} as const satisfies Record<
  string,
  /** `same`: the transition changes other things (time, channel), never the status. */
  { from: readonly From[]; to: readonly EnrollmentStatus[] | 'same'; verb: string }
>;

export type Transition = keyof typeof TRANSITIONS;

/** Live: the enrolment may still send. */
export const LIVE_STATUSES = ['pending', 'active', 'paused'] as const satisfies EnrollmentStatus[];

/** True when `transition` may take an enrolment from `from` to `to`. */
export function allowed(transition: Transition, from: From, to: EnrollmentStatus): boolean {
  const t: { from: readonly From[]; to: readonly EnrollmentStatus[] | 'same' } =
    TRANSITIONS[transition];
  if (!t.from.includes(from)) return false;
  return t.to === 'same' ? to === from : t.to.includes(to);
}

function check(transition: Transition, from: From, to: EnrollmentStatus): void {
  if (allowed(transition, from, to)) return;
  throw conflict(`status: cannot ${TRANSITIONS[transition].verb} an enrolment that is ${from}`);
}

type Changes = Parameters<EnrollmentsRepository['update']>[2];

/**
 * The one owner of the enrolment lifecycle. Callers lock the row (EnrollmentsRepository.lock)
 * inside their transaction and hand it here; every write of status, step or next send time
 * goes through `move`, which checks the transition table first.
 */
@Injectable()
export class EnrollmentLifecycle {
  constructor(
    private readonly enrollments: EnrollmentsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly subscribers: SubscribersRepository,
    private readonly campaigns: CampaignsService,
    private readonly clock: Clock,
    private readonly webhooks: WebhookOutbox,
  ) {}

  /** A clinic enrolment's event for the clinic's webhooks, in the change's own transaction. */
  private async announce(
    tx: Tx,
    e: Enrollment,
    type: 'enrollment.confirmed' | 'enrollment.completed' | 'enrollment.opted_out',
    extra: Record<string, unknown> = {},
  ): Promise<Enrollment> {
    if (e.clinic_id)
      await this.webhooks.emit(tx, {
        clinicId: e.clinic_id,
        type,
        enrollmentId: e.id,
        data: { ...enrollmentData(e), ...extra },
      });
    return e;
  }

  campaignOf(id: string): Campaign {
    const campaign = this.campaigns.get(id);
    if (!campaign) {
      const known = this.campaigns
        .list()
        .map((c) => c.id)
        .join(', ');
      throw invalid('campaign', `unknown campaign "${id}" (known: ${known})`);
    }
    return campaign;
  }

  private move(
    tx: Tx,
    e: Enrollment,
    transition: Transition,
    changes: Changes,
  ): Promise<Enrollment> {
    check(transition, e.status, changes.status ?? e.status);
    return this.enrollments.update(tx, e.id, changes);
  }

  /**
   * Enrols a person a clinic or operator vouches for: active at once, or paused when the
   * person is on a safety hold. Null when they are already in this campaign.
   */
  async enrol(
    tx: Tx,
    row: Pick<
      NewEnrollment,
      | 'subscriber_id'
      | 'campaign_id'
      | 'channel'
      | 'timezone'
      | 'send_time'
      | 'source'
      | 'clinic_id'
      | 'external_id'
    >,
  ): Promise<Enrollment | null> {
    const campaign = this.campaignOf(row.campaign_id);
    const held = await this.subscribers.holdOf(row.subscriber_id, tx);
    const status = held ? 'paused' : 'active';
    check('enrol', 'new', status);
    return this.enrollments.insertUnlessEnrolled(tx, {
      ...row,
      status,
      pause_reason: held ? 'safety' : null,
      step: 0,
      next_send_at: held ? null : firstSendAt(this.clock.now(), scheduleContextOf(row, campaign)),
    });
  }

  /**
   * An enrolment waiting for the person's one confirmation (a public signup's double opt-in,
   * or a clinic's enrolment); the confirmation goes out now. Null when the person is already
   * in this campaign (with this clinic).
   */
  signUp(
    tx: Tx,
    row: Pick<
      NewEnrollment,
      'subscriber_id' | 'campaign_id' | 'channel' | 'timezone' | 'send_time'
    > &
      Partial<Pick<NewEnrollment, 'source' | 'clinic_id' | 'external_id'>>,
  ): Promise<Enrollment | null> {
    check('signUp', 'new', 'pending');
    return this.enrollments.insertUnlessEnrolled(tx, {
      source: 'web-form',
      ...row,
      status: 'pending',
      step: 0,
      next_send_at: null,
      confirm_sent_at: this.clock.now(),
      confirm_count: 1,
    });
  }

  /**
   * `enrol` or `signUp` for many people in one statement (the CSV import's batch), with the
   * same rules: an `enrol` row is active, or paused when the person is on a safety hold; a
   * `signUp` row is pending with its confirmation counted as sent now. The result lines up
   * with `rows`: null where the person already has a live enrolment in the campaign (with
   * this clinic), and for the later of two rows naming the same one.
   */
  async enrolMany(
    tx: Tx,
    rows: (Pick<
      NewEnrollment,
      | 'subscriber_id'
      | 'campaign_id'
      | 'channel'
      | 'timezone'
      | 'send_time'
      | 'source'
      | 'clinic_id'
      | 'external_id'
    > & { via: 'enrol' | 'signUp' })[],
  ): Promise<(Enrollment | null)[]> {
    const now = this.clock.now();
    const held = await this.subscribers.heldAmong(
      tx,
      rows.filter((r) => r.via === 'enrol').map((r) => r.subscriber_id),
    );
    const values: NewEnrollment[] = rows.map(({ via, ...row }) => {
      if (via === 'signUp') {
        check('signUp', 'new', 'pending');
        return {
          ...row,
          status: 'pending',
          step: 0,
          next_send_at: null,
          confirm_sent_at: now,
          confirm_count: 1,
        };
      }
      const campaign = this.campaignOf(row.campaign_id);
      const isHeld = held.has(row.subscriber_id);
      const status = isHeld ? 'paused' : 'active';
      check('enrol', 'new', status);
      return {
        ...row,
        status,
        pause_reason: isHeld ? 'safety' : null,
        step: 0,
        next_send_at: isHeld ? null : firstSendAt(now, scheduleContextOf(row, campaign)),
      };
    });
    const inserted = await this.enrollments.insertManyUnlessEnrolled(tx, values);
    const live = (e: { subscriber_id: string; campaign_id: string; clinic_id?: string | null }) =>
      `${e.subscriber_id}|${e.campaign_id}|${e.clinic_id ?? ''}`;
    const byKey = new Map(inserted.map((e) => [live(e), e]));
    return rows.map((r) => {
      const key = live(r);
      const e = byKey.get(key) ?? null;
      byKey.delete(key); // a second row for the same enrolment gets null
      return e;
    });
  }

  /**
   * The same person filled in the form again before confirming: the latest form wins (time,
   * zone, channel). `confirmationSent` counts one more confirmation sent now.
   */
  refreshPending(
    tx: Tx,
    e: Enrollment,
    latest: Pick<Enrollment, 'channel' | 'timezone' | 'send_time'>,
    confirmationSent: boolean,
  ): Promise<Enrollment> {
    return this.move(tx, e, 'refreshPending', {
      ...latest,
      ...(confirmationSent
        ? { confirm_sent_at: this.clock.now(), confirm_count: e.confirm_count + 1 }
        : {}),
    });
  }

  /**
   * Starts a pending (double opt-in) enrolment: the welcome goes out at once. A person under
   * a safety hold is enrolled paused instead, to start when the hold is lifted.
   */
  async confirm(tx: Tx, e: Enrollment): Promise<Enrollment> {
    const confirmed = (await this.subscribers.holdOf(e.subscriber_id, tx))
      ? await this.heldBack(tx, e, 'confirm')
      : await this.move(tx, e, 'confirm', {
          status: 'active',
          next_send_at: firstSendAt(
            this.clock.now(),
            scheduleContextOf(e, this.campaignOf(e.campaign_id)),
          ),
        });
    return this.announce(tx, confirmed, 'enrollment.confirmed');
  }

  /**
   * Pauses; messages queued but not yet sent are withdrawn, and their step is kept. `reason`
   * says who may resume it: a 'safety' pause (a warning sign) is resumed only by lifting the
   * person's safety hold, never from the preferences page or by the clock.
   */
  async pause(tx: Tx, e: Enrollment, until: Date | null, reason: PauseReason): Promise<Enrollment> {
    if (e.status === 'paused') {
      // A warning sign outranks any other pause, and a timed pause must not end it.
      if (reason === 'safety' && e.pause_reason !== 'safety')
        return this.move(tx, e, 'pause', { pause_reason: 'safety', paused_until: null });
      return e;
    }
    check('pause', e.status, 'paused');
    const withdrawn = await this.deliveries.withdrawQueued(tx, e.id);
    return this.move(tx, e, 'pause', {
      status: 'paused',
      ...waitAgainFor(e, withdrawn),
      next_send_at: null,
      paused_until: until,
      pause_reason: reason,
    });
  }

  /**
   * Resumes a paused enrolment at its kept step, or completes it when nothing is left. One
   * paused for a warning sign is refused unless the caller is lifting the safety hold.
   */
  async resume(
    tx: Tx,
    e: Enrollment,
    opts: { liftingSafetyHold?: boolean } = {},
  ): Promise<Enrollment> {
    if (e.status === 'active') return e;
    check('resume', e.status, 'active');
    if (e.pause_reason === 'safety' && !opts.liftingSafetyHold) throw safetyHeld();
    const campaign = this.campaignOf(e.campaign_id);
    if (e.step >= campaign.steps.length) {
      const done = await this.move(tx, e, 'resume', {
        status: 'completed',
        next_send_at: null,
        pause_reason: null,
      });
      return this.announce(tx, done, 'enrollment.completed', { steps: done.step });
    }
    return this.move(tx, e, 'resume', {
      status: 'active',
      next_send_at: resumeSendAt(this.clock.now(), e.step, scheduleContextOf(e, campaign)),
      paused_until: null,
      pause_reason: null,
    });
  }

  /** Ends it. Safe to repeat; an enrolment already over stays as it is. */
  async cancel(tx: Tx, e: Enrollment, reason: CancelReason): Promise<Enrollment> {
    if (e.status === 'cancelled' || e.status === 'completed') return e;
    if (reason === 'stop') {
      // START may restart it: withdraw what was queued and keep that step, as pause does.
      const withdrawn = await this.deliveries.withdrawQueued(tx, e.id);
      const stopped = await this.move(tx, e, 'cancel', {
        status: 'cancelled',
        ...waitAgainFor(e, withdrawn),
        next_send_at: null,
        cancel_reason: reason,
      });
      return this.announce(tx, stopped, 'enrollment.opted_out', { reason });
    }
    await this.deliveries.skipQueued(tx, e.id, `cancelled: ${reason}`);
    const cancelled = await this.move(tx, e, 'cancel', {
      status: 'cancelled',
      next_send_at: null,
      cancel_reason: reason,
    });
    return reason === 'unsubscribe'
      ? this.announce(tx, cancelled, 'enrollment.opted_out', { reason })
      : cancelled;
  }

  /**
   * Restarts an enrolment stopped by an SMS STOP, at the step where it stopped. Null when it
   * cannot: not stopped by STOP, nothing left, or a newer enrolment in the campaign is live.
   */
  async restart(tx: Tx, e: Enrollment): Promise<Enrollment | null> {
    if (e.status !== 'cancelled' || e.cancel_reason !== 'stop') return null;
    const campaign = this.campaigns.get(e.campaign_id);
    if (!campaign || e.step >= campaign.steps.length) return null;
    // Signed up again since (the form tells a stopped number to text START): that newer
    // enrolment is the live one. Checked first, not caught as a unique-key error afterwards:
    // PostgreSQL aborts the whole transaction on that error, and every START after it failed.
    const others = await this.enrollments.forSubscriber(e.subscriber_id, tx);
    const live = others.some(
      (o) =>
        o.id !== e.id &&
        o.campaign_id === e.campaign_id &&
        o.clinic_id === e.clinic_id &&
        (LIVE_STATUSES as readonly string[]).includes(o.status),
    );
    if (live) return null;
    if (await this.subscribers.holdOf(e.subscriber_id, tx)) return this.heldBack(tx, e, 'restart');
    return this.move(tx, e, 'restart', {
      status: 'active',
      cancel_reason: null,
      next_send_at: resumeSendAt(this.clock.now(), e.step, scheduleContextOf(e, campaign)),
    });
  }

  /** Live but waiting for the person's safety hold to be lifted. */
  private heldBack(tx: Tx, e: Enrollment, transition: 'confirm' | 'restart'): Promise<Enrollment> {
    return this.move(tx, e, transition, {
      status: 'paused',
      cancel_reason: null,
      next_send_at: null,
      paused_until: null,
      pause_reason: 'safety',
    });
  }

  /** Changes send time or zone; the pending step moves to the new time within its day. */
  retime(
    tx: Tx,
    e: Enrollment,
    input: { timezone?: string; sendTime?: string },
  ): Promise<Enrollment> {
    check('retime', e.status, e.status);
    const updated = {
      ...e,
      timezone: input.timezone ?? e.timezone,
      send_time: input.sendTime ?? e.send_time,
    };
    const campaign = this.campaignOf(e.campaign_id);
    const next =
      e.status === 'active' && e.next_send_at
        ? retimeSendAt(
            e.next_send_at,
            this.clock.now(),
            e.step,
            scheduleContextOf(updated, campaign),
          )
        : e.next_send_at;
    return this.move(tx, e, 'retime', {
      timezone: updated.timezone,
      send_time: updated.send_time,
      next_send_at: next,
    });
  }

  /** Moves a live enrolment to another channel; anything queued on the old one is withdrawn. */
  async switchChannel(tx: Tx, e: Enrollment, channel: Channel): Promise<Enrollment> {
    check('switchChannel', e.status, e.status);
    const withdrawn = await this.deliveries.withdrawQueued(tx, e.id);
    const ctx = scheduleContextOf({ ...e, channel }, this.campaignOf(e.campaign_id));
    return this.move(tx, e, 'switchChannel', {
      channel,
      ...waitAgainFor(e, withdrawn),
      next_send_at: e.status === 'active' ? nextOccurrence(this.clock.now(), ctx) : null,
    });
  }

  /** A scheduler pass's advances (see advance.ts), for enrolments it claimed while active. */
  async advance(tx: Tx, advances: EnrollmentAdvance[]): Promise<void> {
    for (const a of advances) check('advance', 'active', a.status);
    await this.enrollments.advanceMany(tx, advances, TRANSITIONS.advance.from);
    // Rare (once per programme), so a batch without one costs nothing more.
    const done = advances.filter((a) => a.status === 'completed').map((a) => a.id);
    await this.webhooks.emitCompleted(tx, done);
  }

  /**
   * Ends every live enrolment of a person on a channel whose address can never receive (a
   * mailbox that does not exist, a landline), and skips what they had queued.
   */
  async endUndeliverable(tx: Tx, subscriberId: string, channel: Channel): Promise<string[]> {
    const ended = await this.enrollments.cancelAllOn(
      tx,
      subscriberId,
      channel,
      TRANSITIONS.endUndeliverable.from,
      'undeliverable',
    );
    for (const id of ended)
      await this.deliveries.skipQueued(tx, id, 'cancelled: address undeliverable');
    return ended;
  }
}

const safetyHeld = () =>
  conflict(
    'status: paused because of a warning sign in a reply; a clinic or operator lifts it ' +
      '(POST /api/v1/admin/subscribers/{id}/safety-hold/lift), or the person confirms on ' +
      'their preferences page that a clinician has seen them',
  );

/**
 * After queued messages were withdrawn (pause, STOP, a channel change): the enrolment waits
 * on the first of them again, under the same number.
 */
export function waitAgainFor(
  e: Pick<Enrollment, 'step' | 'step_key'>,
  withdrawn: { step: number; stepKey: string } | null,
): Pick<Enrollment, 'step' | 'step_key'> {
  if (!withdrawn) return { step: e.step, step_key: e.step_key };
  return { step: Math.min(withdrawn.step, e.step), step_key: withdrawn.stepKey };
}
