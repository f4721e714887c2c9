/**
 * Gathers calls into batches: a call made while a batch is in flight waits for it and goes in
 * the next one, with every other call made meanwhile. An idle caller waits for nobody (the
 * first call goes at once), and under load one round trip serves many callers.
 *
 * `run` gets the inputs in call order and answers one output per input, in the same order.
 * If it throws, every caller of that batch gets the error; each caller's promise settles
 * only when its batch has, so nothing is taken as done before it is.
 */
export class Coalescer<In, Out> {
  private pending: {
    input: In;
    resolve: (out: Out) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly limits: { maxBatch: number; maxInFlight: number },
  ) {
    if (limits.maxBatch < 1 || limits.maxInFlight < 1)
      throw new RangeError('Coalescer needs maxBatch and maxInFlight of at least 1');
  }

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.flush();
    });
  }

  /** Calls waiting for a batch to go (not those in flight). */
  get waiting(): number {
    return this.pending.length;
  }

  private flush(): void {
    while (this.inFlight < this.limits.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.limits.maxBatch);
      this.inFlight++;
      void this.settle(batch);
    }
  }

  private async settle(batch: typeof this.pending): Promise<void> {
    try {
      const outs = await this.run(batch.map((b) => b.input));
      if (outs.length !== batch.length)
        throw new Error(`a batch of ${batch.length} answered ${outs.length} results`);
      batch.forEach((b, i) => b.resolve(outs[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.inFlight--;
      this.flush();
    }
  }
}
