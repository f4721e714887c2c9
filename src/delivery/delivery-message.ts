import { Inject, Injectable } from '@nestjs/common';
import type { Campaign } from '../campaigns/index.js';
import type { EmailMessage, SmsMessage } from '../channels/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { MessageComposer, SenderResolver } from '../links/index.js';
import { Renderer } from '../rendering/index.js';
import type { DeliveryForSend } from '../deliveries/index.js';

export type BuiltMessage =
  { channel: 'email'; message: EmailMessage } | { channel: 'sms'; message: SmsMessage };

/** The domain of the sender address, for Message-IDs. */
export function mailDomain(mailFrom: string): string {
  const address = /<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom;
  const domain = address.slice(address.lastIndexOf('@') + 1).trim();
  return /^[A-Za-z0-9.-]+$/.test(domain) && domain ? domain : 'selfcare-drip.invalid';
}

/**
 * Renders what one delivery sends. Also used after a crash to rebuild the message and look it
 * up in the provider's log: an SMS renders to the same words (its links, the only part that
 * differs, are ignored when comparing), an email carries the same Message-ID.
 */
@Injectable()
export class DeliveryMessages {
  private readonly domain: string;

  constructor(
    @Inject(CONFIG) config: AppConfig,
    private readonly renderer: Renderer,
    private readonly composer: MessageComposer,
    private readonly senders: SenderResolver,
  ) {
    this.domain = mailDomain(config.mailFrom);
  }

  /** `<delivery-id@sender-domain>`: the same for every attempt of a delivery. */
  messageId(deliveryId: string): string {
    return `<${deliveryId}@${this.domain}>`;
  }

  /**
   * Resolves the sender from the delivery's own clinic (the enrolment's, as loaded from
   * PostgreSQL), never from a job's payload. A clinic's patient gets its name on From (the
   * address stays MAIL_FROM's), its Reply-To, and a text from its own number where it has one.
   */
  async build(d: DeliveryForSend, campaign: Campaign): Promise<BuiltMessage> {
    // The step's content is found by key (its place in the list may have changed since it
    // was queued); "Day N" counts this person's deliveries.
    const index = campaign.steps.findIndex((s) => s.key === d.stepKey);
    const sender = await this.senders.resolve(d.clinicId);
    // A check-in rides on its step's delivery: its links name this delivery (docs/outcomes.md).
    const asks = campaign.steps[index]?.checkIn;
    const ctx = this.composer.context(
      campaign,
      d.step,
      { subscriberId: d.subscriberId, name: d.name, channel: d.channel, source: d.source },
      sender,
      asks ? { checkIn: { deliveryId: d.id, asks } } : {},
    );
    if (d.channel === 'email') {
      const m = this.renderer.renderEmail(campaign.id, index, ctx);
      return {
        channel: 'email',
        message: {
          to: d.email!,
          ...(sender.isClinic ? { fromName: sender.name } : {}),
          subject: m.subject,
          html: m.html,
          text: m.text,
          replyTo: ctx.sender.replyTo ?? undefined,
          // The mailto of List-Unsubscribe stays the service's: it keeps the list, not the desk.
          headers: this.composer.listUnsubscribeHeaders(
            ctx.links.unsubscribe,
            this.senders.own().replyTo,
          ),
          reference: d.id,
          messageId: this.messageId(d.id),
        },
      };
    }
    const m = this.renderer.renderSms(campaign.id, index, ctx);
    return {
      channel: 'sms',
      message: {
        to: d.phone!,
        ...(sender.smsFrom ? { from: sender.smsFrom } : {}),
        body: m.body,
        reference: d.id,
      },
    };
  }
}
