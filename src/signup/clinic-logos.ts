import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/index.js';

const TIMEOUT_MS = 1_500;
const MAX_BYTES = 200_000;
/** How long a logo is reused, and how long one that could not be loaded is left out. */
const KEEP_MS = 10 * 60_000;
const RETRY_MS = 60_000;
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml'];

/**
 * Clinics' logos for their signup pages. The server fetches a logo and the page carries it as
 * a data: URI, so a person's browser never asks the clinic's host for it: the pages load
 * nothing from another host. A logo that cannot be loaded (slow, too big, not an image) is
 * left out of the page and tried again a minute later.
 */
@Injectable()
export class ClinicLogos {
  private readonly logger = new Logger(ClinicLogos.name);
  private readonly cache = new Map<string, { at: number; uri: string | null }>();

  constructor(private readonly clock: Clock) {}

  /** The logo at `url` as a data: URI, or null. */
  async inline(url: string | null): Promise<string | null> {
    if (!url) return null;
    const now = this.clock.now().getTime();
    const hit = this.cache.get(url);
    if (hit && now - hit.at < (hit.uri ? KEEP_MS : RETRY_MS)) return hit.uri;
    const uri = await this.load(url);
    this.cache.set(url, { at: now, uri });
    return uri;
  }

  private async load(url: string): Promise<string | null> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!res.ok || !IMAGE_TYPES.includes(type) || !res.body) {
        await res.body?.cancel();
        throw new Error(`answered ${res.status} ${type || 'without a type'}`);
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += chunk.byteLength;
        if (size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
        chunks.push(chunk);
      }
      return `data:${type};base64,${Buffer.concat(chunks).toString('base64')}`;
    } catch (err) {
      this.logger.warn({ url, error: (err as Error).message }, 'clinic logo left out');
      return null;
    }
  }
}
