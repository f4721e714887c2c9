import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/index.js';
import { SchedulerLoop } from './scheduler.loop.js';
import type { PassResult, SchedulerService } from './scheduler.service.js';

/** A scheduler whose passes answer from a script, recording when each ran. */
function scripted(passes: PassResult[]) {
  const at: number[] = [];
  const scheduler = {
    runPass: async () => {
      at.push(Date.now());
      return passes.shift() ?? { ran: true, claimed: 0, enqueued: 0 };
    },
    sweep: async () => 0,
    housekeeping: async () => ({ resumed: 0, expired: 0 }),
  };
  return { scheduler: scheduler as unknown as SchedulerService, at };
}

describe('SchedulerLoop', () => {
  const config = loadConfig({ SCHEDULER_INTERVAL_MS: '60000' });

  it('starts the next pass at once while a pass stops with more due, then waits the interval', async () => {
    const { scheduler, at } = scripted([
      { ran: true, claimed: 100, enqueued: 100, more: true },
      { ran: true, claimed: 100, enqueued: 100, more: true },
      { ran: true, claimed: 7, enqueued: 7 },
    ]);
    const loop = new SchedulerLoop(config, scheduler);
    loop.onApplicationBootstrap();
    const start = Date.now();
    while (at.length < 3 && Date.now() - start < 2_000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    await loop.beforeApplicationShutdown();
    // Three passes back to back; the fourth waits SCHEDULER_INTERVAL_MS (a minute).
    expect(at).toHaveLength(3);
    expect(at[2]! - at[0]!).toBeLessThan(1_000);
  });

  it('takes no new pass once shutdown has begun', async () => {
    const { scheduler, at } = scripted([{ ran: true, claimed: 1, enqueued: 1, more: true }]);
    const loop = new SchedulerLoop(config, scheduler);
    loop.onModuleDestroy();
    loop.onApplicationBootstrap();
    await new Promise((r) => setTimeout(r, 50));
    await loop.beforeApplicationShutdown();
    expect(at).toHaveLength(0);
  });
});
