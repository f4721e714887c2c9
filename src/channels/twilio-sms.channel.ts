import twilio from 'twilio';
import { SendError, SmsChannel, type SendResult, type SmsMessage } from './channel.types.js';

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];

/** Points the real twilio client at another base URL (a local fake, a proxy): TWILIO_API_URL. */
export class RebasedRequestClient extends twilio.RequestClient {
  constructor(private readonly base: URL) {
    super({ keepAlive: true });
  }

  override request<T>(opts: RequestOptions) {
    const original = new URL(opts.uri);
    const uri = new URL(original.pathname + original.search, this.base).toString();
    return super.request<T>({ ...opts, uri } as RequestOptions & { data?: T });
  }
}

// Twilio error codes that no retry can fix: bad or unreachable number, opted out, blocked.
const PERMANENT_CODES = new Set([
  21211, 21214, 21217, 21408, 21606, 21610, 21612, 21614, 30003, 30004, 30005, 30006, 30007,
]);

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
    },
  ) {
    super();
    this.client = twilio(opts.accountSid, opts.authToken, {
      httpClient: opts.apiUrl
        ? new RebasedRequestClient(new URL(opts.apiUrl))
        : new twilio.RequestClient({ keepAlive: true }),
    });
  }

  async send(m: SmsMessage): Promise<SendResult> {
    const sender = this.opts.from.startsWith('MG')
      ? { messagingServiceSid: this.opts.from }
      : { from: this.opts.from };
    try {
      const message = await this.client.messages.create({
        to: m.to,
        body: m.body,
        ...sender,
        ...(this.opts.statusCallback ? { statusCallback: this.opts.statusCallback } : {}),
      });
      return { providerId: message.sid };
    } catch (err) {
      const e = err as {
        status?: number;
        code?: number;
        message?: string;
        headers?: Record<string, string>;
      };
      if (e.status === 429) throw new SendError('Twilio rate limit', false, e.code ?? 429, 1000);
      if (typeof e.code === 'number' && PERMANENT_CODES.has(e.code))
        throw new SendError(`Twilio error ${e.code}`, true, e.code);
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
        // Other 4xx: our request or account is wrong; retrying the same request will not help.
        throw new SendError(
          `Twilio ${e.status}${e.code ? ` error ${e.code}` : ''}`,
          true,
          e.code ?? e.status,
        );
      }
      throw new SendError(`Twilio ${e.status ?? 'network'} error`, false, e.code ?? e.status);
    }
  }
}
