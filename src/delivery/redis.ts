import { Redis } from 'ioredis';

/** A connection BullMQ can block on: BullMQ requires maxRetriesPerRequest to be null. */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}
