export * from './channel.types.js';
export { ChannelsModule } from './channels.module.js';
export { OutboxEmailChannel, OutboxSmsChannel } from './outbox.js';
export { classifySmtpError } from './smtp-email.channel.js';
export { classifyTwilioError, smsFingerprint } from './twilio-sms.channel.js';
