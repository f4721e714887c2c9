import { Worker } from 'node:worker_threads';
import type { SinkReply, SinkRequest } from './sinks.worker.js';

export type SinkStats = Omit<Extract<SinkReply, { type: 'stats' }>, 'type'>;

export interface Sinks {
  smtpUrl: string;
  twilio: { url: string; accountSid: string; authToken: string };
  /** Messages each sink has accepted, and connections opened to it, so far. */
  stats(): Promise<SinkStats>;
  close(): Promise<void>;
}

/** Starts the SMTP sink and the Twilio fake in a worker thread. */
export async function startSinks(): Promise<Sinks> {
  const worker = new Worker(new URL('./sinks.worker.js', import.meta.url));
  const next = <T extends SinkReply['type']>(type: T, send?: SinkRequest) =>
    new Promise<Extract<SinkReply, { type: T }>>((resolve, reject) => {
      const onMessage = (m: SinkReply) => {
        if (m.type !== type) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m as Extract<SinkReply, { type: T }>);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      if (send) worker.postMessage(send);
    });
  const ready = await next('ready');
  return {
    smtpUrl: ready.smtpUrl,
    twilio: ready.twilio,
    async stats() {
      const { type: _type, ...stats } = await next('stats', { type: 'stats' });
      return stats;
    },
    async close() {
      await Promise.race([
        next('closed', { type: 'close' }),
        new Promise((r) => setTimeout(r, 5000).unref()),
      ]);
      await worker.terminate();
    },
  };
}
