/**
 * Runs a database write until it succeeds, backing off from 100 ms to 2 s, for at most
 * `forMs` or until `signal` aborts (shutdown); then throws the last error. Used for the
 * writes that record what a provider did: losing one would turn a sent message into a resend.
 */
export async function durably<T>(
  write: () => Promise<T>,
  opts: { forMs: number; signal?: AbortSignal; onError?: (err: unknown, tries: number) => void },
): Promise<T> {
  const deadline = Date.now() + opts.forMs;
  let delay = 100;
  for (let tries = 1; ; tries++) {
    try {
      return await write();
    } catch (err) {
      opts.onError?.(err, tries);
      if (Date.now() + delay > deadline || opts.signal?.aborted) throw err;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
