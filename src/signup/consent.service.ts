import { Injectable, Logger } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { CampaignsService } from '../campaigns/index.js';
import { Clock, notFound, maskAddress } from '../common/index.js';
import type { Channel, Database, Enrollment } from '../database/index.js';
import { EnrollmentsRepository, EnrollmentsService } from '../enrollments/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import type { RequestMeta } from './signup.service.js';
import { consentText, consentVars } from './consent-text.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Inject } from '@nestjs/common';

const LIVE = ['pending', 'active', 'paused'];

/** Opting out and back in, and the evidence of both. */
@Injectable()
export class ConsentService {
  private readonly logger = new Logger(ConsentService.name);

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly enrollmentsService: EnrollmentsService,
    private readonly campaigns: CampaignsService,
    private readonly clock: Clock,
  ) {}

  /**
   * Stops every message to this person's address on this channel, at once and for good:
   * the address is suppressed (checked again by the worker before each send) and their
   * enrolments on the channel are cancelled, all in one transaction (the caller's, when
   * given). Safe to repeat.
   */
  async withdraw(
    subscriberId: string,
    channel: Channel,
    source: string,
    meta: Partial<RequestMeta> = {},
    opts: { trx?: Transaction<Database>; words?: string } = {},
  ): Promise<boolean> {
    const run = async (trx: Transaction<Database>): Promise<boolean> => {
      const subscriber = await this.subscribers.findById(subscriberId, trx);
      const address = channel === 'email' ? subscriber?.email : subscriber?.phone;
      if (!subscriber || !address) return false;
      if (await this.subscribers.isSuppressed(address, trx)) return true; // already out: no new evidence
      await this.subscribers.suppress(address, channel, source, trx);
      const textVersion = source === 'sms-keyword' ? 'sms-keyword-v1' : 'email-link-v1';
      await this.subscribers.recordConsent(trx, {
        subscriberId,
        kind: 'withdrawn',
        channel,
        source,
        textVersion,
        text: consentText(textVersion),
        words: opts.words ?? null,
        ip: meta.ip ?? null,
        userAgent: meta.userAgent ?? null,
      });
      const reason = source === 'sms-keyword' ? 'stop' : 'unsubscribe';
      for (const e of await this.enrollments.forSubscriber(subscriberId, trx)) {
        if (e.channel !== channel || !LIVE.includes(e.status)) continue;
        const locked = await this.enrollments.lock(trx, e.id);
        if (locked) await this.enrollmentsService.cancelLocked(trx, locked, reason);
      }
      return true;
    };
    const done = opts.trx ? await run(opts.trx) : await this.enrollments.transaction(run);
    if (done) this.logger.log({ subscriberId, channel, source }, 'opted out');
    return done;
  }

  /**
   * STOP from a phone number, known to us or not: it is never texted again until START.
   * `words` is what they texted, kept as evidence.
   */
  async stopPhone(phone: string, words: string, trx?: Transaction<Database>): Promise<void> {
    const run = async (t: Transaction<Database>) => {
      const subscriber = await this.subscribers.findBy('phone', phone, t);
      if (subscriber)
        await this.withdraw(subscriber.id, 'sms', 'sms-keyword', {}, { trx: t, words });
      else await this.subscribers.suppress(phone, 'sms', 'sms-keyword', t);
    };
    if (trx) await run(trx);
    else await this.enrollments.transaction(run);
    this.logger.log({ to: maskAddress(phone) }, 'STOP');
  }

  /**
   * START / UNSTOP / YES: lifts the opt-out, confirms pending SMS signups and restarts
   * enrolments that STOP had stopped. Returns what happened, for the reply.
   */
  async startPhone(
    phone: string,
    words: string,
    trx?: Transaction<Database>,
  ): Promise<{ known: boolean; confirmed: number; restarted: number }> {
    const run = async (t: Transaction<Database>) => {
      const subscriber = await this.subscribers.findBy('phone', phone, t);
      await this.subscribers.unsuppress(phone, t);
      if (!subscriber) return { known: false, confirmed: 0, restarted: 0 };
      let confirmed = 0;
      let restarted = 0;
      const all = await this.enrollments.forSubscriber(subscriber.id, t);
      for (const e of all.filter((x) => x.channel === 'sms')) {
        const locked = (await this.enrollments.lock(t, e.id)) as Enrollment;
        if (locked.status === 'pending') {
          await this.enrollmentsService.activatePending(t, locked);
          confirmed++;
        } else if (locked.status === 'cancelled' && locked.cancel_reason === 'stop') {
          if (await this.enrollmentsService.restartStopped(t, locked)) restarted++;
        }
      }
      await this.subscribers.recordConsent(t, {
        subscriberId: subscriber.id,
        kind: confirmed > 0 ? 'confirmed' : 'opted-in',
        channel: 'sms',
        source: 'sms-keyword',
        textVersion: 'sms-keyword-v1',
        text: consentText('sms-keyword-v1'),
        words,
      });
      return { known: true, confirmed, restarted };
    };
    return trx ? run(trx) : this.enrollments.transaction(run);
  }

  /** Everything we hold as evidence of this person's consent, for the admin export. */
  async evidence(subscriberId: string) {
    const subscriber = await this.subscribers.findById(subscriberId);
    if (!subscriber) throw notFound(`subscriber ${subscriberId} not found`);
    const [events, enrollments, suppressions] = await Promise.all([
      this.subscribers.consentEvents(subscriberId),
      this.enrollments.forSubscriber(subscriberId),
      this.subscribers.suppressionsOf(
        [subscriber.email, subscriber.phone].filter((a): a is string => Boolean(a)),
      ),
    ]);
    const campaign =
      this.campaigns.get(enrollments[0]?.campaign_id ?? '') ?? this.campaigns.list()[0];
    const vars = campaign
      ? consentVars(campaign, this.config.sender.name)
      : { programme: '', days: 0, sender: this.config.sender.name };
    return {
      subscriber: {
        id: subscriber.id,
        email: subscriber.email,
        phone: subscriber.phone,
        name: subscriber.name,
        createdAt: subscriber.created_at.toISOString(),
      },
      consentEvents: events.map((e) => ({
        at: e.created_at.toISOString(),
        kind: e.kind,
        channel: e.channel,
        source: e.source,
        textVersion: e.text_version,
        campaign: e.campaign_id,
        // Stored with the event since migration 0004; older events are rebuilt from the
        // versioned text and the latest enrolment's campaign, and say so.
        text: e.text ?? consentText(e.text_version, vars),
        textStored: e.text !== null,
        words: e.words,
        ip: e.ip,
        userAgent: e.user_agent,
      })),
      enrollments: enrollments.map((e) => ({
        id: e.id,
        campaign: e.campaign_id,
        channel: e.channel,
        status: e.status,
        cancelReason: e.cancel_reason,
        createdAt: e.created_at.toISOString(),
      })),
      suppressions: suppressions.map((s) => ({
        address: s.address,
        channel: s.channel,
        reason: s.reason,
        at: s.created_at.toISOString(),
      })),
      exportedAt: this.clock.now().toISOString(),
    };
  }
}
