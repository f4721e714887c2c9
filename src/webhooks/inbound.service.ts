import { Injectable, Logger } from '@nestjs/common';
import type { Transaction } from 'kysely';
import twilio from 'twilio';
import { maskPhone } from '../common/index.js';
import type { Database, Subscriber, TriageItem } from '../database/index.js';
import { CheckInAnswers, TriageService } from '../outcomes/index.js';
import { EnrollmentsRepository, OptOutService, SafetyService } from '../enrollments/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import type { InboundSms } from './inbound.dto.js';
import { classifyInbound, optOutIn, type InboundKind, type Intent } from './inbound-intent.js';
import { InboundRepository } from './inbound.repository.js';
import { SmsReplies } from './sms-replies.js';

/** PostgreSQL's deadlock and serialization failures: the transaction did nothing; run it again. */
const CONFLICT_CODES = new Set(['40P01', '40001']);
const CONFLICT_TRIES = 3;

/**
 * Runs `work` (one whole transaction, with nothing outside the database in it) again when
 * PostgreSQL aborted it for a deadlock or a serialization failure. A STOP whose transaction
 * lost a deadlock must not be lost: Twilio does not send it again after our 500.
 */
async function retryingConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await work();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (tries >= CONFLICT_TRIES || typeof code !== 'string' || !CONFLICT_CODES.has(code))
        throw err;
      await new Promise((r) => setTimeout(r, 20 * tries));
    }
  }
}

export interface InboundOutcome {
  kind: InboundKind;
  /** The text to answer with; null to answer nothing. */
  reply: string | null;
  /** True when this was a retry of a message already acted on. */
  repeated: boolean;
}

/** What a message does, worked out once and acted on in one transaction. */
interface Reading {
  intent: Intent;
  kind: InboundKind;
  /** An emergency sign together with an opt-out ("chest pain stop texting me"): both hold. */
  alsoStop: boolean;
}

