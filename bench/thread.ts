import type { Worker } from 'node:worker_threads';

/**
 * Request and reply with a worker thread whose messages carry a `type`: `next(types, send)`
 * posts `send` (if any) and resolves with the first message of one of `types`, or rejects if
 * the thread fails first.
 */
export function replies<Req, Reply extends { type: string }>(worker: Worker) {
  return <T extends Reply['type']>(types: T[], send?: Req) =>
    new Promise<Extract<Reply, { type: T }>>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        if (!(types as string[]).includes(m.type)) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m as Extract<Reply, { type: T }>);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      if (send) worker.postMessage(send);
    });
}
