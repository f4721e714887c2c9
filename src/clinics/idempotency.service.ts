import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock, conflict, invalid, Unprocessable } from '../common/index.js';
import { DB, type Db } from '../database/index.js';

/** How long a key's first answer is kept and replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

export interface Answer<T> {
  status: number;
  body: T;
  /** True when this is the first request's answer, given again. */
  replayed: boolean;
}

/** A stable text of a JSON value: keys sorted, so that key order does not change the hash. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

/**
 * `Idempotency-Key` on a clinic's POST: the same key with the same request replays the first
 * answer; with a different request it is a 422; while the first is still running, a 409.
 * Only a successful answer is kept: a refused request (4xx) or a failure frees the key, so
 * the corrected request can use it. Keys are kept 24 hours.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    @Inject(DB) private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async run<T>(
    clinicId: string,
    key: string | undefined,
    route: string,
    request: unknown,
    work: () => Promise<{ status: number; body: T }>,
  ): Promise<Answer<T>> {
    if (key === undefined) return { ...(await work()), replayed: false };
    if (!/^[\x21-\x7e]{1,255}$/.test(key))
      throw invalid('Idempotency-Key', 'must be 1-255 printable ASCII characters, such as a UUID');
    const hash = createHash('sha256')
      .update(`${route}\n${canonical(request)}`)
      .digest('hex');
    const now = this.clock.now();
    // An answer older than a day is forgotten: the key is new again.
    await this.db
      .deleteFrom('idempotency_keys')
      .where('clinic_id', '=', clinicId)
      .where('key', '=', key)
      .where('created_at', '<', new Date(now.getTime() - IDEMPOTENCY_TTL_MS))
      .execute();
    const claimed = await this.db
      .insertInto('idempotency_keys')
      .values({ clinic_id: clinicId, key, route, request_hash: hash, created_at: now })
      .onConflict((oc) => oc.columns(['clinic_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!claimed) {
      const first = await this.db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('clinic_id', '=', clinicId)
        .where('key', '=', key)
        .executeTakeFirst();
      // Freed between our insert and this read: the first request failed. Try again.
      if (!first) return this.run(clinicId, key, route, request, work);
      if (first.request_hash !== hash)
        throw new Unprocessable(
          'Idempotency-Key: this key was used with a different request; use a new key for a new request',
        );
      if (first.response_status === null)
        throw conflict(
          'Idempotency-Key: a request with this key is still being processed; retry in a moment',
        );
      return { status: first.response_status, body: first.response_body as T, replayed: true };
    }
    let answer: { status: number; body: T };
    try {
      answer = await work();
    } catch (err) {
      await this.release(clinicId, key);
      throw err;
    }
    await this.db
      .updateTable('idempotency_keys')
      .set({ response_status: answer.status, response_body: JSON.stringify(answer.body) })
      .where('clinic_id', '=', clinicId)
      .where('key', '=', key)
      .execute();
    return { ...answer, replayed: false };
  }

  private async release(clinicId: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('clinic_id', '=', clinicId)
      .where('key', '=', key)
      .execute();
  }
}
