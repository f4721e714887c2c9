import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { isPrivateAddress, postJson, urlProblem } from './webhook-http.js';
import { newSecret, sign, verify } from './webhook-signature.js';
import { nextAttemptAfter, RETRY_DELAYS_MS } from './webhook-sender.js';

describe('webhook addresses', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.5', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
    ['not-an-ip', true],
  ])('%s is private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('accepts https to a public host and refuses the rest with a reason', () => {
    expect(urlProblem('https://hooks.example.com/selfcare?x=1', false)).toBeNull();
    expect(urlProblem('http://hooks.example.com/x', false)).toBe('must start with https://');
    expect(urlProblem('http://hooks.example.com/x', true)).toBeNull();
    expect(urlProblem('https://127.0.0.1/x', false)).toMatch(/private or local/);
    expect(urlProblem('https://[::1]/x', false)).toMatch(/private or local/);
    expect(urlProblem('https://[::ffff:127.0.0.1]/x', false)).toMatch(/private or local/);
    expect(urlProblem('https://10.0.0.8/x', false)).toMatch(/private or local/);
    expect(urlProblem('https://localhost/x', false)).toMatch(/this machine/);
    expect(urlProblem('https://api.localhost/x', false)).toMatch(/this machine/);
    expect(urlProblem('https://127.0.0.1/x', true)).toBeNull();
    expect(urlProblem('https://a:b@example.com/x', true)).toMatch(/user name or password/);
    expect(urlProblem('https://example.com/x#frag', true)).toMatch(/fragment/);
    expect(urlProblem(`https://example.com/${'a'.repeat(2048)}`, true)).toMatch(/at most 2048/);
    expect(urlProblem('example.com/x', true)).toMatch(/full URL/);
  });

  it('does not post to a name that resolves to a private address unless allowed', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const refused = await postJson(
        `http://localhost:${port}/x`,
        '{}',
        {},
        {
          timeoutMs: 2_000,
          allowPrivate: false,
        },
      );
      expect(refused.error).toMatch(/private or local address/);
      const literal = await postJson(
        `http://127.0.0.1:${port}/x`,
        '{}',
        {},
        {
          timeoutMs: 2_000,
          allowPrivate: false,
        },
      );
      expect(literal.error).toMatch(/private or local address/);
      expect(hits).toBe(0);
      const allowed = await postJson(
        `http://localhost:${port}/x`,
        '{}',
        {},
        {
          timeoutMs: 2_000,
          allowPrivate: true,
        },
      );
      expect(allowed).toEqual({ status: 200 });
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });

  it('does not follow a redirect', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 307;
      res.setHeader('Location', 'http://169.254.169.254/latest/meta-data');
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await postJson(
        `http://127.0.0.1:${port}/x`,
        '{}',
        {},
        {
          timeoutMs: 2_000,
          allowPrivate: true,
        },
      );
      expect(r).toEqual({ status: 307, error: 'HTTP 307' });
    } finally {
      server.close();
    }
  });
});

describe('webhook signatures', () => {
  // The Standard Webhooks specification's published example.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const ts = 1614265330;
  const body = '{"test": 2432232314}';

  it('matches the scheme’s example', () => {
    expect(sign(secret, id, ts, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies within the tolerance and refuses a changed body, id, secret or an old timestamp', () => {
    const signature = sign(secret, id, ts, body);
    const h = { id, timestamp: String(ts), signature: `v1,bogus ${signature}` };
    expect(verify(secret, h, body, ts + 10)).toBe(true);
    expect(verify(secret, h, body + ' ', ts)).toBe(false);
    expect(verify(secret, { ...h, id: 'msg_other' }, body, ts)).toBe(false);
    expect(verify(newSecret(), h, body, ts)).toBe(false);
    expect(verify(secret, h, body, ts + 301)).toBe(false);
    expect(verify(secret, { ...h, timestamp: 'soon' }, body, ts)).toBe(false);
  });

  it('makes a new 32-byte secret each time', () => {
    const a = newSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(newSecret()).not.toBe(a);
  });
});

describe('webhook backoff', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const after = (attempt: number, retryAfterS?: number, r = 0) =>
    nextAttemptAfter(attempt, now, retryAfterS, () => r).getTime() - now.getTime();

  it('waits longer after each failure, about a day in all', () => {
    const waits = RETRY_DELAYS_MS.map((_, i) => after(i + 1));
    expect(waits).toEqual(RETRY_DELAYS_MS);
    expect(waits.every((w, i) => i === 0 || w > waits[i - 1]!)).toBe(true);
    const total = waits.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(20 * 3_600_000);
    expect(total).toBeLessThan(26 * 3_600_000);
    expect(after(99)).toBe(RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1]);
  });

  it('spreads a wait by at most 10% and honours Retry-After up to an hour', () => {
    expect(after(1, undefined, 0.999)).toBeLessThanOrEqual(33_000);
    expect(after(1, undefined, 0.999)).toBeGreaterThan(32_900);
    expect(after(1, 600)).toBe(600_000);
    expect(after(1, 86_400)).toBe(3_600_000);
    expect(after(8, 60)).toBe(RETRY_DELAYS_MS[7]);
  });
});