/**
 * Acts on an SMS reply: opt-out and opt-in in ordinary words, HELP, 0-10 pain scores and
 * warning signs. Each message (by Twilio's MessageSid) is acted on once, however often Twilio
 * delivers it; recording it and acting on it are one transaction, so a crash in between
 * leaves nothing half-done for the retry to trip over.
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger(InboundService.name);

  constructor(
    private readonly inbound: InboundRepository,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly safety: SafetyService,
    private readonly optOut: OptOutService,
    private readonly replies: SmsReplies,
    private readonly triage: TriageService,
    private readonly checkIns: CheckInAnswers,
  ) {}

  /** What Twilio gets back for a message: TwiML, with our reply if there is one. */
  async answer(msg: InboundSms): Promise<string> {
    const { reply } = await this.receive(msg);
    const twiml = new twilio.twiml.MessagingResponse();
    if (reply) twiml.message(reply);
    return twiml.toString();
  }

  async receive(msg: InboundSms): Promise<InboundOutcome> {
    const reading = read(msg.body);
    const done = await retryingConflicts(() =>
      this.enrollments.transaction(async (trx) => {
        const subscriber = await this.subscribers.findBy('phone', msg.from, trx);
        // A score from a number we do not know has nobody to belong to.
        const kind = reading.kind === 'pain' && !subscriber ? 'unknown' : reading.kind;
        const claimed = await this.inbound.claim(trx, {
          providerId: msg.messageSid ?? null,
          fromPhone: msg.from,
          body: msg.body,
          kind,
          subscriberId: subscriber?.id ?? null,
        });
        if (!claimed) return null;
        const raised = await this.act(trx, { ...reading, kind }, msg, subscriber, claimed.id);
        return { kind, subscriber, inboundId: claimed.id, raised: raised ?? [] };
      }),
    );
    if (!done) return this.repeat(msg);
    // After the commit: the clinic hears of a red flag only once it is on record.
    if (done.raised.length > 0) await this.triage.notify(done.raised);
    this.logger.log(
      {
        from: maskPhone(msg.from),
        messageSid: msg.messageSid,
        subscriberId: done.subscriber?.id ?? null,
        inboundId: done.inboundId,
        kind: done.kind,
      },
      'inbound SMS',
    );
    return {
      kind: done.kind,
      reply: await this.replyFor({ ...reading, kind: done.kind }, msg.from, done.subscriber),
      repeated: false,
    };
  }

  /** Twilio delivered a message again (it did not get our answer): answer again, act never. */
  private async repeat(msg: InboundSms): Promise<InboundOutcome> {
    const earlier = msg.messageSid
      ? await this.inbound.findByProviderId(msg.messageSid)
      : undefined;
    if (!earlier) return { kind: 'unknown', reply: null, repeated: true };
    const subscriber = await this.subscribers.findBy('phone', msg.from);
    this.logger.log(
      { from: maskPhone(msg.from), messageSid: msg.messageSid, inboundId: earlier.id },
      'repeated inbound SMS; not acted on again',
    );
    const reading = { ...read(earlier.body), kind: earlier.kind };
    return {
      kind: earlier.kind,
      reply: await this.replyFor(reading, msg.from, subscriber),
      repeated: true,
    };
  }

  private async act(
    trx: Transaction<Database>,
    reading: Reading,
    msg: InboundSms,
    subscriber: Subscriber | undefined,
    inboundId: string,
  ): Promise<TriageItem[] | undefined> {
    const { intent, kind } = reading;
    const signs = 'signs' in intent ? intent.signs : [];
    switch (kind) {
      case 'stop':
        await this.optOut.stopPhone(msg.from, msg.body, trx);
        return;
      case 'start': {
        const started = await this.optOut.startPhone(msg.from, msg.body, trx);
        this.logger.log({ from: maskPhone(msg.from), ...started }, 'START');
        return;
      }
      case 'pain': {
        const latestSms = (await this.enrollments.forSubscriber(subscriber!.id, trx)).find(
          (e) => e.channel === 'sms',
        );
        // Stored against the check-in it answers, when it follows one (docs/outcomes.md).
        await this.checkIns.recordSmsReply(trx, {
          subscriberId: subscriber!.id,
          enrollmentId: latestSms?.id ?? null,
          score: 'score' in intent ? intent.score : 0,
          inboundMessageId: inboundId,
        });
        return;
      }
      case 'red-flag': {
        // Held before any opt-out, so the record shows the warning sign either way.
        let raised: TriageItem[] = [];
        if (subscriber) {
          await this.safety.hold(trx, subscriber, { signs, inboundMessageId: inboundId });
          raised = await this.triage.raise(trx, subscriber, {
            source: 'sms',
            signs,
            inboundMessageId: inboundId,
          });
        }
        if (reading.alsoStop) await this.optOut.stopPhone(msg.from, msg.body, trx);
        return raised;
      }
      case 'see-physician':
        if (subscriber)
          await this.safety.note(trx, subscriber, { signs, inboundMessageId: inboundId });
        return;
      case 'help':
      case 'unknown':
        // Kept in inbound_messages, for the clinic: free text may describe a symptom.
        return;
    }
  }

  /**
   * Keyword and safety replies always go out; a person who opted out gets no answer to a
   * score or to free text, so "ok thanks" after STOP draws nothing.
   */
  private async replyFor(
    reading: Reading,
    phone: string,
    subscriber: Subscriber | undefined,
  ): Promise<string | null> {
    const { kind, intent } = reading;
    if ((kind === 'pain' || kind === 'unknown') && (await this.subscribers.isSuppressed(phone))) {
      return null;
    }
    const score = 'score' in intent ? intent.score : null;
    const first = await this.replies.render(kind, subscriber, score);
    if (kind === 'red-flag' && reading.alsoStop) {
      return `${first}\n\n${await this.replies.render('stop', subscriber)}`;
    }
    return first;
  }
}

function read(body: string): Reading {
  const intent = classifyInbound(body);
  return { intent, kind: intent.kind, alsoStop: intent.kind === 'red-flag' && optOutIn(body) };
}
