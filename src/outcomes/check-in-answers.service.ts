import { Injectable, Logger } from '@nestjs/common';
import { CampaignsService, PAIN_SCALE, ratingByKey, ratingOf } from '../campaigns/index.js';
import { Clock, invalid, notFound } from '../common/index.js';
import { WebhookOutbox } from '../webhook-outbox/index.js';
import { Transactions, type PainScoreKind, type Tx } from '../database/index.js';
import { LinksService, SenderResolver, type OutcomeTarget } from '../links/index.js';
import { OutcomesRepository, type AnswerResult } from './outcomes.repository.js';

/** A text answers the check-in it follows for this long, if nothing else went out since. */
export const SMS_ANSWER_WINDOW_MS = 7 * 24 * 3600 * 1000;

/** What a check-in link's page shows. */
export interface CheckInView {
  kind: PainScoreKind;
  /** The answer the link carries; null: the page offers every answer (the SMS's link). */
  value: number | null;
  /** That answer in words ("6 out of 10", "A little better"). */
  answer: string | null;
  /** The answer already stored for this check-in, in words. */
  previous: string | null;
  /** Whose programme asked: the clinic's name, else the service's. */
  from: string;
}

export interface CheckInAnswered {
  kind: PainScoreKind;
  answer: string;
  result: AnswerResult;
  from: string;
}

/** An answer in words. */
export function answerLabel(kind: PainScoreKind, value: number): string {
  return kind === 'nprs' ? `${value} out of ${PAIN_SCALE.max}` : (ratingOf(value)?.label ?? '');
}

/**
 * Answers to check-ins: the one-tap links in emails (and the SMS's link to the rating page),
 * and 0-10 text replies. A link's GET only shows what it would send; the form's POST records
 * it. One answer per check-in and scale: the latest answer counts (docs/outcomes.md).
 */
@Injectable()
export class CheckInAnswers {
  private readonly logger = new Logger(CheckInAnswers.name);

  constructor(
    private readonly repo: OutcomesRepository,
    private readonly links: LinksService,
    private readonly senders: SenderResolver,
    private readonly campaigns: CampaignsService,
    private readonly clock: Clock,
    private readonly transactions: Transactions,
    private readonly webhooks: WebhookOutbox,
  ) {}

  /** What the link would answer. Records nothing: mail scanners fetch links. */
  async view(token: string): Promise<CheckInView> {
    const { target, delivery } = await this.open(token);
    const previous = await this.repo.answerTo(delivery.deliveryId, target.kind);
    return {
      kind: target.kind,
      value: target.value,
      answer: target.value === null ? null : answerLabel(target.kind, target.value),
      previous: previous ? answerLabel(target.kind, previous.score) : null,
      from: (await this.senders.resolve(delivery.clinicId)).name,
    };
  }

  /** Records the link's answer, or the one chosen on its page (`formValue`). */
  async answer(token: string, formValue: unknown): Promise<CheckInAnswered> {
    const { target, delivery } = await this.open(token);
    const value = target.value ?? parseValue(target.kind, formValue);
    const answer = {
      kind: target.kind,
      score: value,
      source: delivery.channel === 'email' ? 'email-link' : 'sms-link',
      subscriberId: delivery.subscriberId,
      enrollmentId: delivery.enrollmentId,
      clinicId: delivery.clinicId,
      deliveryId: delivery.deliveryId,
    };
    const result = await this.transactions.run(async (tx) => {
      const saved = await this.repo.saveAnswer(answer, tx);
      if (saved !== 'unchanged') await this.announce(tx, answer);
      return saved;
    });
    this.logger.log(
      {
        deliveryId: delivery.deliveryId,
        enrollmentId: delivery.enrollmentId,
        kind: target.kind,
        result,
      },
      'check-in answered',
    );
    return {
      kind: target.kind,
      answer: answerLabel(target.kind, value),
      result,
      from: (await this.senders.resolve(delivery.clinicId)).name,
    };
  }

  /**
   * A 0-10 text reply, inside the inbound message's transaction. It answers the check-in when
   * the last message sent to the enrolment was an SMS asking for a pain score, within
   * SMS_ANSWER_WINDOW_MS; otherwise it is stored on its own (still against the enrolment).
   */
  async recordSmsReply(
    tx: Tx,
    r: {
      subscriberId: string;
      enrollmentId: string | null;
      score: number;
      inboundMessageId: string;
    },
  ): Promise<void> {
    let clinicId: string | null = null;
    let deliveryId: string | null = null;
    if (r.enrollmentId) {
      const enrollment = await this.repo.enrollmentForReply(r.enrollmentId, tx);
      const last = await this.repo.lastSent(r.enrollmentId, tx);
      clinicId = enrollment?.clinicId ?? null;
      const asked =
        enrollment &&
        last?.channel === 'sms' &&
        this.campaigns.get(enrollment.campaignId)?.steps.find((s) => s.key === last.stepKey)
          ?.checkIn?.pain === true &&
        this.clock.now().getTime() - last.sentAt.getTime() <= SMS_ANSWER_WINDOW_MS;
      if (asked) deliveryId = last.id;
    }
    const answer = {
      kind: 'nprs' as const,
      score: r.score,
      source: 'sms',
      subscriberId: r.subscriberId,
      enrollmentId: r.enrollmentId,
      clinicId,
      deliveryId,
      inboundMessageId: r.inboundMessageId,
    };
    if ((await this.repo.saveAnswer(answer, tx)) !== 'unchanged') await this.announce(tx, answer);
  }

  /** pain_score.received for the clinic's webhooks, in the answer's own transaction. */
  private async announce(
    tx: Tx,
    a: {
      kind: PainScoreKind;
      score: number;
      source: string;
      enrollmentId: string | null;
      clinicId: string | null;
      deliveryId: string | null;
    },
  ): Promise<void> {
    if (!a.clinicId || !a.enrollmentId) return;
    const ref = await this.repo.enrollmentRef(a.enrollmentId, tx);
    await this.webhooks.emit(tx, {
      clinicId: a.clinicId,
      type: 'pain_score.received',
      enrollmentId: a.enrollmentId,
      data: {
        enrollmentId: a.enrollmentId,
        externalId: ref?.externalId ?? null,
        campaignId: ref?.campaignId ?? null,
        // nprs: 0-10 pain; groc: rating of change, -3 (much worse) to +3 (much better)
        scale: a.kind,
        score: a.score,
        answer: answerLabel(a.kind, a.score),
        source: a.source,
        checkInId: a.deliveryId,
      },
    });
  }

  private async open(token: string) {
    const target: OutcomeTarget | null = this.links.openOutcome(token);
    if (!target) throw invalid('token', 'this link is incomplete, altered or too old');
    const delivery = await this.repo.checkInDelivery(target.deliveryId);
    if (!delivery) throw notFound('This check-in is no longer on record');
    return { target, delivery };
  }
}

/** The answer picked on the page: a score 0-10, or a rating's key (`a-little-better`). */
function parseValue(kind: PainScoreKind, raw: unknown): number {
  if (kind === 'groc') {
    const rating = typeof raw === 'string' ? ratingByKey(raw) : undefined;
    if (!rating) throw invalid('value', 'choose one of the answers on the page');
    return rating.value;
  }
  const n = typeof raw === 'string' && /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= PAIN_SCALE.min && n <= PAIN_SCALE.max)) {
    throw invalid('value', `choose a whole number from ${PAIN_SCALE.min} to ${PAIN_SCALE.max}`);
  }
  return n;
}
