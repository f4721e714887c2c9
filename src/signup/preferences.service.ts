import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { Clock, invalid } from '../common/index.js';
import { Transactions, type Channel, type Enrollment } from '../database/index.js';
import {
  EnrollmentsRepository,
  EnrollmentsService,
  OptOutService,
  SafetyService,
  isValidTimeZone,
  EnrollmentLifecycle,
  parseSendTime,
} from '../enrollments/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import type { RequestMeta } from './signup.service.js';

const LIVE = ['active', 'paused'];
export const MAX_PAUSE_DAYS = 30;

export interface PreferencesView {
  subscriberId: string;
  channels: Channel[];
  enrollments: Enrollment[];
  /** Set when the person is on a safety hold (a warning sign in a reply). */
  hold: { since: Date } | null;
}

/** What a person can change from the link in every message. */
@Injectable()
export class PreferencesService {
  constructor(
    private readonly transactions: Transactions,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly enrollmentsService: EnrollmentsService,
    private readonly lifecycle: EnrollmentLifecycle,
    private readonly optOut: OptOutService,
    private readonly safety: SafetyService,
    private readonly clock: Clock,
  ) {}

  async view(subscriberId: string): Promise<PreferencesView | null> {
    const subscriber = await this.subscribers.findById(subscriberId);
    if (!subscriber) return null;
    const enrollments = (await this.enrollments.forSubscriber(subscriberId)).filter((e) =>
      LIVE.includes(e.status),
    );
    const channels: Channel[] = [];
    if (subscriber.email && !(await this.subscribers.isSuppressed(subscriber.email)))
      channels.push('email');
    if (subscriber.phone && !(await this.subscribers.isSuppressed(subscriber.phone)))
      channels.push('sms');
    const hold = await this.subscribers.holdOf(subscriberId);
    return { subscriberId, channels, enrollments, hold: hold ? { since: hold.created_at } : null };
  }

  /** Send time, time zone and channel, for every live enrolment of the person. */
  async update(
    view: PreferencesView,
    input: { sendTime?: string; timezone?: string; channel?: string },
  ): Promise<void> {
    if (input.sendTime !== undefined && !parseSendTime(input.sendTime))
      throw invalid('sendTime', 'must be a 24-hour time HH:MM such as 08:00');
    if (input.timezone !== undefined && !isValidTimeZone(input.timezone))
      throw invalid('timezone', 'must be an IANA time zone such as Europe/London');
    if (input.channel !== undefined && !view.channels.includes(input.channel as Channel)) {
      throw invalid(
        'channel',
        'is not available: we only send to an address you gave us and have not stopped',
      );
    }
    for (const e of view.enrollments) {
      if (input.sendTime || input.timezone) {
        await this.enrollmentsService.reschedule(e.id, {
          sendTime: input.sendTime,
          timezone: input.timezone,
        });
      }
      if (input.channel && input.channel !== e.channel)
        await this.switchChannel(e.id, input.channel as Channel);
    }
  }

  /** Moves an enrolment to another channel; anything queued on the old one is withdrawn. */
  private async switchChannel(id: string, channel: Channel): Promise<void> {
    await this.transactions.run(async (trx) => {
      const e = await this.enrollments.lock(trx, id);
      if (!e || !LIVE.includes(e.status)) return;
      await this.lifecycle.switchChannel(trx, e, channel);
    });
  }

  async pause(view: PreferencesView, days: number): Promise<Date> {
    if (!Number.isInteger(days) || days < 1 || days > MAX_PAUSE_DAYS)
      throw invalid('days', `must be a whole number from 1 to ${MAX_PAUSE_DAYS}`);
    const until = DateTime.fromJSDate(this.clock.now()).plus({ days }).toJSDate();
    for (const e of view.enrollments) await this.enrollmentsService.pause(e.id, until, 'person');
    return until;
  }

  /** Resumes the person's own pauses; a safety hold is lifted only by `confirmSeen`. */
  async resume(view: PreferencesView): Promise<void> {
    for (const e of view.enrollments.filter(
      (x) => x.status === 'paused' && x.pause_reason !== 'safety',
    ))
      await this.enrollmentsService.resume(e.id);
  }

  /**
   * The person confirms that a clinician has seen them since the warning sign: a deliberate
   * step (a ticked box on a POSTed form), recorded as a safety event. Lifts the hold.
   */
  async confirmSeen(view: PreferencesView, confirmed: boolean): Promise<void> {
    if (!view.hold) throw invalid('action', 'there is no safety pause to lift');
    if (!confirmed) throw invalid('seen', 'tick the box to confirm that a clinician has seen you');
    await this.safety.lift(
      view.subscriberId,
      'patient',
      'confirmed on the preferences page that a clinician has seen them',
    );
  }

  async stop(view: PreferencesView, meta: RequestMeta): Promise<void> {
    for (const channel of ['email', 'sms'] as const) {
      await this.optOut.withdraw(view.subscriberId, channel, 'preferences', meta);
    }
  }
}
