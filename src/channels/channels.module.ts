import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import { EmailChannel, SmsChannel } from './channel.types.js';
import { OutboxEmailChannel, OutboxSmsChannel } from './outbox.js';
import { SmtpEmailChannel } from './smtp-email.channel.js';
import { TwilioSmsChannel } from './twilio-sms.channel.js';

/** Picks each channel from configuration: real provider when configured, else the outbox. */
@Module({
  providers: [
    {
      provide: EmailChannel,
      inject: [CONFIG],
      useFactory: (c: AppConfig) =>
        c.smtpUrl
          ? new SmtpEmailChannel(c.smtpUrl, c.mailFrom, c.delivery.sendTimeoutMs)
          : new OutboxEmailChannel(c.outboxDir, c.mailFrom),
    },
    {
      provide: SmsChannel,
      inject: [CONFIG],
      useFactory: (c: AppConfig) =>
        c.twilio
          ? new TwilioSmsChannel({
              ...c.twilio,
              timeoutMs: c.delivery.sendTimeoutMs,
              // Twilio must be able to reach us: only with a PUBLIC_URL that is not this machine.
              statusCallback: /^https?:\/\/(localhost|127\.|\[::1\])/.test(c.publicUrl)
                ? undefined
                : `${c.publicUrl}/webhooks/twilio/status`,
            })
          : new OutboxSmsChannel(c.outboxDir, 'outbox'),
    },
  ],
  exports: [EmailChannel, SmsChannel],
})
export class ChannelsModule implements OnApplicationShutdown {
  constructor(
    @Inject(EmailChannel) private readonly email: EmailChannel,
    @Inject(SmsChannel) private readonly sms: SmsChannel,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.email.close(), this.sms.close()]);
  }
}
