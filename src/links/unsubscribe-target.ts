import type { Channel } from '../database/index.js';

/** Who an unsubscribe link stops, on which channel, and for which clinic (null: no clinic). */
export interface UnsubscribeTarget {
  subscriberId: string;
  channel: Channel;
  clinicId: string | null;
}

// Lowercase, as PostgreSQL writes a uuid: every subject ever sealed was built from one.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHANNELS: readonly string[] = ['email', 'sms'] satisfies Channel[];

const isChannel = (value: string): value is Channel => CHANNELS.includes(value);

/**
 * The subject sealed in an unsubscribe token: `<subscriber>.<channel>`, the form every token
 * sent so far carries, or `<subscriber>.<channel>.<clinic>` when the message came from a clinic.
 */
export function encodeUnsubscribeTarget(target: UnsubscribeTarget): string {
  const { subscriberId, channel, clinicId } = target;
  // A subject that would not decode is a link that cannot work: refuse it before it is sent.
  if (!UUID.test(subscriberId)) throw new Error('unsubscribe target: subscriberId is not a uuid');
  if (!isChannel(channel)) throw new Error(`unsubscribe target: unknown channel "${channel}"`);
  if (clinicId !== null && !UUID.test(clinicId)) {
    throw new Error('unsubscribe target: clinicId is not a uuid');
  }
  return clinicId === null
    ? `${subscriberId}.${channel}`
    : `${subscriberId}.${channel}.${clinicId}`;
}

/** The target a subject names, or null for anything not written by encodeUnsubscribeTarget. */
export function decodeUnsubscribeTarget(subject: string): UnsubscribeTarget | null {
  const parts = subject.split('.');
  if (parts.length !== 2 && parts.length !== 3) return null;
  const [subscriberId, channel, clinicId = null] = parts as [string, string, string?];
  if (!UUID.test(subscriberId)) return null;
  if (!isChannel(channel)) return null;
  if (clinicId !== null && !UUID.test(clinicId)) return null;
  return { subscriberId, channel, clinicId };
}
