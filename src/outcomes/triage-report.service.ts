import { Injectable, Logger } from '@nestjs/common';
import { Clock, invalid, notFound } from '../common/index.js';
import { Transactions, type TriageItem } from '../database/index.js';
import { SafetyService } from '../enrollments/index.js';
import { LinksService } from '../links/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import { TriageRepository } from './triage.repository.js';
import { TriageService } from './triage.service.js';

/** The emergency signs the email's link page offers (CONTENT.md's first group). */
export const REPORTABLE_SIGNS = [
  { key: 'chest', label: 'Chest pain, pressure or tightness' },
  { key: 'breathing', label: 'Shortness of breath' },
  { key: 'sweating', label: 'Sweating, nausea or feeling light-headed' },
  { key: 'spreading', label: 'Pain spreading to the arm, neck or jaw' },
] as const;
const KEYS = new Set<string>(REPORTABLE_SIGNS.map((s) => s.key));

/** A second report within this time opens no second triage item (a double press). */
const REPEAT_MS = 15 * 60_000;

/**
 * A warning sign reported through the link in an email's safety box: the same as a red-flag
 * text. The person is held (no tips on any channel), each of their clinics gets a triage
 * item, and the clinics are told once it is on record.
 */
@Injectable()
export class TriageReports {
  private readonly logger = new Logger(TriageReports.name);

  constructor(
    private readonly links: LinksService,
    private readonly subscribers: SubscribersRepository,
    private readonly safety: SafetyService,
    private readonly triage: TriageService,
    private readonly repo: TriageRepository,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
  ) {}

  /** The person the link is for, or NotFound for a link that is not one of ours. */
  async open(token: string): Promise<{ subscriberId: string }> {
    const subscriberId = this.links.openWarningSign(token);
    const subscriber = subscriberId ? await this.subscribers.findById(subscriberId) : undefined;
    if (!subscriber) throw notFound('this link is not one we sent, or it has expired');
    return { subscriberId: subscriber.id };
  }

  /** Reports the signs ticked; throws InvalidInput when none (or an unknown one) is. */
  async report(token: string, raw: unknown): Promise<{ told: boolean }> {
    const { subscriberId } = await this.open(token);
    const ticked = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
    if (ticked.length === 0) throw invalid('sign', 'tick the signs you have now');
    if (ticked.some((s) => !KEYS.has(s))) throw invalid('sign', 'is not one of the signs listed');
    const signs = [...new Set(ticked)];
    const raised: TriageItem[] = await this.transactions.run(async (tx) => {
      const subscriber = (await this.subscribers.findById(subscriberId, tx))!;
      await this.safety.hold(tx, subscriber, { signs, inboundMessageId: null, source: 'email' });
      const since = new Date(this.clock.now().getTime() - REPEAT_MS);
      if (await this.repo.recentOpen(tx, subscriber.person_id, 'email', since)) return [];
      return this.triage.raise(tx, subscriber, { source: 'email', signs, inboundMessageId: null });
    });
    this.logger.warn(
      { subscriberId, signs: signs.join(','), items: raised.length },
      'warning sign reported by the email link; the person is on a safety hold',
    );
    if (raised.length > 0) await this.triage.notify(raised);
    return { told: raised.length > 0 };
  }
}
