import { Injectable } from '@nestjs/common';
import { DeliveriesRepository } from '../delivery/index.js';
import type { StatusCallback } from './status.dto.js';

type MessageStatus = StatusCallback['MessageStatus'];

/** Twilio's final word on an SMS: reached the phone, or did not. Anything else is on its way. */
const OUTCOME: Partial<Record<MessageStatus, 'delivered' | 'undelivered'>> = {
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'undelivered',
};

/** Records what became of each SMS we sent, from Twilio's status callbacks. */
@Injectable()
export class StatusService {
  constructor(private readonly deliveries: DeliveriesRepository) {}

  /** Marks the delivery with this sid delivered or failed; not ours or not final: nothing. */
  async record(callback: StatusCallback): Promise<void> {
    const outcome = OUTCOME[callback.MessageStatus];
    if (outcome === 'delivered') {
      await this.deliveries.markDelivered(callback.MessageSid);
    } else if (outcome === 'undelivered') {
      const code = callback.ErrorCode ? ` (error ${callback.ErrorCode})` : '';
      await this.deliveries.markUndelivered(
        callback.MessageSid,
        `Twilio ${callback.MessageStatus}${code}`,
      );
    }
  }
}
