import { Injectable, Logger } from '@nestjs/common';
import { CampaignsService } from '../campaigns/index.js';
import { Clock } from '../common/clock.js';
import { notFound } from '../common/errors.js';
import { maskAddress } from '../common/mask.js';
import type { Channel, Enrollment } from '../database/index.js';
import { EnrollmentsRepository, EnrollmentsService } from '../enrollments/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import type { RequestMeta } from './signup.service.js';
import { consentText } from './consent-text.js';
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
   * enrolments on the channel are cancelled. Safe to repeat.
   */
  async withdraw(
    subscriberId: string,
    channel: Channel,
    source: string,
    meta: Partial<RequestMeta> = {},
  ): Promise<boolean> {
    const done = await this.enrollments.transaction(async (trx) => {
      const subscriber = await this.subscribers.findById(subscriberId, trx);
      const address = channel === 'email' ? subscriber?.email : subscriber?.phone;
      if (!subscriber || !address) return false;
      if (await this.subscribers.isSuppressed(address, trx)) return true; // already out: no new evidence
      await this.subscribers.suppress(address, channel, source, trx);
      await this.subscribers.recordConsent(trx, {
        subscriberId,
        kind: 'withdrawn',
        channel,
        source,
        textVersion: source === 'sms-keyword' ? 'sms-keyword-v1' : 'email-link-v1',
        ip: meta.ip ?? null,
        userAgent: meta.userAgent ?? null,
      });
      return true;
    });
    if (!done) return false;
    const reason = source === 'sms-keyword' ? 'stop' : 'unsubscribe';
    for (const e of await this.enrollments.forSubscriber(subscriberId)) {
      if (e.channel === channel && LIVE.includes(e.status))
        await this.enrollmentsService.cancel(e.id, reason);
    }
    this.logger.log({ subscriberId, channel, source }, 'opted out');
    return true;
  }

  /** STOP from a phone number, known to us or not: it is never texted again until START. */
  async stopPhone(phone: string): Promise<void> {
    const subscriber = await this.subscribers.findBy('phone', phone);
    if (subscriber) await this.withdraw(subscriber.id, 'sms', 'sms-keyword');
    else await this.subscribers.suppress(phone, 'sms', 'sms-keyword');
    this.logger.log({ to: maskAddress(phone) }, 'STOP');
  }

  /**
   * START / UNSTOP / YES: lifts the opt-out, confirms pending SMS signups and restarts
   * enrolments that STOP had stopped. Returns what happened, for the reply.
   */
  async startPhone(
    phone: string,
  ): Promise<{ known: boolean; confirmed: number; restarted: number }> {
    const subscriber = await this.subscribers.findBy('phone', phone);
    if (!subscriber) {
      await this.subscribers.unsuppress(phone);
      return { known: false, confirmed: 0, restarted: 0 };
    }
    return this.enrollments.transaction(async (trx) => {
      await this.subscribers.unsuppress(phone, trx);
      let confirmed = 0;
      let restarted = 0;
      const all = await this.enrollments.forSubscriber(subscriber.id, trx);
      for (const e of all.filter((x) => x.channel === 'sms')) {
        const locked = (await this.enrollments.lock(trx, e.id)) as Enrollment;
        if (locked.status === 'pending') {
          await this.enrollmentsService.activatePending(trx, locked);
          confirmed++;
        } else if (locked.status === 'cancelled' && locked.cancel_reason === 'stop') {
          if (await this.enrollmentsService.restartStopped(trx, locked)) restarted++;
        }
      }
      await this.subscribers.recordConsent(trx, {
        subscriberId: subscriber.id,
        kind: confirmed > 0 ? 'confirmed' : 'opted-in',
        channel: 'sms',
        source: 'sms-keyword',
        textVersion: 'sms-keyword-v1',
      });
      return { known: true, confirmed, restarted };
    });
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
    const vars = {
      programme: campaign?.name ?? '',
      days: campaign ? this.campaigns.tipDays(campaign) : 0,
      sender: this.config.sender.name,
    };
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
        text: consentText(e.text_version, vars),
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
