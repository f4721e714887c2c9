import { HttpException, Injectable, Logger } from '@nestjs/common';
import { maskPhone } from '../common/mask.js';
import type { Subscriber } from '../database/index.js';
import { EnrollmentsRepository, EnrollmentsService } from '../enrollments/index.js';
import { ConsentService } from '../signup/index.js';
import { SubscribersRepository } from '../subscribers/index.js';
import type { InboundSms } from './inbound.dto.js';
import { classifyInbound, type InboundKind } from './inbound-intent.js';
import { InboundRepository } from './inbound.repository.js';
import { SmsReplies } from './sms-replies.js';

export interface InboundOutcome {
  kind: InboundKind;
  /** The text to answer with; null to answer nothing. */
  reply: string | null;
  /** True when this was a retry of a message already acted on. */
  repeated: boolean;
}

/**
 * Acts on an SMS reply: STOP/START/HELP keywords, 0-10 pain scores and warning signs.
 * Each message (by Twilio's MessageSid) is acted on once, however often Twilio delivers it.
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger(InboundService.name);

  constructor(
    private readonly inbound: InboundRepository,
    private readonly subscribers: SubscribersRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly enrollmentsService: EnrollmentsService,
    private readonly consent: ConsentService,
    private readonly replies: SmsReplies,
  ) {}

  async receive(msg: InboundSms): Promise<InboundOutcome> {
    const intent = classifyInbound(msg.body);
    const subscriber = await this.subscribers.findBy('phone', msg.from);
    // A score from a number we do not know has nobody to belong to.
    const kind: InboundKind = intent.kind === 'pain' && !subscriber ? 'unknown' : intent.kind;
    const score = intent.kind === 'pain' ? intent.score : null;
    const log = {
      from: maskPhone(msg.from),
      messageSid: msg.messageSid,
      subscriberId: subscriber?.id ?? null,
    };

    const claimed = await this.inbound.claim({
      providerId: msg.messageSid ?? null,
      fromPhone: msg.from,
      body: msg.body,
      kind,
      subscriberId: subscriber?.id ?? null,
    });
    if (!claimed) return this.repeat(msg, subscriber, log);

    try {
      await this.act(kind, msg.from, subscriber, score);
    } catch (err) {
      // Undo the claim so that Twilio's retry of this message can act on it.
      await this.inbound.release(claimed.id).catch(() => undefined);
      throw err;
    }
    this.logger.log({ ...log, inboundId: claimed.id, kind }, 'inbound SMS');
    return { kind, reply: await this.replyFor(kind, msg.from, subscriber, score), repeated: false };
  }

  /** Twilio delivered a message again (it did not get our answer): answer again, act never. */
  private async repeat(
    msg: InboundSms,
    subscriber: Subscriber | undefined,
    log: object,
  ): Promise<InboundOutcome> {
    const earlier = msg.messageSid
      ? await this.inbound.findByProviderId(msg.messageSid)
      : undefined;
    if (!earlier) return { kind: 'unknown', reply: null, repeated: true }; // released meanwhile
    const intent = classifyInbound(earlier.body);
    const score = intent.kind === 'pain' ? intent.score : null;
    this.logger.log(
      { ...log, inboundId: earlier.id, kind: earlier.kind },
      'repeated inbound SMS; not acted on again',
    );
    return {
      kind: earlier.kind,
      reply: await this.replyFor(earlier.kind, msg.from, subscriber, score),
      repeated: true,
    };
  }

  private async act(
    kind: InboundKind,
    phone: string,
    subscriber: Subscriber | undefined,
    score: number | null,
  ): Promise<void> {
    switch (kind) {
      case 'stop':
        await this.consent.stopPhone(phone);
        return;
      case 'start': {
        const started = await this.consent.startPhone(phone);
        this.logger.log({ from: maskPhone(phone), ...started }, 'START');
        return;
      }
      case 'pain': {
        const latestSms = (await this.enrollments.forSubscriber(subscriber!.id)).find(
          (e) => e.channel === 'sms',
        );
        await this.inbound.insertPainScore({
          subscriberId: subscriber!.id,
          enrollmentId: latestSms?.id ?? null,
          score: score!,
          source: 'sms',
        });
        return;
      }
      case 'red-flag':
        if (subscriber) await this.pauseAll(subscriber.id);
        return;
      case 'help':
      case 'unknown':
        return;
    }
  }

  /** A warning sign: no more tips, by any channel, until a person looks at it and resumes. */
  private async pauseAll(subscriberId: string): Promise<void> {
    const active = (await this.enrollments.forSubscriber(subscriberId)).filter(
      (e) => e.status === 'active',
    );
    for (const e of active) {
      try {
        await this.enrollmentsService.pause(e.id);
      } catch (err) {
        // Completed or cancelled a moment ago: nothing left to pause.
        if (!(err instanceof HttpException)) throw err;
      }
    }
    this.logger.warn(
      { subscriberId, paused: active.length },
      'warning sign in a reply; enrolments paused',
    );
  }

  /**
   * Keyword and safety replies always go out; a person who opted out gets no answer to
   * anything else, so "ok thanks" after STOP does not draw a "did not understand".
   */
  private async replyFor(
    kind: InboundKind,
    phone: string,
    subscriber: Subscriber | undefined,
    score: number | null,
  ): Promise<string | null> {
    if ((kind === 'pain' || kind === 'unknown') && (await this.subscribers.isSuppressed(phone))) {
      return null;
    }
    return this.replies.render(kind, subscriber, score);
  }
}
