import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface FakeSms {
  sid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
  statusCallback?: string;
  accountSid: string;
  authorized: boolean;
  /** When the fake accepted it: Twilio's date_created and date_sent. */
  createdAt: Date;
  /** What the message log reports; set it to 'delivered' to mimic a delivery receipt. */
  status: 'sent' | 'delivered';
}

/** A Twilio error answer: HTTP status, Twilio error code, and an optional Retry-After. */
export interface TwilioFault {
  status: number;
  code: number;
  retryAfterSeconds?: number;
}

/**
 * A send held without an answer until the connection is cut after `ms` (a client timeout).
 * `accept: true` records the message first (it was sent, the answer was lost).
 */
export interface TwilioHang {
  accept: boolean;
  ms: number;
}

export interface FakeTwilioOptions {
  /** A fixed port, so a restarted fake answers where the app already points (default: any). */
  port?: number;
  accountSid?: string;
  authToken?: string;
}

export interface FakeTwilio {
  url: string;
  accountSid: string;
  /** The auth token the fake currently expects (see setAuthToken). */
  readonly authToken: string;
  messages: FakeSms[];
  /** Answer the next requests to this number with an error: Twilio's status and code. */
  failNext(to: string, status: number, code: number, opts?: { retryAfterSeconds?: number }): void;
  /** Answer every send to this number with an error (a bad or opted-out number). */
  failAlways(to: string, status: number, code: number): void;
  clearFailAlways(to: string): void;
  /** Answer every send with this error (an outage, a revoked key) until failAll(null). */
  failAll(fault: TwilioFault | null): void;
  /** Hold the next send to this number without an answer. */
  hangNext(to: string, hang: TwilioHang): void;
  /** Hold every send without an answer until hangAll(null). */
  hangAll(hang: TwilioHang | null): void;
  /** Answer the next n message-log reads with 500. */
  failListNext(n: number): void;
  /** Answer every message-log read with 500 while on. */
  failList(on: boolean): void;
  /** Accept at most n sends per rolling second, answer the rest 429/20429 (null: no limit). */
  limitMps(n: number | null): void;
  /** Expect another auth token from now on (a credential rotation). */
  setAuthToken(token: string): void;
  /** Every HTTP request, any route. */
  readonly requests: number;
  /** Message-log reads (GET Messages.json), answered or failed. */
  readonly listRequests: number;
  /** Sends recorded: messages.length. */
  readonly accepted: number;
  /** Error answers to sends, by Twilio error code. */
  readonly rejected: Map<number, number>;
  /** Sends refused by limitMps. */
  readonly rejected429: number;
  /** Sends held by hangNext or hangAll. */
  readonly hung: number;
  close(): Promise<void>;
}

// What Twilio says for the codes the tests script; anything else gets a generic text.
const ERROR_TEXTS: Record<number, string> = {
  20001: 'Invalid parameter',
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'Internal Server Error',
  21211: "The 'To' number is not a valid phone number.",
  21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number.",
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
};

const API = '/2010-04-01/Accounts';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Twilio's date format: RFC 2822 in UTC, e.g. "Mon, 30 Nov 2026 05:52:50 +0000". */
const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

/** The UTC day of a DateSent filter: "2026-11-30", or the timestamp the twilio client sends. */
function utcDay(value: string): string | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 10);
}

const segments = (body: string) => (body.length <= 160 ? 1 : Math.ceil(body.length / 153));

