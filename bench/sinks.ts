import { Worker } from 'node:worker_threads';
import { replies } from './thread.js';
import type { Arrival, SinkOptions, SinkReply, SinkRequest } from './sinks.worker.js';

export type { Arrival, SinkOptions };

export type SinkStats = Omit<Extract<SinkReply, { type: 'stats' }>, 'type'>;

export interface Sinks {
  smtpUrl: string;
  twilio: { url: string; accountSid: string; authToken: string };
  /** Messages each sink has accepted, and connections opened to it, so far. */
  stats(): Promise<SinkStats>;
  /** Arrivals recorded since the last call (with `record`), then forgets them. */
  arrivals(): Promise<{ email: Arrival[]; sms: Arrival[] }>;
  close(): Promise<void>;
}

/** Starts the SMTP sink and the Twilio fake in a worker thread. */
export async function startSinks(options: SinkOptions = {}): Promise<Sinks> {
  const worker = new Worker(new URL('./sinks.worker.js', import.meta.url), {
    workerData: options,
  });
  const next = replies<SinkRequest, SinkReply>(worker);
  const ready = await next(['ready']);
  return {
    smtpUrl: ready.smtpUrl,
    twilio: ready.twilio,
    async stats() {
      const { type: _type, ...stats } = await next(['stats'], { type: 'stats' });
      return stats;
    },
    async arrivals() {
      const { email, sms } = await next(['arrivals'], { type: 'arrivals' });
      return { email, sms };
    },
    async close() {
      await Promise.race([
        next(['closed'], { type: 'close' }),
        new Promise((r) => setTimeout(r, 5000).unref()),
      ]);
      await worker.terminate();
    },
  };
}
