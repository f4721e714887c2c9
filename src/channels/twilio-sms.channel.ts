import twilio from 'twilio';
import {
  SendError,
  SmsChannel,
  type FaultKind,
  type LookupResult,
  type SendResult,
  type SmsMessage,
} from './channel.types.js';

type Base = InstanceType<typeof twilio.RequestClient>;
type RequestOptions<T> = Parameters<Base['request']>[0] & { data?: T };
type Response<T> = Awaited<ReturnType<Base['request']>> & { body: T };

/**
 * The twilio client's HTTP layer, with two additions: an optional base URL (TWILIO_API_URL,
 * for a local fake or a proxy), and Retry-After kept on a 429. The client builds its errors
 * from the body alone, so the header's value is copied into the body's `details`.
 */
export class TwilioRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: URL | undefined,
    timeoutMs: number,
  ) {
    super({ keepAlive: true, timeout: timeoutMs });
  }

  override async request<T>(opts: RequestOptions<T>): Promise<Response<T>> {
    let uri = opts.uri;
    if (this.base) {
      const original = new URL(opts.uri);
      uri = new URL(original.pathname + original.search, this.base).toString();
    }
    const res = (await super.request<T>({ ...opts, uri })) as Response<T>;
    const retryAfter = Number(header(res.headers, 'retry-after'));
    if (res.statusCode === 429 && retryAfter > 0) {
      try {
        const raw = res.body as unknown;
        const body = typeof raw === 'string' ? JSON.parse(raw) : { ...(raw as object) };
        body.details = { ...body.details, retry_after_ms: retryAfter * 1000 };
        return { ...res, body: JSON.stringify(body) as T };
      } catch {
        return res;
      }
    }
    return res;
  }
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

/** This address can never get a text: suppress it. */
const RECIPIENT_CODES = new Set([21211, 21214, 21217, 21610, 21612, 21614]);
/** Our account or sender is wrong: no message can go until the operator fixes it. */
const CONFIG_CODES = new Set([
  20003, 20005, 20008, 20404, 21212, 21603, 21606, 21659, 21660, 21701, 21703, 21704, 21705, 30032,
]);
/**
 * Of those, the ones about the From number or messaging service. When a message carries a
 * sender of its own (a clinic's number), they are that sender's fault, not the channel's.
 */
const SENDER_CODES = new Set([21212, 21606, 21659, 21660, 21701, 21703, 21704, 21705, 30032]);
/** Network failures before the request left: nothing can have been sent. */
const NOT_SENT_NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

export interface TwilioFailure {
  status?: number;
  code?: number | string;
  message?: string;
  details?: { retry_after_ms?: number };
}

/**
 * Sorts a Twilio REST failure by who is at fault (see FaultKind). `sender`: whether the
 * message went from the channel's own TWILIO_FROM or from a sender of its own (a clinic's).
 * A clinic's refused number fails that message only: it must not pause every clinic's texts.
 */
export function classifyTwilioError(
  e: TwilioFailure,
  sender: 'channel' | 'own' = 'channel',
): {
  kind: FaultKind;
  label: string;
  retryAfterMs?: number;
} {
  const code = typeof e.code === 'number' ? e.code : undefined;
  const label = `Twilio ${e.status ?? e.code ?? 'network'}${code ? ` error ${code}` : ''}`;
  if (e.status === 429 || code === 20429 || code === 14107)
    return { kind: 'rate-limit', label, retryAfterMs: e.details?.retry_after_ms };
  if (code && RECIPIENT_CODES.has(code)) return { kind: 'recipient', label };
  if (code && sender === 'own' && SENDER_CODES.has(code))
    return { kind: 'message', label: `${label}: the message's own sender was refused` };
  if ((code && CONFIG_CODES.has(code)) || e.status === 401 || e.status === 403)
    return { kind: 'config', label };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return { kind: 'message', label }; // this request is wrong; the same one will not pass
  if (typeof e.status === 'number') return { kind: 'unknown', label }; // 5xx: it may have gone
  if (typeof e.code === 'string' && NOT_SENT_NETWORK.has(e.code)) return { kind: 'outage', label };
  return { kind: 'unknown', label }; // timeout or reset: the request may have arrived
}

/** The body as we compare it with Twilio's log: whitespace evened, sealed link tokens cut. */
export function smsFingerprint(body: string): string {
  return body
    .replace(/\/[A-Za-z0-9_-]{40,}/g, '/~')
    .replace(/\s+/g, ' ')
    .trim();
}

export class TwilioSmsChannel extends SmsChannel {
  readonly name = 'twilio';
  private readonly client: twilio.Twilio;

  constructor(
    private readonly opts: {
      accountSid: string;
      authToken: string;
      from: string;
      apiUrl?: string;
      statusCallback?: string;
      timeoutMs?: number;
    },
  ) {
    super();
    this.client = twilio(opts.accountSid, opts.authToken, {
      httpClient: new TwilioRequestClient(
        opts.apiUrl ? new URL(opts.apiUrl) : undefined,
        opts.timeoutMs ?? 20_000,
      ),
    });
  }

  async send(m: SmsMessage): Promise<SendResult> {
    const from = m.from ?? this.opts.from;
    const sender = isService(from) ? { messagingServiceSid: from } : { from };
    try {
      const message = await this.client.messages.create({
        to: m.to,
        body: m.body,
        ...sender,
        ...(this.opts.statusCallback ? { statusCallback: this.opts.statusCallback } : {}),
      });
      return { providerId: message.sid };
    } catch (err) {
      throw toSendError(err, from === this.opts.from ? 'channel' : 'own');
    }
  }

  /** Fetches the account: proves the credentials work (the probe of a paused channel). */
  override async verify(): Promise<void> {
    try {
      await this.client.api.v2010.accounts(this.opts.accountSid).fetch();
    } catch (err) {
      throw toSendError(err);
    }
  }

  /**
   * Asks Twilio's message log whether this text went out: the newest messages to the number
   * from the sender it went from, matched on the body and created after the attempt began.
   *
   * No DateSent filter, on purpose: a message Twilio accepted but still holds in its queue
   * has no date_sent yet, and a DateSent filter would hide exactly the message we are asking
   * about (and we would send it again). One person gets at most a few texts a day from us,
   * so the newest 100 to their number reach back far enough.
   */
  override async lookup(m: SmsMessage, since: Date): Promise<LookupResult> {
    const wanted = smsFingerprint(m.body);
    const earliest = since.getTime() - 60_000; // clocks differ a little
    const from = m.from ?? this.opts.from;
    const service = isService(from);
    try {
      const messages = await this.client.messages.list({
        to: m.to,
        ...(service ? {} : { from }),
        pageSize: 100,
        limit: 100,
      });
      const match = messages.find(
        (msg) =>
          smsFingerprint(msg.body ?? '') === wanted &&
          (!service || msg.messagingServiceSid === from) &&
          (msg.dateCreated ? msg.dateCreated.getTime() >= earliest : true),
      );
      return match
        ? { found: true, providerId: match.sid, sentAt: match.dateCreated ?? undefined }
        : { found: false };
    } catch (err) {
      throw toSendError(err);
    }
  }
}

/** A messaging service sid, not a number. */
const isService = (from: string) => from.startsWith('MG');

function toSendError(err: unknown, sender: 'channel' | 'own' = 'channel'): SendError {
  const e = err as TwilioFailure;
  const { kind, label, retryAfterMs } = classifyTwilioError(e, sender);
  return new SendError(label, kind, e.code ?? e.status, retryAfterMs);
}
