export * from './channel.types.js';
export { ChannelsModule } from './channels.module.js';
export { OutboxEmailChannel, OutboxSmsChannel } from './outbox.js';
