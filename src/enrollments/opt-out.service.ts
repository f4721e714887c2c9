import { Injectable, Logger } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { maskAddress } from '../common/index.js';
import { consentText } from '../consent/index.js';
import { Transactions, type Channel, type Database, type Enrollment } from '../database/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { EnrollmentLifecycle, LIVE_STATUSES, type CancelReason } from './lifecycle.js';

/** Where a request came from, kept with the evidence of an opt-out. */
export interface OptOutMeta {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Opting out and back in, and the evidence of both. Moved from signup's ConsentService: it
 * changes enrolments, so it sits with them; consent keeps the texts and the export.
 */
@Injectable()
export class OptOutService {
  private readonly logger = new Logger(OptOutService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly lifecycle: EnrollmentLifecycle,
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
    meta: Partial<OptOutMeta> = {},
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
      const reason: CancelReason = source === 'sms-keyword' ? 'stop' : 'unsubscribe';
      for (const e of await this.enrollments.forSubscriber(subscriberId, trx)) {
        if (e.channel !== channel || !(LIVE_STATUSES as readonly string[]).includes(e.status))
          continue;
        const locked = await this.enrollments.lock(trx, e.id);
        if (locked) await this.lifecycle.cancel(trx, locked, reason);
      }
      return true;
    };
    const done = opts.trx ? await run(opts.trx) : await this.transactions.run(run);
    if (done) this.logger.log({ subscriberId, channel, source }, 'opted out');
    return done;
  }

  /**
   * Stops one clinic's programme for this person on this channel (an unsubscribe link in that
   * clinic's email): their live enrolments with the clinic end; other clinics', the public
   * programme's and the address itself are left alone (nothing is suppressed). Safe to
   * repeat: evidence is recorded when something ended, or the first time they asked.
   * Returns how many enrolments ended.
   */
  async withdrawFromClinic(
    subscriberId: string,
    channel: Channel,
    clinicId: string,
    source: string,
    meta: Partial<OptOutMeta> = {},
  ): Promise<number> {
    const ended = await this.transactions.run(async (trx) => {
      if (!(await this.subscribers.findById(subscriberId, trx))) return 0;
      let ended = 0;
      for (const e of await this.enrollments.forSubscriber(subscriberId, trx)) {
        if (e.clinic_id !== clinicId) continue; // another clinic's, or the public programme's
        const locked = await this.enrollments.lock(trx, e.id);
        if (!locked || locked.channel !== channel || !isLive(locked)) continue;
        await this.lifecycle.cancel(trx, locked, 'unsubscribe');
        ended++;
      }
      const evidence = { subscriberId, kind: 'withdrawn' as const, channel, clinicId };
      // Recorded unless this clinic's last word from them already is this opt-out: a repeat
      // adds nothing, but an opt-out after opting back in (the clinic's page) counts.
      const last = await this.subscribers.lastClinicConsent(trx, subscriberId, clinicId, channel);
      if (ended > 0 || last !== 'withdrawn') {
        await this.subscribers.recordConsent(trx, {
          ...evidence,
          source,
          textVersion: 'email-link-v1',
          text: consentText('email-link-v1'),
          ip: meta.ip ?? null,
          userAgent: meta.userAgent ?? null,
        });
      }
      return ended;
    });
    this.logger.log({ subscriberId, channel, clinicId, source, ended }, 'left a clinic programme');
    return ended;
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
    else await this.transactions.run(run);
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
          await this.lifecycle.confirm(t, locked);
          confirmed++;
        } else if (locked.status === 'cancelled' && locked.cancel_reason === 'stop') {
          if (await this.lifecycle.restart(t, locked)) restarted++;
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
    return trx ? run(trx) : this.transactions.run(run);
  }
}

const isLive = (e: Enrollment) => (LIVE_STATUSES as readonly string[]).includes(e.status);
