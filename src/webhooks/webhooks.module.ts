import { Module } from '@nestjs/common';

/** Twilio webhooks: inbound replies (keywords, pain scores) and delivery status. */
@Module({})
export class WebhooksModule {}
