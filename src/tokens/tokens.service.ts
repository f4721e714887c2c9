import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../config/index.js';
import { Clock } from '../common/index.js';

export type TokenPurpose = 'unsubscribe' | 'preferences' | 'confirm' | 'outcome' | 'warning-sign';

/**
 * Purpose-bound, expiring link tokens. The payload is sealed with AES-256-GCM under a key
 * derived from APP_SECRET by HMAC, so a token is opaque (no ids or addresses readable in
 * URLs) and cannot be forged or altered.
 */
@Injectable()
export class TokensService {
  private readonly key: Buffer;

  constructor(
    @Inject(CONFIG) config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.key = createHmac('sha256', config.appSecret)
      .update('selfcare-drip/link-tokens/v1')
      .digest();
  }

  issue(purpose: TokenPurpose, subject: string, ttlSeconds: number): string {
    const exp = Math.floor(this.clock.now().getTime() / 1000) + ttlSeconds;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([
      cipher.update(JSON.stringify({ s: subject, e: exp }), 'utf8'),
      cipher.final(),
    ]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /**
   * The same seal around raw bytes and a 4-byte expiry, without JSON: a link short enough for
   * an SMS (18 bytes of payload make 67 characters). Bound to its purpose and to this format.
   */
  issueCompact(purpose: TokenPurpose, payload: Buffer, ttlSeconds: number): string {
    const exp = Buffer.alloc(4);
    exp.writeUInt32BE(Math.floor(this.clock.now().getTime() / 1000) + ttlSeconds);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${purpose}/compact`));
    const body = Buffer.concat([cipher.update(Buffer.concat([exp, payload])), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The payload, or null when the token is forged, altered, for another purpose or expired. */
  verifyCompact(purpose: TokenPurpose, token: string): Buffer | null {
    if (!/^[A-Za-z0-9_-]{43,600}$/.test(token)) return null;
    const raw = Buffer.from(token, 'base64url');
    if (raw.toString('base64url') !== token || raw.length < 32) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${purpose}/compact`));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
      const exp = plain.readUInt32BE(0);
      return exp * 1000 >= this.clock.now().getTime() ? plain.subarray(4) : null;
    } catch {
      return null;
    }
  }

  /** The subject, or null when the token is forged, altered, for another purpose or expired. */
  verify(purpose: TokenPurpose, token: string): string | null {
    if (!/^[A-Za-z0-9_-]{40,600}$/.test(token)) return null;
    const raw = Buffer.from(token, 'base64url');
    // Node's decoder ignores a stray last character and unused low bits, so several strings
    // decode to the same bytes; accept only the one canonical spelling.
    if (raw.toString('base64url') !== token) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(raw.subarray(12, 28));
      const json = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString(
        'utf8',
      );
      const { s, e } = JSON.parse(json) as { s: string; e: number };
      return e * 1000 >= this.clock.now().getTime() ? s : null;
    } catch {
      return null;
    }
  }
}
