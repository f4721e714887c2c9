import { describe, expect, it } from '@jest/globals';
import { Coalescer } from './coalescer.js';

/** A batch function that records each batch and answers when told. */
function recording() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const run = (inputs: number[]) => {
    batches.push(inputs);
    return new Promise<number[]>((resolve, reject) =>
      gates.push(() =>
        inputs.includes(-1) ? reject(new Error('bad batch')) : resolve(inputs.map((x) => x * 10)),
      ),
    );
  };
  const openNext = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, run, openNext };
}

describe('Coalescer', () => {
  it('sends the first call at once and gathers the calls made meanwhile', async () => {
    const r = recording();
    const c = new Coalescer(r.run, { maxBatch: 10, maxInFlight: 1 });
    const results = [1, 2, 3, 4].map((x) => c.call(x));
    expect(r.batches).toEqual([[1]]);
    expect(c.waiting).toBe(3);
    await r.openNext();
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    await r.openNext();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40]);
  });

  it('keeps at most maxInFlight batches going and maxBatch calls in one', async () => {
    const r = recording();
    const c = new Coalescer(r.run, { maxBatch: 2, maxInFlight: 2 });
    const results = [1, 2, 3, 4, 5, 6].map((x) => c.call(x));
    expect(r.batches).toEqual([[1], [2]]);
    await r.openNext();
    expect(r.batches).toEqual([[1], [2], [3, 4]]);
    await r.openNext();
    await r.openNext();
    await r.openNext();
    expect(r.batches).toEqual([[1], [2], [3, 4], [5, 6]]);
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('fails every caller of a failed batch, and only those', async () => {
    const r = recording();
    const c = new Coalescer(r.run, { maxBatch: 10, maxInFlight: 1 });
    const first = c.call(1);
    const doomed = [c.call(-1), c.call(2)].map((p) => p.then(String, (err: Error) => err.message));
    await r.openNext();
    expect(await first).toBe(10);
    const after = c.call(3); // made while the doomed batch is in flight: the next one
    await r.openNext();
    expect(await Promise.all(doomed)).toEqual(['bad batch', 'bad batch']);
    await r.openNext();
    expect(await after).toBe(30);
  });

  it('refuses a batch that answers the wrong number of results', async () => {
    const c = new Coalescer(async (xs: number[]) => xs.slice(1), { maxBatch: 10, maxInFlight: 1 });
    await expect(c.call(1)).rejects.toThrow('a batch of 1 answered 0 results');
  });
});
