import { Injectable, Logger } from '@nestjs/common';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import { Clock, conflict, invalid, notFound, maskAddress } from '../common/index.js';
import { consentText } from '../consent/index.js';
import type { Transaction } from 'kysely';
import type { Database, Enrollment } from '../database/index.js';
// Not delivery's index.js: it loads DeliveryModule, which imports enrollments (a load cycle).
// eslint-disable-next-line no-restricted-imports
import { DeliveriesRepository } from '../delivery/deliveries.repository.js';
import { SubscribersRepository, resolveContact } from '../subscribers/index.js';
import type { CreateEnrollmentInput, UpdateEnrollmentInput } from './enrollment.dto.js';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { firstSendAt, resumeSendAt, retimeSendAt, scheduleContextOf } from './schedule.js';

export interface EnrollmentSummary {
  id: string;
  subscriberId: string;
  campaign: string;
  channel: string;
  status: string;
  /** Steps queued so far. */
  step: number;
  /** Key of the step it waits on; null: the first one the person has not had. */
  nextStep: string | null;
  nextSendAt: string | null;
  /** Why it ended, when cancelled: stop, unsubscribe, operator, undeliverable, expired. */
  cancelReason: string | null;
  /** Why it is paused: person, operator, or safety (a warning sign; see the safety hold). */
  pauseReason: string | null;
}

/** Who paused: the person (preferences), an operator or clinic, or a warning sign. */
export type PauseReason = 'person' | 'operator' | 'safety';

const safetyHeld = () =>
  conflict(
    'status: paused because of a warning sign in a reply; a clinic or operator lifts it ' +
      '(POST /api/v1/admin/subscribers/{id}/safety-hold/lift), or the person confirms on ' +
      'their preferences page that a clinician has seen them',
  );

