import { createServer, type IncomingMessage } from 'node:http';
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
}

export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  messages: FakeSms[];
  /** Answer the next requests to this number with an error: Twilio's status and code. */
  failNext(to: string, status: number, code: number): void;
  requests: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A local HTTP fake of Twilio's Messages API, reached by the real twilio client. */
export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const messages: FakeSms[] = [];
  const failures = new Map<string, { status: number; code: number }[]>();
  const state = { requests: 0 };
  const server = createServer(async (req, res) => {
    state.requests++;
    const body = new URLSearchParams(await readBody(req));
    const match = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/.exec(req.url ?? '');
    const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    const send = (status: number, payload: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (!match || req.method !== 'POST')
      return send(404, { code: 20404, message: 'not found', status: 404 });
    if (req.headers.authorization !== expectedAuth)
      return send(401, { code: 20003, message: 'Authenticate', status: 401 });
    const to = body.get('To') ?? '';
    const failure = failures.get(to)?.shift();
    if (failure)
      return send(failure.status, {
        code: failure.code,
        message: `fake error ${failure.code}`,
        status: failure.status,
      });
    const sid = `SM${randomBytes(16).toString('hex')}`;
    messages.push({
      sid,
      to,
      from: body.get('From') ?? undefined,
      messagingServiceSid: body.get('MessagingServiceSid') ?? undefined,
      body: body.get('Body') ?? '',
      statusCallback: body.get('StatusCallback') ?? undefined,
      accountSid: match[1]!,
      authorized: true,
    });
    send(201, {
      sid,
      account_sid: match[1],
      to,
      from: body.get('From'),
      body: body.get('Body'),
      status: 'queued',
      num_segments: '1',
    });
  });
  server.keepAliveTimeout = 5000; // reuse connections, as Twilio's API does
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    get requests() {
      return state.requests;
    },
    failNext(to, status, code) {
      const list = failures.get(to) ?? [];
      list.push({ status, code });
      failures.set(to, list);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
