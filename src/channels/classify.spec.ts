import { describe, expect, it } from '@jest/globals';
import type { FaultKind } from './channel.types.js';
import { classifySmtpError } from './smtp-email.channel.js';
import { classifyTwilioError, type TwilioFailure } from './twilio-sms.channel.js';

/**
 * Who is at fault decides everything after a failed send: a recipient fault suppresses the
 * address and ends the person's enrolments, a config fault pauses the whole channel, an
 * unknown outcome waits for the provider's log. These tables pin each rule, and the label an
 * operator reads, for the shapes nodemailer and the twilio client give their errors.
 */

type Smtp = Parameters<typeof classifySmtpError>[0];

describe('classifySmtpError: who is at fault for an SMTP failure', () => {
  it.each<[string, Smtp, FaultKind, string]>([
    [
      'a failed login',
      {
        code: 'EAUTH',
        responseCode: 535,
        response: '535 5.7.8 Bad credentials',
        command: 'AUTH PLAIN',
      },
      'config',
      'SMTP 535 5.7.8 at AUTH PLAIN',
    ],
    ['no credentials where the server wants them', { code: 'ENOAUTH' }, 'config', 'SMTP ENOAUTH'],
    // nodemailer's EAUTH decides even when the reply code alone would not.
    [
      'a login refused for now',
      {
        code: 'EAUTH',
        responseCode: 454,
        response: '454 4.7.0 Temporary authentication failure',
        command: 'AUTH PLAIN',
      },
      'config',
      'SMTP 454 4.7.0 at AUTH PLAIN',
    ],
    ['credentials nodemailer could not use', { code: 'EAUTH' }, 'config', 'SMTP EAUTH'],
    [
      '530 (authentication required)',
      { responseCode: 530, command: 'MAIL FROM' },
      'config',
      'SMTP 530 at MAIL FROM',
    ],
    ['534 (mechanism too weak)', { responseCode: 534 }, 'config', 'SMTP 534'],
    [
      '535 without nodemailer code',
      { responseCode: 535, command: 'RCPT TO' },
      'config',
      'SMTP 535 at RCPT TO',
    ],
    ['538 (encryption required)', { responseCode: 538 }, 'config', 'SMTP 538'],
    [
      '421 closing, at any stage',
      { responseCode: 421, command: 'RCPT TO' },
      'outage',
      'SMTP 421 at RCPT TO',
    ],
    ['421 after DATA', { responseCode: 421, command: 'DATA' }, 'outage', 'SMTP 421 at DATA'],
  ])('%s', (_what, e, kind, label) => {
    expect(classifySmtpError(e)).toEqual({ kind, label });
  });

  describe('by the stage that answered', () => {
    it.each<[number, string | undefined, FaultKind]>([
      // MAIL FROM refuses our sender: permanent is our setup, temporary is everyone's wait.
      [550, 'MAIL FROM', 'config'],
      [500, 'MAIL FROM', 'config'],
      [499, 'MAIL FROM', 'outage'],
      [450, 'MAIL FROM', 'outage'],
      [400, 'MAIL FROM', 'outage'],
      // RCPT TO: a temporary refusal is retried for this recipient.
      [450, 'RCPT TO', 'retry'],
      [499, 'RCPT TO', 'retry'],
      // Plain 550/551/553 at RCPT TO: the mailbox does not exist.
      [550, 'RCPT TO', 'recipient'],
      [551, 'RCPT TO', 'recipient'],
      [553, 'RCPT TO', 'recipient'],
      // Other permanent refusals at RCPT TO refuse this message, not the address.
      [500, 'RCPT TO', 'message'],
      [552, 'RCPT TO', 'message'],
      [554, 'RCPT TO', 'message'],
      // After DATA (or no stage known): permanent refuses the message, temporary retries.
      [552, 'DATA', 'message'],
      [500, 'DATA', 'message'],
      [499, 'DATA', 'retry'],
      [451, 'DATA', 'retry'],
      [400, 'DATA', 'retry'],
      [554, undefined, 'message'],
      [450, undefined, 'retry'],
    ])('%i at %s is a %s fault', (responseCode, command, kind) => {
      expect(classifySmtpError({ responseCode, command }).kind).toBe(kind);
    });
  });

  describe('enhanced status codes (RFC 3463) decide at RCPT TO', () => {
    it.each<[string, FaultKind, string]>([
      ['550 5.1.1 <x@example.com>: user unknown', 'recipient', 'SMTP 550 5.1.1 at RCPT TO'],
      ['550-5.1.1 The email account does not exist', 'recipient', 'SMTP 550 5.1.1 at RCPT TO'],
      ['554 5.1.10 Recipient address has null MX', 'recipient', 'SMTP 554 5.1.10 at RCPT TO'],
      ['553 5.1.3 Bad recipient address syntax', 'recipient', 'SMTP 553 5.1.3 at RCPT TO'],
      // The enhanced code wins over the bare number: 550 5.7.1 is a policy refusal.
      ['550 5.7.1 Message rejected as spam', 'message', 'SMTP 550 5.7.1 at RCPT TO'],
      ['551 5.2.2 Mailbox full', 'message', 'SMTP 551 5.2.2 at RCPT TO'],
      ['552 5.2.2 Mailbox full', 'message', 'SMTP 552 5.2.2 at RCPT TO'],
      ['550 5.10.1 not a real code', 'message', 'SMTP 550 5.10.1 at RCPT TO'],
    ])('%s', (response, kind, label) => {
      const responseCode = Number(response.slice(0, 3));
      expect(classifySmtpError({ responseCode, response, command: 'RCPT TO' })).toEqual({
        kind,
        label,
      });
    });

    it('reads the enhanced code only at the start of the reply, right after the number', () => {
      // Text that merely contains something like a code is not one.
      for (const response of [
        'Error: 550 5.7.1 policy',
        '550 rejected, see 5.1.1',
        '550  5.7.1 two spaces',
        '550 5.7 short',
        '55 5.7.1 short number',
        '550 x.7.1 letter',
        '550 5.x.1 letter',
        '550 5.7.x letter',
        '550 51.7.1 long class',
        '550 5.1234.1 long subject',
        '550_5.7.1 underscore',
      ]) {
        expect(classifySmtpError({ responseCode: 550, response, command: 'RCPT TO' })).toEqual({
          kind: 'recipient', // plain 550: no enhanced code was read
          label: 'SMTP 550 at RCPT TO',
        });
      }
    });

    it('keeps the enhanced code in the label after any stage', () => {
      expect(
        classifySmtpError({
          responseCode: 552,
          response: '552 5.3.4 Message too big',
          command: 'DATA',
        }),
      ).toEqual({ kind: 'message', label: 'SMTP 552 5.3.4 at DATA' });
      expect(
        classifySmtpError({
          responseCode: 452,
          response: '452-4.2.2 Over quota',
          command: 'RCPT TO',
        }),
      ).toEqual({ kind: 'retry', label: 'SMTP 452 4.2.2 at RCPT TO' });
    });
  });

  describe('failures without a reply', () => {
    it.each(['ECONNREFUSED', 'EDNS', 'ENOTFOUND', 'EAI_AGAIN', 'ETLS'])(
      '%s: nothing was sent, the provider is out of reach',
      (code) => {
        expect(classifySmtpError({ code })).toEqual({ kind: 'outage', label: `SMTP ${code}` });
      },
    );

    it.each([
      'connect ECONNREFUSED 127.0.0.1:2525',
      'getaddrinfo ENOTFOUND smtp.example.com',
      'getaddrinfo EAI_AGAIN smtp.example.com',
    ])('a socket error whose cause says "%s" is an outage', (message) => {
      expect(classifySmtpError({ code: 'ESOCKET', message })).toEqual({
        kind: 'outage',
        label: 'SMTP ESOCKET',
      });
    });

    it('reads the cause only as a whole word', () => {
      for (const message of ['XECONNREFUSED', 'ENOTFOUNDX', 'connection EAI_AGAIN2'])
        expect(classifySmtpError({ code: 'ESOCKET', message }).kind).toBe('unknown');
    });

    it.each(['EENVELOPE', 'EMESSAGE'])('%s: nodemailer refused this message', (code) => {
      expect(classifySmtpError({ code })).toEqual({ kind: 'message', label: `SMTP ${code}` });
    });

    it.each<[string, Smtp]>([
      // A reply below 400 is no refusal: the server said something unexpected mid-exchange.
      ['a protocol mix-up after DATA', { code: 'EPROTOCOL', responseCode: 250, command: 'DATA' }],
      ['an odd greeting', { code: 'EPROTOCOL', responseCode: 220, command: 'CONN' }],
      ['a timeout', { code: 'ETIMEDOUT', message: 'send timed out' }],
      ['a dropped connection', { code: 'ECONNECTION', message: 'Connection closed' }],
      ['a socket reset', { code: 'ESOCKET', message: 'read ECONNRESET' }],
      ['nothing at all', {}],
    ])('%s may have been accepted: the outcome is unknown', (_what, e) => {
      expect(classifySmtpError(e).kind).toBe('unknown');
    });

    it('labels what it has: the reply code, else the error code, else "error"', () => {
      expect(classifySmtpError({ responseCode: 451, code: 'EENVELOPE' }).label).toBe('SMTP 451');
      expect(classifySmtpError({ code: 'ETIMEDOUT' }).label).toBe('SMTP ETIMEDOUT');
      expect(classifySmtpError({}).label).toBe('SMTP error');
      expect(classifySmtpError({ command: 'DATA' }).label).toBe('SMTP error at DATA');
    });
  });
});

