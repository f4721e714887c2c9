// The scriptable fakes, driven by the real twilio client and real nodemailer.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import nodemailer, { type Transporter } from 'nodemailer';
import twilio from 'twilio';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0];

/** The twilio client's HTTP layer moved onto the fake's base URL, as TWILIO_API_URL does. */
class RebasedClient extends twilio.RequestClient {
  constructor(
    private readonly base: string,
    timeout?: number,
  ) {
    super({ keepAlive: true, timeout });
  }

  override request<T>(opts: RequestOptions) {
    const original = new URL(opts.uri);
    const uri = new URL(original.pathname + original.search, this.base).toString();
    return super.request<T>({ ...opts, uri } as RequestOptions & { data?: T });
  }
}

const FROM = '+15005550006';
const DAY = 24 * 3600 * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a rejected promise was rejected with, to match on. */
async function failure(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected a failure');
}

describe('fake Twilio', () => {
  let fake: FakeTwilio;
  let http: RebasedClient;
  let client: twilio.Twilio;
  const text = (to: string, body = 'hello') => client.messages.create({ to, from: FROM, body });

  beforeEach(async () => {
    fake = await startFakeTwilio();
    http = new RebasedClient(fake.url);
    client = twilio(fake.accountSid, fake.authToken, { httpClient: http });
  });
  afterEach(() => fake.close());

  it('lists the message log newest first, filtered by To, From and DateSent, over pages', async () => {
    const to = '+12133734001';
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push((await text(to, `tip ${i}`)).sid);
    await text('+12133734002');

    const listed = await client.messages.list({
      to,
      from: FROM,
      dateSentAfter: new Date(Date.now() - 60_000),
      pageSize: 2,
    });
    expect(listed.map((m) => m.sid)).toEqual([...sent].reverse());
    expect(fake.listRequests).toBe(3); // pages of 2, 2 and 1
    expect(listed[0]).toMatchObject({ body: 'tip 4', status: 'sent', direction: 'outbound-api' });
    expect(listed[0]!.dateSent.getTime()).toBe(
      Math.floor(fake.messages[4]!.createdAt.getTime() / 1000) * 1000,
    );

    const first = await client.messages.page({ to, pageSize: 3 });
    expect(first.instances.map((m) => m.sid)).toEqual(sent.slice(2).reverse());
    const second = await first.nextPage();
    expect(second!.instances.map((m) => m.sid)).toEqual(sent.slice(0, 2).reverse());
    expect(second!.nextPageUrl).toBeUndefined();

    // Days compare in UTC, inclusively; the client sends full timestamps.
    expect(await client.messages.list({ dateSentAfter: new Date(Date.now() + DAY) })).toEqual([]);
    expect(await client.messages.list({ dateSentBefore: new Date(Date.now() - DAY) })).toEqual([]);
    fake.messages[0]!.createdAt = new Date('2026-01-01T23:59:00Z');
    const onDay = await client.messages.list({ dateSent: new Date('2026-01-01T00:00:00Z') });
    expect(onDay.map((m) => m.sid)).toEqual([sent[0]]);
  });

  it('fails the log on demand', async () => {
    fake.failListNext(1);
    expect(await failure(client.messages.list({}))).toMatchObject({ status: 500, code: 20500 });
    expect(await client.messages.list({})).toEqual([]);
    fake.failList(true);
    expect(await failure(client.messages.list({}))).toMatchObject({ status: 500 });
    fake.failList(false);
    expect(await client.messages.list({})).toEqual([]);
  });

  it('answers the account, and checks the rotated auth token', async () => {
    const account = await client.api.v2010.accounts(fake.accountSid).fetch();
    expect(account).toMatchObject({ sid: fake.accountSid, status: 'active' });

    fake.setAuthToken('rotated-token');
    expect(await failure(text('+12133734003'))).toMatchObject({ status: 401, code: 20003 });
    expect(await failure(client.api.v2010.accounts(fake.accountSid).fetch())).toMatchObject({
      status: 401,
      code: 20003,
    });
    const rotated = twilio(fake.accountSid, 'rotated-token', { httpClient: http });
    await rotated.messages.create({ to: '+12133734003', from: FROM, body: 'hi' });
    expect(fake.accepted).toBe(1);
  });

  it('fails every send with failAll until cleared, counting by code', async () => {
    fake.failAll({ status: 401, code: 20003 });
    expect(await failure(text('+12133734004'))).toMatchObject({ status: 401, code: 20003 });
    fake.failAll({ status: 500, code: 20500 });
    expect(await failure(text('+12133734005'))).toMatchObject({ status: 500, code: 20500 });
    fake.failAll(null);
    await text('+12133734004');
    expect(fake.rejected.get(20003)).toBe(1);
    expect(fake.rejected.get(20500)).toBe(1);
    expect(fake.accepted).toBe(1);
  });

  it('sends Retry-After with 429s and where scripted', async () => {
    const to = '+12133734006';
    fake.failNext(to, 429, 20429);
    fake.failNext(to, 503, 20500, { retryAfterSeconds: 7 });
    expect(await failure(text(to))).toMatchObject({ status: 429, code: 20429 });
    expect(http.lastResponse?.headers['retry-after']).toBe('1');
    expect(await failure(text(to))).toMatchObject({ status: 503, code: 20500 });
    expect(http.lastResponse?.headers['retry-after']).toBe('7');
    await text(to);
  });

  it('fails a bad number on every send until cleared', async () => {
    const to = '+12133734007';
    fake.failAlways(to, 400, 21610);
    for (let i = 0; i < 2; i++)
      expect(await failure(text(to))).toMatchObject({ status: 400, code: 21610 });
    await text('+12133734008');
    fake.clearFailAlways(to);
    await text(to);
    expect(fake.rejected.get(21610)).toBe(2);
    expect(fake.messages.map((m) => m.to)).toEqual(['+12133734008', to]);
  });

  it('holds a send past the client timeout, recording it only when accepted', async () => {
    const impatient = twilio(fake.accountSid, fake.authToken, {
      httpClient: new RebasedClient(fake.url, 300),
    });
    const send = (to: string) => impatient.messages.create({ to, from: FROM, body: 'hi' });
    fake.hangNext('+12133734009', { accept: true, ms: 2000 });
    fake.hangNext('+12133734010', { accept: false, ms: 2000 });
    const started = Date.now();
    expect(await failure(send('+12133734009'))).toMatchObject({ code: 'ECONNABORTED' });
    expect(Date.now() - started).toBeLessThan(1500);
    await failure(send('+12133734010'));
    expect(fake.messages.map((m) => m.to)).toEqual(['+12133734009']);
    expect(fake.hung).toBe(2);
    await send('+12133734009'); // the hang was once; the client still works

    // hangAll: the fake cuts the connection itself when the client waits longer.
    fake.hangAll({ accept: false, ms: 100 });
    await failure(text('+12133734011'));
    fake.hangAll(null);
    await text('+12133734011');
    expect(fake.messages.filter((m) => m.to === '+12133734011')).toHaveLength(1);
  });

  it('closes promptly while a keep-alive send is held', async () => {
    fake.hangAll({ accept: true, ms: 60_000 });
    const pending = failure(text('+12133734012'));
    while (fake.hung === 0) await sleep(10);
    const started = Date.now();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('limitMps lets through at most n sends a second and answers the rest 429', async () => {
    fake.limitMps(5);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => text(`+1213373410${i % 10}`)),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(fake.accepted).toBe(5);
    expect(refused).toHaveLength(7);
    expect(refused[0]).toMatchObject({ reason: { status: 429, code: 20429 } });
    expect(fake.rejected429).toBe(7);
    expect(http.lastResponse?.headers['retry-after']).toBe('1');
    await sleep(1050);
    await text('+12133734100');
    expect(fake.accepted).toBe(6);
  });
});

describe('SMTP sink', () => {
  let sink: SmtpSink;
  const transports: Transporter[] = [];
  /** A transport as the app builds one: a URL with options in its query. */
  const transport = (url: string, query = '') => {
    const t = nodemailer.createTransport(`${url}${query ? `?${query}` : ''}`);
    transports.push(t);
    return t;
  };
  const mail = (t: Transporter, to: string, extra: object = {}) =>
    t.sendMail({ from: 'tips@selfcare.test', to, subject: 'tip', text: 'stretch', ...extra });

  afterEach(async () => {
    for (const t of transports.splice(0)) t.close();
    await sink.close();
  });

  describe('without auth', () => {
    beforeEach(async () => {
      sink = await startSmtpSink();
    });

    it('refuses a dead mailbox at RCPT TO on every try until cleared', async () => {
      const t = transport(sink.url);
      sink.failAlways('gone@example.com', 550);
      for (let i = 0; i < 2; i++)
        expect(await failure(mail(t, 'gone@example.com'))).toMatchObject({
          responseCode: 550,
          command: 'RCPT TO',
          response: '550 5.1.1 mailbox does not exist',
        });
      sink.clearFailAlways('GONE@example.com');
      await mail(t, 'gone@example.com');
      expect(sink.rejected.get(550)).toBe(2);
      expect(sink.accepted).toBe(1);
    });

    it('temp-fails every message at MAIL FROM, on a pooled connection too', async () => {
      const t = transport(sink.url, 'pool=true&maxConnections=1');
      await mail(t, 'a@example.com');
      sink.tempFailAll(451);
      expect(await failure(mail(t, 'a@example.com'))).toMatchObject({
        responseCode: 451,
        command: 'MAIL FROM',
      });
      sink.tempFailAll(421);
      expect(await failure(mail(t, 'a@example.com'))).toMatchObject({
        responseCode: 421,
        command: 'MAIL FROM',
        response: '421 4.3.2 service not available',
      });
      sink.tempFailAll(null);
      await mail(t, 'a@example.com'); // the pool reconnects after the 421 closed the session
      expect(sink.accepted).toBe(2);
    });

    it('refuses the sender by policy', async () => {
      sink.rejectSender(550);
      expect(await failure(mail(transport(sink.url), 'a@example.com'))).toMatchObject({
        responseCode: 550,
        command: 'MAIL FROM',
        response: '550 5.7.1 sender not allowed',
      });
      sink.rejectSender(null);
      await mail(transport(sink.url), 'a@example.com');
    });

    it('delivers but never answers after DATA with hangAfterData, keeping the Message-ID', async () => {
      sink.hangAfterData('*', 2000);
      const t = transport(sink.url, 'socketTimeout=300');
      const messageId = '<tip-1.delivery-42@selfcare.test>';
      const started = Date.now();
      const err = await failure(mail(t, 'slow@example.com', { messageId }));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(err).toMatchObject({ code: 'ETIMEDOUT' });
      expect(sink.hung).toBe(1);
      expect(sink.received).toHaveLength(1);
      expect(sink.received[0]).toMatchObject({ recipient: 'slow@example.com', messageId });
      expect(sink.received[0]!.at).toBeInstanceOf(Date);

      sink.hangAfterData('*', null);
      const info = await mail(t, 'slow@example.com', { messageId: '<tip-2@selfcare.test>' });
      expect(info.messageId).toBe('<tip-2@selfcare.test>');
      expect(sink.messages[1]!.messageId).toBe('<tip-2@selfcare.test>');
    });
  });

  describe('with auth', () => {
    beforeEach(async () => {
      sink = await startSmtpSink({ auth: { user: 'drip', pass: 's3cret' } });
    });

    it('takes the right password, refuses a wrong one with 535, and rotates', async () => {
      expect(sink.url).toMatch(/^smtp:\/\/drip:s3cret@127\.0\.0\.1:\d+$/);
      await mail(transport(sink.url), 'a@example.com');
      expect(
        await failure(mail(transport(sink.urlWith('drip', 'nope')), 'a@example.com')),
      ).toMatchObject({
        responseCode: 535,
        response: '535 5.7.8 Authentication credentials invalid',
      });
      const old = sink.url;
      sink.setPassword('n3w pass/+');
      expect(await failure(mail(transport(old), 'a@example.com'))).toMatchObject({
        responseCode: 535,
      });
      await mail(transport(sink.url), 'a@example.com');
      expect(
        await failure(mail(transport(sink.url.replace(/\/\/.*@/, '//')), 'a@example.com')),
      ).toMatchObject({ responseCode: 530 });
      expect(sink.rejected.get(535)).toBe(2);
      expect(sink.accepted).toBe(2);

      // An open pooled session outlives a rotation unless the sink drops it.
      const pooled = transport(sink.url, 'pool=true&maxConnections=1');
      await mail(pooled, 'a@example.com');
      sink.setPassword('third');
      await mail(pooled, 'a@example.com');
      sink.setPassword('fourth', { disconnect: true });
      await sleep(50);
      expect(await failure(mail(pooled, 'a@example.com'))).toMatchObject({ responseCode: 535 });
      expect(sink.accepted).toBe(4);
    });
  });
});