/** Unconfirmed signups are removed after this long (the confirm link lives 3 days). */
export const PENDING_LIFETIME_MS = 4 * 24 * 3600_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class EnrollmentsService {
  private readonly logger = new Logger(EnrollmentsService.name);

  constructor(
    private readonly enrollments: EnrollmentsRepository,
    private readonly subscribers: SubscribersRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly campaigns: CampaignsService,
    private readonly clock: Clock,
  ) {}

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

  /** Checks the input completely before anything is written. */
  private validate(input: CreateEnrollmentInput) {
    const campaign = this.campaignOf(input.campaign);
    const { email, phone } = resolveContact(input);
    return { campaign, email, phone, name: input.name?.trim() || null };
  }

  async enroll(input: CreateEnrollmentInput, source: string): Promise<EnrollmentSummary> {
    const { campaign, email, phone, name } = this.validate(input);
    const address = (input.channel === 'email' ? email : phone)!;
    const now = this.clock.now();
    const enrollment = await this.enrollments.transaction(async (trx) => {
      if (await this.subscribers.isSuppressed(address, trx)) {
        throw conflict(
          `${input.channel === 'email' ? 'email' : 'phone'}: this address opted out; only its owner can opt back in`,
        );
      }
      const subscriber = await this.subscribers.findOrCreate(
        trx,
        { email, phone, name },
        input.channel,
      );
      // A clinic or operator vouches that both addresses are this person's: a warning sign
      // sent from either then holds the tips on both.
      const other = input.channel === 'email' ? phone : email;
      if (other)
        await this.subscribers.linkAddress(
          trx,
          subscriber,
          input.channel === 'email' ? 'phone' : 'email',
          other,
        );
      const held = await this.subscribers.holdOf(subscriber.id, trx);
      const ctx = scheduleContextOf(
        { channel: input.channel, timezone: input.timezone, send_time: input.sendTime },
        campaign,
      );
      let row: Enrollment;
      try {
        row = await this.enrollments.insert(trx, {
          subscriber_id: subscriber.id,
          campaign_id: campaign.id,
          channel: input.channel,
          timezone: input.timezone,
          send_time: input.sendTime,
          status: held ? 'paused' : 'active',
          pause_reason: held ? 'safety' : null,
          step: 0,
          next_send_at: held ? null : firstSendAt(now, ctx),
          source,
        });
      } catch (err) {
        if ((err as { code?: string }).code === '23505') {
          throw conflict(`campaign: this person is already enrolled in "${campaign.id}"`);
        }
        throw err;
      }
      await this.subscribers.recordConsent(trx, {
        subscriberId: subscriber.id,
        kind: 'enrolled',
        channel: input.channel,
        source,
        // The operator (admin API or CLI) vouches that the person agreed.
        textVersion: 'admin-v1',
        campaignId: campaign.id,
        text: consentText('admin-v1'),
      });
      return row;
    });
    this.logger.log(
      {
        enrollmentId: enrollment.id,
        campaign: campaign.id,
        channel: input.channel,
        to: maskAddress(address),
      },
      'enrolled',
    );
    return summarise(enrollment);
  }

  async get(id: string) {
    const e = await this.findOrThrow(id);
    const deliveries = await this.deliveries.listForEnrollment(e.id);
    return {
      ...summarise(e),
      timezone: e.timezone,
      sendTime: e.send_time,
      source: e.source,
      createdAt: e.created_at.toISOString(),
      deliveries: deliveries.map((d) => ({
        id: d.id,
        step: d.step,
        stepKey: d.step_key,
        channel: d.channel,
        status: d.status,
        attempts: d.attempts,
        providerId: d.provider_id,
        error: d.error,
        /** How an unknown outcome (a crash or timeout mid-send) was settled, if there was one. */
        resolution: d.resolution,
        createdAt: d.created_at.toISOString(),
        sentAt: d.sent_at?.toISOString() ?? null,
      })),
    };
  }

  /**
   * Pauses; messages queued but not yet sent are withdrawn, and their step is kept. `reason`
   * says who may resume it: a 'safety' pause (a warning sign) is resumed only by lifting the
   * person's safety hold, never from the preferences page or by the clock.
   */
  async pause(
    id: string,
    until: Date | null = null,
    reason: PauseReason = 'operator',
  ): Promise<EnrollmentSummary> {
    return this.change(id, async (trx, e) => this.pauseLocked(trx, e, until, reason));
  }

  /** Pauses an enrolment the caller has locked, inside the caller's transaction. */
  async pauseLocked(
    trx: Transaction<Database>,
    e: Enrollment,
    until: Date | null,
    reason: PauseReason,
  ): Promise<Enrollment> {
    if (e.status === 'paused') {
      // A warning sign outranks any other pause, and a timed pause must not end it.
      if (reason === 'safety' && e.pause_reason !== 'safety')
        return this.enrollments.update(trx, e.id, { pause_reason: 'safety', paused_until: null });
      return e;
    }
    if (e.status !== 'active')
      throw conflict(`status: cannot pause an enrolment that is ${e.status}`);
    const withdrawn = await this.deliveries.withdrawQueued(trx, e.id);
    return this.enrollments.update(trx, e.id, {
      status: 'paused',
      ...waitAgainFor(e, withdrawn),
      next_send_at: null,
      paused_until: until,
      pause_reason: reason,
    });
  }

  /**
   * Resumes a paused enrolment. One paused for a warning sign is refused (409) unless the
   * caller is lifting the safety hold (`liftingSafetyHold`). A hold pauses every enrolment
   * of the person with that reason, under the enrolment's lock, so checking the reason is
   * enough.
   */
  async resume(id: string, opts: { liftingSafetyHold?: boolean } = {}): Promise<EnrollmentSummary> {
    return this.change(id, async (trx, e) => {
      if (e.status === 'active') return e;
      if (e.status !== 'paused')
        throw conflict(`status: cannot resume an enrolment that is ${e.status}`);
      if (e.pause_reason === 'safety' && !opts.liftingSafetyHold) throw safetyHeld();
      const campaign = this.campaignOf(e.campaign_id);
      if (e.step >= campaign.steps.length)
        return this.enrollments.update(trx, e.id, {
          status: 'completed',
          next_send_at: null,
          pause_reason: null,
        });
      const next = resumeSendAt(this.clock.now(), e.step, scheduleContextOf(e, campaign));
      return this.enrollments.update(trx, e.id, {
        status: 'active',
        next_send_at: next,
        paused_until: null,
        pause_reason: null,
      });
    });
  }

  async cancel(id: string, reason = 'operator'): Promise<EnrollmentSummary> {
    return this.change(id, (trx, e) => this.cancelLocked(trx, e, reason));
  }

  /** Cancels an enrolment the caller has locked, inside the caller's transaction. */
  async cancelLocked(
    trx: Transaction<Database>,
    e: Enrollment,
    reason: string,
  ): Promise<Enrollment> {
    if (e.status === 'cancelled' || e.status === 'completed') return e;
    if (reason === 'stop') {
      // START may restart it: withdraw what was queued and keep that step, as pause does.
      const withdrawn = await this.deliveries.withdrawQueued(trx, e.id);
      return this.enrollments.update(trx, e.id, {
        status: 'cancelled',
        ...waitAgainFor(e, withdrawn),
        next_send_at: null,
        cancel_reason: reason,
      });
    }
    await this.deliveries.skipQueued(trx, e.id, `cancelled: ${reason}`);
    return this.enrollments.update(trx, e.id, {
      status: 'cancelled',
      next_send_at: null,
      cancel_reason: reason,
    });
  }

  /**
   * Starts a pending (double opt-in) enrolment: the welcome goes out at once. A person under
   * a safety hold is enrolled paused instead, to start when the hold is lifted.
   */
  async activatePending(trx: Transaction<Database>, e: Enrollment): Promise<Enrollment> {
    if (await this.subscribers.holdOf(e.subscriber_id, trx)) return this.heldBack(trx, e);
    const campaign = this.campaignOf(e.campaign_id);
    return this.enrollments.update(trx, e.id, {
      status: 'active',
      next_send_at: firstSendAt(this.clock.now(), scheduleContextOf(e, campaign)),
    });
  }

  /** Restarts an enrolment stopped by an SMS STOP, at the step where it stopped. */
  async restartStopped(trx: Transaction<Database>, e: Enrollment): Promise<Enrollment | null> {
    const campaign = this.campaigns.get(e.campaign_id);
    if (!campaign || e.step >= campaign.steps.length) return null;
    // Signed up again since (the form tells a stopped number to text START): that newer
    // enrolment is the live one. Checked first, not caught as a unique-key error afterwards:
    // PostgreSQL aborts the whole transaction on that error, and every START after it failed.
    const others = await this.enrollments.forSubscriber(e.subscriber_id, trx);
    const live = others.some(
      (o) =>
        o.id !== e.id &&
        o.campaign_id === e.campaign_id &&
        ['pending', 'active', 'paused'].includes(o.status),
    );
    if (live) return null;
    if (await this.subscribers.holdOf(e.subscriber_id, trx)) return this.heldBack(trx, e);
    return this.enrollments.update(trx, e.id, {
      status: 'active',
      cancel_reason: null,
      next_send_at: resumeSendAt(this.clock.now(), e.step, scheduleContextOf(e, campaign)),
    });
  }

  /** Live but waiting for the person's safety hold to be lifted. */
  private heldBack(trx: Transaction<Database>, e: Enrollment): Promise<Enrollment> {
    return this.enrollments.update(trx, e.id, {
      status: 'paused',
      cancel_reason: null,
      next_send_at: null,
      paused_until: null,
      pause_reason: 'safety',
    });
  }

  /** Changes send time or zone; the pending step moves to the new time within its day. */
  async reschedule(id: string, input: UpdateEnrollmentInput): Promise<EnrollmentSummary> {
    return this.change(id, async (trx, e) => {
      if (e.status === 'completed' || e.status === 'cancelled')
        throw conflict(`status: cannot change an enrolment that is ${e.status}`);
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
      return this.enrollments.update(trx, e.id, {
        timezone: updated.timezone,
        send_time: updated.send_time,
        next_send_at: next,
      });
    });
  }

  /**
   * Deletes signups never confirmed, and the people they created: PENDING_LIFETIME_MS after
   * the last confirmation was sent. A confirm link lasts CONFIRM_TTL_SECONDS from when it is
   * sent (at most half a day later, for quiet hours), which ends first: a link never
   * outlives its signup. Run by the scheduler's housekeeping.
   */
  async expirePending(): Promise<number> {
    return this.enrollments.deleteExpiredPending(
      new Date(this.clock.now().getTime() - PENDING_LIFETIME_MS),
    );
  }

  private async findOrThrow(id: string): Promise<Enrollment> {
    const e = UUID.test(id) ? await this.enrollments.find(id) : undefined;
    if (!e) throw notFound(`enrollment ${UUID.test(id) ? id : '(malformed id)'} not found`);
    return e;
  }

  private async change(
    id: string,
    fn: (
      trx: Parameters<Parameters<EnrollmentsRepository['transaction']>[0]>[0],
      e: Enrollment,
    ) => Promise<Enrollment>,
  ): Promise<EnrollmentSummary> {
    if (!UUID.test(id)) throw notFound('enrollment (malformed id) not found');
    const result = await this.enrollments.transaction(async (trx) => {
      const e = await this.enrollments.lock(trx, id);
      if (!e) throw notFound(`enrollment ${id} not found`);
      return fn(trx, e);
    });
    return summarise(result);
  }
}

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

function summarise(e: Enrollment): EnrollmentSummary {
  return {
    id: e.id,
    subscriberId: e.subscriber_id,
    campaign: e.campaign_id,
    channel: e.channel,
    status: e.status,
    step: e.step,
    nextStep: e.step_key,
    nextSendAt: e.next_send_at ? e.next_send_at.toISOString() : null,
    cancelReason: e.status === 'cancelled' ? e.cancel_reason : null,
    pauseReason: e.status === 'paused' ? e.pause_reason : null,
  };
}
