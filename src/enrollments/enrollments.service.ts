import { Injectable, Logger } from '@nestjs/common';
import type { Campaign } from '../campaigns/index.js';
import { conflict, notFound, maskAddress, isUuid } from '../common/index.js';
import { consentText } from '../consent/index.js';
import { Transactions, type Enrollment, type Tx } from '../database/index.js';
import { DeliveriesRepository } from '../deliveries/index.js';
import { SubscribersRepository, resolveContact } from '../subscribers/index.js';
import type { CreateEnrollmentInput, UpdateEnrollmentInput } from './enrollment.dto.js';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { EnrollmentLifecycle, type CancelReason, type PauseReason } from './lifecycle.js';

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

/** Unconfirmed signups are removed after this long (the confirm link lives 3 days). */
export const PENDING_LIFETIME_MS = 4 * 24 * 3600_000;

@Injectable()
export class EnrollmentsService {
  private readonly logger = new Logger(EnrollmentsService.name);

  constructor(
    private readonly enrollments: EnrollmentsRepository,
    private readonly subscribers: SubscribersRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly transactions: Transactions,
  ) {}

  campaignOf(id: string): Campaign {
    return this.lifecycle.campaignOf(id);
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
    const enrollment = await this.transactions.run(async (trx) => {
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
      await this.subscribers.linkOtherAddress(trx, subscriber, { email, phone }, input.channel);
      const row = await this.lifecycle.enrol(trx, {
        subscriber_id: subscriber.id,
        campaign_id: campaign.id,
        channel: input.channel,
        timezone: input.timezone,
        send_time: input.sendTime,
        source,
      });
      if (!row) throw conflict(`campaign: this person is already enrolled in "${campaign.id}"`);
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

  /** Pauses (see EnrollmentLifecycle.pause); `reason` says who may resume it. */
  async pause(
    id: string,
    until: Date | null = null,
    reason: PauseReason = 'operator',
  ): Promise<EnrollmentSummary> {
    return this.change(id, (trx, e) => this.lifecycle.pause(trx, e, until, reason));
  }

  /** Resumes a paused enrolment; a safety pause only when `liftingSafetyHold`. */
  async resume(id: string, opts: { liftingSafetyHold?: boolean } = {}): Promise<EnrollmentSummary> {
    return this.change(id, (trx, e) => this.lifecycle.resume(trx, e, opts));
  }

  async cancel(id: string, reason: CancelReason = 'operator'): Promise<EnrollmentSummary> {
    return this.change(id, (trx, e) => this.lifecycle.cancel(trx, e, reason));
  }

  /** Changes send time or zone; the pending step moves to the new time within its day. */
  async reschedule(id: string, input: UpdateEnrollmentInput): Promise<EnrollmentSummary> {
    return this.change(id, (trx, e) => this.lifecycle.retime(trx, e, input));
  }

  /**
   * Deletes signups never confirmed, and the people they created: PENDING_LIFETIME_MS after
   * the last confirmation was sent. A confirm link lasts CONFIRM_TTL_SECONDS from when it is
   * sent (at most half a day later, for quiet hours), which ends first: a link never
   * outlives its signup. Run by the scheduler's housekeeping.
   */
  async expirePending(now: Date): Promise<number> {
    return this.enrollments.deleteExpiredPending(new Date(now.getTime() - PENDING_LIFETIME_MS));
  }

  private async findOrThrow(id: string): Promise<Enrollment> {
    const e = isUuid(id) ? await this.enrollments.find(id) : undefined;
    if (!e) throw notFound(`enrollment ${isUuid(id) ? id : '(malformed id)'} not found`);
    return e;
  }

  private async change(
    id: string,
    fn: (trx: Tx, e: Enrollment) => Promise<Enrollment>,
  ): Promise<EnrollmentSummary> {
    if (!isUuid(id)) throw notFound('enrollment (malformed id) not found');
    const result = await this.transactions.run(async (trx) => {
      const e = await this.enrollments.lock(trx, id);
      if (!e) throw notFound(`enrollment ${id} not found`);
      return fn(trx, e);
    });
    return summarise(result);
  }
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
