import { Inject, Injectable, Logger } from '@nestjs/common';
import { CampaignsService } from '../campaigns/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Clock, invalid, maskAddress } from '../common/index.js';
import { Transactions, type Enrollment, type NewEnrollment, type Tx } from '../database/index.js';
import { QueuesService, promptly, redisReady } from '../delivery/index.js';
import { EnrollmentLifecycle, EnrollmentsRepository } from '../enrollments/index.js';
import { SubscribersRepository, resolveContact } from '../subscribers/index.js';
import { TokensService } from '../tokens/index.js';
import { CURRENT_SIGNUP_TEXT, consentText, consentVars } from '../consent/index.js';
import { RED_FLAGS, type RedFlagId } from './red-flags.js';
import type { SignupInput } from './signup.dto.js';
import { SmsGuard } from './sms-guard.js';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

export type SignupOutcome =
  | { kind: 'check-confirmation'; channel: 'email' | 'sms' }
  | { kind: 'get-care'; flags: (typeof RED_FLAGS)[number][]; emergency: boolean };

/** The clinic whose own page a signup came from: its id, and the sender its words name. */
export interface SignupClinic {
  id: string;
  sender: string;
}

const RESEND_AFTER_MS = 60_000;
const MAX_CONFIRMATIONS = 5;

@Injectable()
export class SignupService {
  private readonly logger = new Logger(SignupService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly enrollments: EnrollmentsRepository,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly subscribers: SubscribersRepository,
    private readonly queues: QueuesService,
    private readonly tokens: TokensService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly campaigns: CampaignsService,
    private readonly smsGuard: SmsGuard,
  ) {}

  /**
   * A signup from the public form, or from a clinic's own page (`clinic`: its id, and the
   * sender its consent words name). Always answers the same way whether or not the address
   * was known, so the form cannot be used to find out who is enrolled.
   */
  async subscribe(
    input: SignupInput,
    meta: RequestMeta,
    clinic?: SignupClinic,
  ): Promise<SignupOutcome> {
    if (input.redFlags.length > 0) {
      const flags = RED_FLAGS.filter((f) => (input.redFlags as RedFlagId[]).includes(f.id));
      return { kind: 'get-care', flags, emergency: flags.some((f) => f.emergency) };
    }
    const campaign = this.lifecycle.campaignOf(input.campaign);
    if (campaign.audience === 'demo' && this.config.env === 'production') {
      throw invalid('campaign', `"${campaign.id}" is a demo and is not offered for signup here`);
    }
    const { email, phone, address } = resolveContact(input);
    if (input.channel === 'sms') this.smsGuard.checkCountry(phone!);
    if (!input.consent) throw invalid('consent', 'tick the box to agree to receive the messages');
    if (input.website) {
      this.logger.warn('honeypot filled; signup ignored');
      return { kind: 'check-confirmation', channel: input.channel };
    }
    const now = this.clock.now();
    // All or nothing: the confirmation job is added inside the transaction, as its last step.
    // Redis unreachable: the transaction rolls back (no person, consent event or enrolment
    // left without a confirmation) and the caller gets 503. A commit that fails after the add
    // leaves a job whose new enrolment never appears, which ConfirmationProcessor drops (or,
    // for a resend, a confirmation the person did ask for). Checked first too, so an outage
    // costs no PostgreSQL work.
    await redisReady(this.queues.connection);
    const confirmation = await this.transactions.run(async (trx) => {
      const subscriber = await this.subscribers.findOrCreate(
        trx,
        { email, phone, name: input.name?.trim() || null },
        input.channel,
        {
          updateName: false,
        },
      );
      const clinicId = clinic?.id ?? null;
      const live = (await this.enrollments.forSubscriber(subscriber.id, trx)).find(
        // This programme's: the public one, or this clinic's (each clinic's is another one).
        (e) =>
          e.campaign_id === campaign.id &&
          e.clinic_id === clinicId &&
          ['pending', 'active', 'paused'].includes(e.status),
      );
      await this.subscribers.recordConsent(trx, {
        subscriberId: subscriber.id,
        kind: 'requested',
        channel: input.channel,
        source: 'web-form',
        textVersion: CURRENT_SIGNUP_TEXT,
        // The words the form showed, as it showed them (see SignupController.form).
        campaignId: campaign.id,
        text: consentText(
          CURRENT_SIGNUP_TEXT,
          consentVars(campaign, clinic?.sender ?? this.config.sender.name),
        ),
        clinicId,
        ip: meta.ip,
        userAgent: meta.userAgent,
      });
      const send = await this.pendingConfirmation(trx, live, {
        subscriber_id: subscriber.id,
        campaign_id: campaign.id,
        channel: input.channel,
        timezone: input.timezone,
        send_time: input.sendTime,
        clinic_id: clinicId,
        now,
      });
      if (send && input.channel === 'sms') {
        // Counted only when a text would go: refused, the whole signup rolls back.
        const refusal = await promptly(this.queues.connection, () =>
          this.smsGuard.admitConfirmation(phone!),
        );
        if (refusal) throw SmsGuard.refusalError(refusal);
      }
      if (send) {
        await promptly(this.queues.connection, () =>
          this.queues.enqueueConfirmation(send.id, input.channel, send.count, clinic?.id ?? null),
        );
      }
      return send;
    });
    this.logger.log(
      {
        channel: input.channel,
        to: maskAddress(address),
        confirmationQueued: Boolean(confirmation),
      },
      'signup',
    );
    return { kind: 'check-confirmation', channel: input.channel };
  }

