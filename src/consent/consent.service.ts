import { Inject, Injectable } from '@nestjs/common';
import { CampaignsService } from '../campaigns/index.js';
import { Clock, notFound } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import type { Enrollment } from '../database/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import { consentText, consentVars } from './consent-text.js';

/**
 * The evidence of consent: what each person agreed to and when, with the words shown.
 * Opting out and back in (which changes enrolments) is OptOutService's, in enrollments.
 */
@Injectable()
export class ConsentService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly subscribers: SubscribersRepository,
    private readonly campaigns: CampaignsService,
    private readonly clock: Clock,
  ) {}

  /**
   * Everything we hold as evidence of this person's consent, for the admin export.
   * `enrollments` are the person's, newest first: the caller reads them from enrollments,
   * which consent does not import (enrollments records consent).
   */
  async evidence(subscriberId: string, enrollments: readonly Enrollment[]) {
    const subscriber = await this.subscribers.findById(subscriberId);
    if (!subscriber) throw notFound(`subscriber ${subscriberId} not found`);
    const [events, suppressions] = await Promise.all([
      this.subscribers.consentEvents(subscriberId),
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
