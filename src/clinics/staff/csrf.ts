import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens for the dashboard's forms (the synchroniser pattern, without server state): a
 * token is an HMAC of the session it belongs to, so a form posted from another site, which
 * cannot read our pages, has no token that fits the victim's session. Before sign-in the
 * "session" is a random pre-session cookie.
 */
export class Csrf {
  constructor(private readonly secret: string) {}

  tokenFor(sessionKey: string): string {
    return createHmac('sha256', this.secret).update(`csrf:${sessionKey}`).digest('base64url');
  }

  check(sessionKey: string, token: unknown): boolean {
    if (typeof token !== 'string' || token.length === 0 || token.length > 128) return false;
    const expected = Buffer.from(this.tokenFor(sessionKey));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
