import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import { TokensService } from '../tokens/index.js';
import { decodeOutcomeTarget, encodeOutcomeTarget, type OutcomeTarget } from './outcome-target.js';
import {
  decodeUnsubscribeTarget,
  encodeUnsubscribeTarget,
  type UnsubscribeTarget,
} from './unsubscribe-target.js';

/** Unsubscribe and preferences links work for 400 days: long after the last tip. */
export const LINK_TTL_SECONDS = 400 * 24 * 3600;
/** A confirm link lasts three days; unconfirmed signups are deleted a day after that. */
export const CONFIRM_TTL_SECONDS = 3 * 24 * 3600;
/** A check-in link answers for 30 days: long enough for a late reply, not for months. */
export const OUTCOME_TTL_SECONDS = 30 * 24 * 3600;

/** The links in messages and pages: sealed with TokensService, opened again here. */
@Injectable()
export class LinksService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly tokens: TokensService,
  ) {}

  unsubscribeUrl(target: UnsubscribeTarget): string {
    const token = this.tokens.issue(
      'unsubscribe',
      encodeUnsubscribeTarget(target),
      LINK_TTL_SECONDS,
    );
    return `${this.config.publicUrl}/unsubscribe/${token}`;
  }

  /** The preferences page's path, for links between our own pages. */
  preferencesPath(subscriberId: string): string {
    return `/preferences/${this.tokens.issue('preferences', subscriberId, LINK_TTL_SECONDS)}`;
  }

  preferencesUrl(subscriberId: string): string {
    return `${this.config.publicUrl}${this.preferencesPath(subscriberId)}`;
  }

  confirmUrl(enrollmentId: string): string {
    const token = this.tokens.issue('confirm', enrollmentId, CONFIRM_TTL_SECONDS);
    return `${this.config.publicUrl}/confirm/${token}`;
  }

  /**
   * The "I have one of these warning signs" link in every email's safety box: it opens a
   * page where the person says which, and we pause their tips and tell their clinic.
   */
  warningSignUrl(subscriberId: string): string {
    const token = this.tokens.issue('warning-sign', subscriberId, LINK_TTL_SECONDS);
    return `${this.config.publicUrl}/warning-sign/${token}`;
  }

  /** The person a warning-sign link is for; null if forged, expired or not one. */
  openWarningSign(token: string): string | null {
    return this.tokens.verify('warning-sign', token);
  }

  /** A one-tap check-in answer (or the page of answers): short, for an SMS too. */
  outcomeUrl(target: OutcomeTarget): string {
    const token = this.tokens.issueCompact(
      'outcome',
      encodeOutcomeTarget(target),
      OUTCOME_TTL_SECONDS,
    );
    return `${this.config.publicUrl}/o/${token}`;
  }

  /** What a check-in link answers; null if the token is forged, expired or not one. */
  openOutcome(token: string): OutcomeTarget | null {
    const bytes = this.tokens.verifyCompact('outcome', token);
    return bytes === null ? null : decodeOutcomeTarget(bytes);
  }

  /** What an unsubscribe link stops; null if the token is forged, expired or not one. */
  openUnsubscribe(token: string): UnsubscribeTarget | null {
    const subject = this.tokens.verify('unsubscribe', token);
    return subject === null ? null : decodeUnsubscribeTarget(subject);
  }

  /** Whose preferences a link opens; null if the token is forged, expired or not one. */
  openPreferences(token: string): string | null {
    return this.tokens.verify('preferences', token);
  }
}
