import { Injectable, Logger } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { Clock, notFound } from '../common/index.js';
import { Transactions, DB, type Database, type Db, type Subscriber } from '../database/index.js';
import { Inject } from '@nestjs/common';
import { SubscribersRepository } from '../subscribers/index.js';
import { EnrollmentsRepository } from './enrollments.repository.js';
import { EnrollmentsService } from './enrollments.service.js';
import { EnrollmentLifecycle } from './lifecycle.js';

/** Who lifted a safety hold. */
export type HoldLifter = 'clinic' | 'operator' | 'patient';

export interface SafetyStatus {
  held: boolean;
  since: string | null;
  signs: string[];
  events: {
    at: string;
    kind: string;
    source: string;
    signs: string[];
    inboundMessageId: string | null;
    note: string | null;
  }[];
}

/**
 * Safety holds: a person who texted an emergency warning sign gets no tips, on any channel
 * or enrolment of theirs, until a clinic or an operator lifts the hold, or the person
 * confirms that a clinician has seen them. Every hold and every lift is an event.
 */
@Injectable()
export class SafetyService {
  private readonly logger = new Logger(SafetyService.name);

  constructor(
    private readonly transactions: Transactions,
    @Inject(DB) private readonly db: Db,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly enrollmentsService: EnrollmentsService,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly clock: Clock,
  ) {}

  /** Holds the person: pauses every live enrolment of theirs. Returns how many it paused. */
  async hold(
    trx: Transaction<Database>,
    subscriber: Subscriber,
    report: { signs: string[]; inboundMessageId: string | null; source?: 'sms' | 'email' },
  ): Promise<number> {
    const now = this.clock.now();
    const signs = report.signs.join(',');
    await this.record(
      trx,
      subscriber,
      'emergency',
      report.source ?? 'sms',
      report.signs,
      report.inboundMessageId,
    );
    await trx
      .insertInto('safety_holds')
      .values({
        person_id: subscriber.person_id,
        subscriber_id: subscriber.id,
        inbound_message_id: report.inboundMessageId,
        signs,
        created_at: now,
      })
      .onConflict((oc) => oc.column('person_id').doNothing())
      .execute();
    let paused = 0;
    for (const e of await this.enrollments.forPersonOf(subscriber.id, trx)) {
      if (e.status !== 'active' && e.status !== 'paused') continue;
      const locked = await this.enrollments.lock(trx, e.id);
      if (!locked || (locked.status !== 'active' && locked.status !== 'paused')) continue;
      await this.lifecycle.pause(trx, locked, null, 'safety');
      paused++;
    }
    this.logger.warn(
      { subscriberId: subscriber.id, signs, paused },
      'emergency warning sign in a reply; the person is on a safety hold',
    );
    return paused;
  }

  /** A see-a-physician sign: kept for the clinic as an event; the tips go on. */
  async note(
    trx: Transaction<Database>,
    subscriber: Subscriber,
    report: { signs: string[]; inboundMessageId: string | null },
  ): Promise<void> {
    await this.record(
      trx,
      subscriber,
      'see-physician',
      'sms',
      report.signs,
      report.inboundMessageId,
    );
    this.logger.log(
      { subscriberId: subscriber.id, signs: report.signs.join(',') },
      'see-a-physician sign in a reply; kept for the clinic',
    );
  }

  /**
   * Lifts the person's hold and resumes what it paused. Safe to repeat: a second call finds
   * no hold, records nothing, and resumes anything a failed first call left paused.
   */
  async lift(
    subscriberId: string,
    by: HoldLifter,
    note: string | null = null,
  ): Promise<{ lifted: boolean; resumed: number }> {
    const lifted = await this.transactions.run(async (trx) => {
      const subscriber = await this.subscribers.findById(subscriberId, trx);
      if (!subscriber) throw notFound(`subscriber ${subscriberId} not found`);
      const gone = await trx
        .deleteFrom('safety_holds')
        .where('person_id', '=', subscriber.person_id)
        .returning('person_id')
        .executeTakeFirst();
      if (gone) await this.record(trx, subscriber, 'cleared', by, [], null, note);
      return gone !== undefined;
    });
    let resumed = 0;
    for (const e of await this.enrollments.forPersonOf(subscriberId)) {
      if (e.status !== 'paused' || e.pause_reason !== 'safety') continue;
      await this.enrollmentsService.resume(e.id, { liftingSafetyHold: true });
      resumed++;
    }
    if (lifted) this.logger.log({ subscriberId, by, resumed }, 'safety hold lifted');
    return { lifted, resumed };
  }

  async status(subscriberId: string): Promise<SafetyStatus> {
    const subscriber = await this.subscribers.findById(subscriberId);
    if (!subscriber) throw notFound(`subscriber ${subscriberId} not found`);
    const [hold, events] = await Promise.all([
      this.subscribers.holdOf(subscriberId),
      this.db
        .selectFrom('safety_events')
        .selectAll()
        .where('person_id', '=', subscriber.person_id)
        .orderBy('created_at')
        .execute(),
    ]);
    const list = (s: string | null) => (s ? s.split(',').filter(Boolean) : []);
    return {
      held: hold !== undefined,
      since: hold?.created_at.toISOString() ?? null,
      signs: list(hold?.signs ?? null),
      events: events.map((e) => ({
        at: e.created_at.toISOString(),
        kind: e.kind,
        source: e.source,
        signs: list(e.signs),
        inboundMessageId: e.inbound_message_id,
        note: e.note,
      })),
    };
  }

  private async record(
    trx: Transaction<Database>,
    subscriber: Subscriber,
    kind: string,
    source: string,
    signs: string[],
    inboundMessageId: string | null,
    note: string | null = null,
  ): Promise<void> {
    await trx
      .insertInto('safety_events')
      .values({
        person_id: subscriber.person_id,
        subscriber_id: subscriber.id,
        kind,
        source,
        signs: signs.length > 0 ? signs.join(',') : null,
        inbound_message_id: inboundMessageId,
        note,
        created_at: this.clock.now(),
      })
      .execute();
  }
}
