import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a clinic's webhook may not reach unless WEBHOOKS_ALLOW_PRIVATE is on: loopback,
 * private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and
 * reserved ranges. Otherwise anyone with a clinic admin's sign-in could make this service
 * post to the machines beside it.
 */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127], // :: and ::1
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
    // The same, in hex: URL parsing turns [::ffff:127.0.0.1] into [::ffff:7f00:1].
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
    if (hex) {
      const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
      return PRIVATE.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
    }
    return PRIVATE.check(address, 'ipv6');
  }
  return true; // not an address at all: refuse
}

export const URL_MAX = 2_048;

/**
 * Why a URL cannot be a webhook endpoint, or null when it can. https only, unless private
 * networks are allowed (development and tests), where http is accepted too. Whether the
 * name resolves to a private address is checked again at every send (DNS can change).
 */
export function urlProblem(value: string, allowPrivate: boolean): string | null {
  if (value.length > URL_MAX) return `must be at most ${URL_MAX} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a full URL such as https://example.com/hooks/selfcare';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    return allowPrivate ? 'must start with https:// or http://' : 'must start with https://';
  if (url.username || url.password)
    return 'must not carry a user name or password; the signature proves who is calling';
  if (url.hash) return 'must not have a #fragment';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost')))
    return 'must not point at this machine';
  if (!allowPrivate && isIP(host) && isPrivateAddress(host))
    return 'must not point at a private or local network address';
  return null;
}

/** A DNS lookup that refuses names resolving to private addresses (checked at connect). */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const list = addresses;
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad)
      return callback(
        Object.assign(new Error('refused: the name resolves to a private or local address'), {
          code: 'EPRIVATE',
        }),
        '',
        0,
      );
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

export interface PostResult {
  /** The HTTP status; absent when no answer came. */
  status?: number;
  /** Seconds the receiver asked us to wait (Retry-After), if any. */
  retryAfterS?: number;
  /** Why it failed, short and free of personal data; absent on a 2xx. */
  error?: string;
}

/**
 * POSTs a JSON body and reads (and drops) at most 4 KB of the answer. Redirects are not
 * followed: the receiver answers where it was registered, or the attempt fails.
 */
export function postJson(
  target: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<PostResult> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return resolve({ error: 'invalid URL' });
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivate && isIP(host) && isPrivateAddress(host))
      return resolve({ error: 'refused: a private or local address' });
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
        ...(opts.allowPrivate ? {} : { lookup: guardedLookup }),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 4_096) res.destroy();
        });
        const finish = () => {
          const ok = status >= 200 && status < 300;
          const retryAfter = Number(res.headers['retry-after']);
          done({
            status,
            ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterS: retryAfter } : {}),
            ...(ok ? {} : { error: `HTTP ${status}` }),
          });
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ error: `no answer within ${Math.round(opts.timeoutMs / 1000)} s` });
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: describe(err) }));
    req.end(body);
  });
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EPRIVATE':
      return err.message;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ECONNRESET':
      return 'connection reset';
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS certificate refused (${err.code})`;
    default:
      return err.code ? `network error (${err.code})` : 'network error';
  }
}
