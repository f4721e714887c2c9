import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { SMTPServer } from 'smtp-server';

/**
 * A counting SMTP sink and a counting fake of Twilio's Messages API, on a thread of their own
 * so that they do not share the app's event loop. Neither keeps or parses what it receives.
 *
 * Not test/support's fakes: smtp-sink parses every message (the sink would be the bottleneck),
 * and fake-twilio's keepAliveTimeout of 1 s makes Node's HTTP client drop every socket
 * (it ignores a server keep-alive hint of 1 s or less), so each SMS would open a connection.
 */
export interface SinkOptions {
  /** Keep each accepted message's arrival time (ms since the epoch) and recipient. */
  record?: boolean;
  /**
   * Accept at most this many SMS a second (a token bucket holding one second's worth) and
   * answer 429 beyond it, as a provider enforcing its rate would.
   */
  smsPerSecond?: number;
}
export interface Arrival {
  at: number;
  to: string;
}
export type SinkRequest = { type: 'stats' } | { type: 'close' } | { type: 'arrivals' };
export type SinkReply =
  | {
      type: 'ready';
      smtpUrl: string;
      twilio: { url: string; accountSid: string; authToken: string };
    }
  | {
      type: 'stats';
      emails: number;
      sms: number;
      smtpConnections: number;
      httpConnections: number;
      smsRefused: number;
    }
  | { type: 'arrivals'; email: Arrival[]; sms: Arrival[] }
  | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('sinks.worker must run in a worker thread');
const options = (workerData ?? {}) as SinkOptions;
const arrivals = { email: [] as Arrival[], sms: [] as Arrival[] };

let emails = 0;
let smtpConnections = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onConnect(_session, callback) {
    smtpConnections++;
    callback();
  },
  onData(stream, session, callback) {
    stream.resume();
    stream.on('end', () => {
      emails++;
      if (options.record)
        for (const r of session.envelope.rcptTo)
          arrivals.email.push({ at: Date.now(), to: r.address });
      callback();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));

let sms = 0;
let smsRefused = 0;
const limit = options.smsPerSecond;
let tokens = limit ?? 0;
let filledAt = Date.now();
/** Takes a token from the bucket if there is one (always, without a limit). */
const admit = (): boolean => {
  if (!limit) return true;
  const now = Date.now();
  tokens = Math.min(limit, tokens + ((now - filledAt) * limit) / 1000);
  filledAt = now;
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
};
const accountSid = `AC${randomBytes(16).toString('hex')}`;
const authToken = randomBytes(16).toString('hex');
const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
const twilio = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const json = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== messagesPath)
      return json(404, { code: 20404, message: 'not found', status: 404 });
    if (req.headers.authorization !== authorization)
      return json(401, { code: 20003, message: 'Authenticate', status: 401 });
    if (!admit()) {
      smsRefused++;
      return json(429, { code: 20429, message: 'Too Many Requests', status: 429 });
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    sms++;
    if (options.record) arrivals.sms.push({ at: Date.now(), to: form.get('To') ?? '' });
    json(201, {
      sid: `SM${sms.toString(16).padStart(32, '0')}`,
      account_sid: accountSid,
      to: form.get('To'),
      from: form.get('From'),
      status: 'queued',
    });
  });
});
let httpConnections = 0;
twilio.on('connection', () => httpConnections++);
twilio.keepAliveTimeout = 5000;
await new Promise<void>((resolve) => twilio.listen(0, '127.0.0.1', resolve));

const reply = (m: SinkReply) => port.postMessage(m);
port.on('message', (m: SinkRequest) => {
  if (m.type === 'stats')
    return reply({ type: 'stats', emails, sms, smtpConnections, httpConnections, smsRefused });
  if (m.type === 'arrivals') {
    reply({ type: 'arrivals', email: arrivals.email, sms: arrivals.sms });
    arrivals.email = [];
    arrivals.sms = [];
    return;
  }
  twilio.closeAllConnections();
  void Promise.all([
    new Promise<void>((r) => twilio.close(() => r())),
    new Promise<void>((r) => smtp.close(() => r())),
  ]).then(() => reply({ type: 'closed' }));
});
reply({
  type: 'ready',
  smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
  twilio: {
    url: `http://127.0.0.1:${(twilio.address() as AddressInfo).port}`,
    accountSid,
    authToken,
  },
});