describe('classifyTwilioError: who is at fault for a Twilio failure', () => {
  it.each<[string, TwilioFailure, FaultKind, string]>([
    ['an invalid number', { status: 400, code: 21211 }, 'recipient', 'Twilio 400 error 21211'],
    [
      'a number that cannot be reached',
      { status: 400, code: 21214 },
      'recipient',
      'Twilio 400 error 21214',
    ],
    ['a landline', { status: 400, code: 21217 }, 'recipient', 'Twilio 400 error 21217'],
    [
      'an opt-out at the carrier',
      { status: 400, code: 21610 },
      'recipient',
      'Twilio 400 error 21610',
    ],
    [
      'a number that cannot receive',
      { status: 400, code: 21612 },
      'recipient',
      'Twilio 400 error 21612',
    ],
    ['not a mobile number', { status: 400, code: 21614 }, 'recipient', 'Twilio 400 error 21614'],
    ['a recipient code without status', { code: 21211 }, 'recipient', 'Twilio 21211 error 21211'],
    ['a bad auth token', { status: 401, code: 20003 }, 'config', 'Twilio 401 error 20003'],
    ['401 without a code', { status: 401 }, 'config', 'Twilio 401'],
    ['403 without a code', { status: 403 }, 'config', 'Twilio 403'],
    ['an unknown sender', { status: 400, code: 21606 }, 'config', 'Twilio 400 error 21606'],
    ['a config code on a 404', { status: 404, code: 20404 }, 'config', 'Twilio 404 error 20404'],
    ['a config code without status', { code: 30032 }, 'config', 'Twilio 30032 error 30032'],
    ['a bad parameter', { status: 400, code: 21602 }, 'message', 'Twilio 400 error 21602'],
    ['400 without a code', { status: 400 }, 'message', 'Twilio 400'],
    [
      'a 4xx with an unknown code',
      { status: 499, code: 99999 },
      'message',
      'Twilio 499 error 99999',
    ],
    ['a server error', { status: 500, code: 20500 }, 'unknown', 'Twilio 500 error 20500'],
    ['a bad gateway', { status: 502 }, 'unknown', 'Twilio 502'],
    ['a 3xx (a proxy answering oddly)', { status: 399 }, 'unknown', 'Twilio 399'],
    ['a refused connection', { code: 'ECONNREFUSED' }, 'outage', 'Twilio ECONNREFUSED'],
    ['an unknown host', { code: 'ENOTFOUND' }, 'outage', 'Twilio ENOTFOUND'],
    ['a DNS hiccup', { code: 'EAI_AGAIN' }, 'outage', 'Twilio EAI_AGAIN'],
    ['no route to the host', { code: 'EHOSTUNREACH' }, 'outage', 'Twilio EHOSTUNREACH'],
    ['a timeout', { code: 'ETIMEDOUT' }, 'unknown', 'Twilio ETIMEDOUT'],
    ['a reset connection', { code: 'ECONNRESET' }, 'unknown', 'Twilio ECONNRESET'],
    ['nothing at all', {}, 'unknown', 'Twilio network'],
  ])('%s', (_what, e, kind, label) => {
    expect(classifyTwilioError(e)).toEqual({ kind, label });
  });

  it.each<[string, TwilioFailure]>([
    ['HTTP 429', { status: 429 }],
    ['HTTP 429 with code 20429', { status: 429, code: 20429 }],
    ['code 20429 on any status', { status: 400, code: 20429 }],
    ['code 14107 (the account is sending too fast)', { status: 400, code: 14107 }],
  ])('%s asks us to slow down', (_what, e) => {
    expect(classifyTwilioError(e)).toMatchObject({ kind: 'rate-limit' });
  });

  it('passes on how long Retry-After said to wait, when it said', () => {
    expect(classifyTwilioError({ status: 429, details: { retry_after_ms: 3000 } })).toEqual({
      kind: 'rate-limit',
      label: 'Twilio 429',
      retryAfterMs: 3000,
    });
    expect(classifyTwilioError({ status: 429, code: 20429 })).toEqual({
      kind: 'rate-limit',
      label: 'Twilio 429 error 20429',
      retryAfterMs: undefined,
    });
    expect(classifyTwilioError({ status: 429, details: {} }).retryAfterMs).toBeUndefined();
  });

  it('an HTTP answer means the request got somewhere: never an outage, whatever else it says', () => {
    expect(classifyTwilioError({ status: 503, code: 'ECONNREFUSED' })).toEqual({
      kind: 'unknown',
      label: 'Twilio 503',
    });
  });

  it.each([21212, 21606, 21659, 21660, 21701, 21703, 21704, 21705, 30032])(
    "sender code %i fails only the message when it went from a sender of its own (a clinic's)",
    (code) => {
      expect(classifyTwilioError({ status: 400, code }, 'own')).toEqual({
        kind: 'message',
        label: `Twilio 400 error ${code}: the message's own sender was refused`,
      });
      // From TWILIO_FROM it is the channel's setup: every text would fail, so it pauses.
      expect(classifyTwilioError({ status: 400, code }, 'channel').kind).toBe('config');
      expect(classifyTwilioError({ status: 400, code }).kind).toBe('config');
    },
  );

  it('a message with its own sender still pauses the channel for account faults', () => {
    expect(classifyTwilioError({ status: 401, code: 20003 }, 'own').kind).toBe('config');
    expect(classifyTwilioError({ status: 400, code: 21211 }, 'own').kind).toBe('recipient');
  });

  it('a recipient code wins over a 4xx status, a config code over a recipient-looking status', () => {
    expect(classifyTwilioError({ status: 404, code: 21211 }).kind).toBe('recipient');
    expect(classifyTwilioError({ status: 400, code: 21212 }).kind).toBe('config');
    expect(classifyTwilioError({ status: 500, code: 20003 }).kind).toBe('config');
  });
});