  /**
   * The confirmation to send for this signup, recording it on the enrolment: a new pending
   * enrolment, a resend for one still pending, or null (already receiving the programme, or a
   * confirmation went out a moment ago or too many times).
   */
  private async pendingConfirmation(
    trx: Tx,
    live: Enrollment | undefined,
    row: Pick<
      NewEnrollment,
      'subscriber_id' | 'campaign_id' | 'channel' | 'timezone' | 'send_time' | 'clinic_id'
    > & { now: Date },
  ): Promise<{ id: string; count: number } | null> {
    const { now, ...values } = row;
    if (live && live.status !== 'pending') return null; // already receiving it: nothing to do
    if (live) {
      // Still unconfirmed: the latest form wins (time, zone, channel), resend or not.
      const latest = {
        channel: values.channel,
        timezone: values.timezone,
        send_time: values.send_time,
      };
      const recent =
        live.confirm_sent_at && now.getTime() - live.confirm_sent_at.getTime() < RESEND_AFTER_MS;
      const resend = !recent && live.confirm_count < MAX_CONFIRMATIONS;
      const row = await this.lifecycle.refreshPending(trx, live, latest, resend);
      return resend ? { id: row.id, count: row.confirm_count } : null;
    }
    // Null: a signup at the same moment made it first, and sends its confirmation.
    const created = await this.lifecycle.signUp(trx, values);
    return created ? { id: created.id, count: created.confirm_count } : null;
  }

  /**
   * What the confirm link's page shows, changing nothing: link scanners open every link in
   * an email, so only the page's button (a POST) confirms.
   */
  async confirmable(
    token: string,
  ): Promise<
    | { state: 'pending'; campaignId: string; channel: string; clinicId: string | null }
    | { state: 'already' }
    | { state: 'invalid' }
  > {
    const enrollmentId = this.tokens.verify('confirm', token);
    if (!enrollmentId) return { state: 'invalid' };
    const e = await this.enrollments.find(enrollmentId);
    if (!e || e.status === 'cancelled') return { state: 'invalid' };
    if (e.status !== 'pending') return { state: 'already' };
    return {
      state: 'pending',
      campaignId: e.campaign_id,
      channel: e.channel,
      clinicId: e.clinic_id,
    };
  }

  /**
   * The button on the confirm page (a POST, a person's action). Single use: a second press
   * finds the enrolment already started.
   */
  async confirm(token: string, meta: RequestMeta): Promise<'confirmed' | 'already' | 'invalid'> {
    const enrollmentId = this.tokens.verify('confirm', token);
    if (!enrollmentId) return 'invalid';
    return this.transactions.run(async (trx) => {
      const e = await this.enrollments.lock(trx, enrollmentId);
      if (!e || e.status === 'cancelled') return 'invalid';
      if (e.status !== 'pending') return 'already';
      const subscriber = (await this.subscribers.findById(e.subscriber_id, trx))!;
      const address = e.channel === 'email' ? subscriber.email : subscriber.phone;
      // Confirming is the person opting (back) in themselves: lift an earlier opt-out.
      if (address) await this.subscribers.unsuppress(address, trx);
      await this.lifecycle.confirm(trx, e);
      await this.subscribers.recordConsent(trx, {
        subscriberId: e.subscriber_id,
        kind: 'confirmed',
        channel: e.channel,
        source: 'email-link',
        textVersion: 'email-link-v1',
        campaignId: e.campaign_id,
        text: consentText('email-link-v1'),
        clinicId: e.clinic_id,
        ip: meta.ip,
        userAgent: meta.userAgent,
      });
      return 'confirmed';
    });
  }
}