/** A local HTTP fake of Twilio's Messages API, reached by the real twilio client. */
export async function startFakeTwilio(opts: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
  const messages: FakeSms[] = [];
  const failures = new Map<string, TwilioFault[]>();
  const permanent = new Map<string, TwilioFault>();
  const hangs = new Map<string, TwilioHang[]>();
  const rejected = new Map<number, number>();
  const held = new Set<NodeJS.Timeout>();
  const state = {
    authToken: opts.authToken ?? randomBytes(16).toString('hex'),
    requests: 0,
    listRequests: 0,
    rejected429: 0,
    hung: 0,
    failAll: null as TwilioFault | null,
    hangAll: null as TwilioHang | null,
    failListNext: 0,
    failList: false,
    mps: null as number | null,
    recent: [] as number[], // when the sends of the last second were accepted (with limitMps)
  };

  const send = (
    res: ServerResponse,
    status: number,
    payload: object,
    headers: OutgoingHttpHeaders = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(payload));
  };
  const error = (res: ServerResponse, fault: TwilioFault) => {
    // Twilio sends Retry-After with 429s; scripted faults may add it to any status.
    const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined);
    send(
      res,
      fault.status,
      {
        code: fault.code,
        message: ERROR_TEXTS[fault.code] ?? `fake error ${fault.code}`,
        more_info: `https://www.twilio.com/docs/errors/${fault.code}`,
        status: fault.status,
      },
      retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
    );
  };
  /** The message as Twilio's API renders it. */
  const resource = (m: FakeSms, status: string = m.status) => ({
    sid: m.sid,
    account_sid: m.accountSid,
    to: m.to,
    from: m.from ?? null,
    messaging_service_sid: m.messagingServiceSid ?? null,
    body: m.body,
    status,
    num_segments: String(segments(m.body)),
    num_media: '0',
    direction: 'outbound-api',
    api_version: '2010-04-01',
    price: null,
    price_unit: 'USD',
    error_code: null,
    error_message: null,
    date_created: rfc2822(m.createdAt),
    date_updated: rfc2822(m.createdAt),
    date_sent: status === 'queued' ? null : rfc2822(m.createdAt),
    uri: `${API}/${m.accountSid}/Messages/${m.sid}.json`,
  });
  /** Keep the socket open without an answer, then cut it. */
  const hold = (req: IncomingMessage, ms: number) => {
    state.hung++;
    const timer = setTimeout(() => req.socket.destroy(), ms);
    held.add(timer);
    req.socket.once('close', () => {
      clearTimeout(timer);
      held.delete(timer);
    });
  };

  const createMessage = (req: IncomingMessage, res: ServerResponse, body: URLSearchParams) => {
    const reject = (fault: TwilioFault) => {
      rejected.set(fault.code, (rejected.get(fault.code) ?? 0) + 1);
      error(res, fault);
    };
    const to = body.get('To') ?? '';
    const fault = state.failAll ?? failures.get(to)?.shift() ?? permanent.get(to);
    if (fault) return reject(fault);
    if (state.mps !== null) {
      const now = Date.now();
      state.recent = state.recent.filter((t) => now - t < 1000);
      if (state.recent.length >= state.mps) {
        state.rejected429++;
        return reject({ status: 429, code: 20429, retryAfterSeconds: 1 });
      }
      state.recent.push(now);
    }
    const hang = hangs.get(to)?.shift() ?? state.hangAll;
    const message: FakeSms = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to,
      from: body.get('From') ?? undefined,
      messagingServiceSid: body.get('MessagingServiceSid') ?? undefined,
      body: body.get('Body') ?? '',
      statusCallback: body.get('StatusCallback') ?? undefined,
      accountSid,
      authorized: true,
      createdAt: new Date(),
      status: 'sent',
    };
    if (!hang || hang.accept) messages.push(message);
    if (hang) return hold(req, hang.ms);
    send(res, 201, resource(message, 'queued'));
  };

  /** GET Messages.json: the message log, newest first, filtered and paged as Twilio does. */
  const listMessages = (res: ServerResponse, path: string, query: URLSearchParams) => {
    state.listRequests++;
    if (state.failList || state.failListNext > 0) {
      state.failListNext = Math.max(0, state.failListNext - 1);
      return error(res, { status: 500, code: 20500 });
    }
    const days: Record<string, (day: string, want: string) => boolean> = {
      DateSent: (day, want) => day === want,
      'DateSent>': (day, want) => day >= want, // on or after, as Twilio's DateSent>=
      'DateSent<': (day, want) => day <= want, // on or before, as Twilio's DateSent<=
    };
    let found = [...messages].reverse();
    for (const [param, keep] of Object.entries(days)) {
      const value = query.get(param);
      if (value === null) continue;
      const want = utcDay(value);
      if (!want) return error(res, { status: 400, code: 20001 });
      found = found.filter((m) => keep(m.createdAt.toISOString().slice(0, 10), want));
    }
    const to = query.get('To');
    const from = query.get('From');
    if (to !== null) found = found.filter((m) => m.to === to);
    if (from !== null) found = found.filter((m) => m.from === from);

    const size = Math.min(Math.max(Number(query.get('PageSize')) || 50, 1), 1000);
    const page = Math.max(Number(query.get('Page')) || 0, 0);
    // PageToken PA<sid> starts after that message, PB<sid> ends before it; else Page counts.
    const token = query.get('PageToken') ?? '';
    const anchor = found.findIndex((m) => m.sid === token.slice(2));
    let start = page * size;
    if (anchor >= 0 && token.startsWith('PA')) start = anchor + 1;
    if (anchor >= 0 && token.startsWith('PB')) start = Math.max(anchor - size, 0);
    const items = found.slice(start, start + size);

    const link = (n: number, pageToken?: string) => {
      const q = new URLSearchParams();
      for (const k of ['To', 'From', ...Object.keys(days)]) {
        const v = query.get(k);
        if (v !== null) q.set(k, v);
      }
      q.set('PageSize', String(size));
      q.set('Page', String(n));
      if (pageToken) q.set('PageToken', pageToken);
      return `${path}?${q}`;
    };
    const last = items.at(-1);
    send(res, 200, {
      messages: items.map((m) => resource(m)),
      first_page_uri: link(0),
      next_page_uri: last && start + size < found.length ? link(page + 1, `PA${last.sid}`) : null,
      previous_page_uri:
        page > 0 ? link(page - 1, items[0] ? `PB${items[0].sid}` : undefined) : null,
      page,
      page_size: size,
      start,
      end: start + Math.max(items.length - 1, 0),
      uri: link(page, token || undefined),
    });
  };

  const server = createServer(async (req, res) => {
    state.requests++;
    const body = new URLSearchParams(await readBody(req));
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://fake');
    const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${state.authToken}`).toString('base64')}`;
    const account = `${API}/${accountSid}`;
    const isSend = req.method === 'POST' && pathname === `${account}/Messages.json`;
    const notFound = { status: 404, code: 20404 };
    if (pathname !== `${account}.json` && !pathname.startsWith(`${account}/`))
      return error(res, notFound);
    if (req.headers.authorization !== expectedAuth) {
      if (isSend) rejected.set(20003, (rejected.get(20003) ?? 0) + 1);
      return error(res, { status: 401, code: 20003 });
    }
    if (isSend) return createMessage(req, res, body);
    if (req.method !== 'GET') return error(res, notFound);
    if (pathname === `${account}.json`)
      return send(res, 200, {
        sid: accountSid,
        owner_account_sid: accountSid,
        friendly_name: 'selfcare-drip fake',
        status: 'active',
        type: 'Full',
        date_created: rfc2822(new Date(0)),
        date_updated: rfc2822(new Date(0)),
        uri: `${account}.json`,
      });
    if (pathname === `${account}/Messages.json`) return listMessages(res, pathname, searchParams);
    const one = /^\/Messages\/(SM[0-9a-f]{32})\.json$/.exec(pathname.slice(account.length));
    const found = one && messages.find((m) => m.sid === one[1]);
    if (found) return send(res, 200, resource(found));
    error(res, notFound);
  });
  server.keepAliveTimeout = 5000; // reuse connections, as Twilio's API does
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    messages,
    get authToken() {
      return state.authToken;
    },
    get requests() {
      return state.requests;
    },
    get listRequests() {
      return state.listRequests;
    },
    get accepted() {
      return messages.length;
    },
    rejected,
    get rejected429() {
      return state.rejected429;
    },
    get hung() {
      return state.hung;
    },
    failNext(to, status, code, failOpts = {}) {
      const list = failures.get(to) ?? [];
      list.push({ status, code, retryAfterSeconds: failOpts.retryAfterSeconds });
      failures.set(to, list);
    },
    failAlways(to, status, code) {
      permanent.set(to, { status, code });
    },
    clearFailAlways(to) {
      permanent.delete(to);
    },
    failAll(fault) {
      state.failAll = fault;
    },
    hangNext(to, hang) {
      const list = hangs.get(to) ?? [];
      list.push(hang);
      hangs.set(to, list);
    },
    hangAll(hang) {
      state.hangAll = hang;
    },
    failListNext(n) {
      state.failListNext = n;
    },
    failList(on) {
      state.failList = on;
    },
    limitMps(n) {
      state.mps = n;
      state.recent = [];
    },
    setAuthToken(token) {
      state.authToken = token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of held) clearTimeout(timer);
        held.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The app settings that point the real twilio client at this fake. */
export function twilioEnv(fake: FakeTwilio, from = '+15005550006'): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: from,
    TWILIO_API_URL: fake.url,
  };
}
