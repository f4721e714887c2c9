import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpSink {
  url: string;
  messages: ParsedMail[];
  /** Reply codes to give the next messages to these recipients (e.g. 550 or 451), once each. */
  failNext(recipient: string, code: number): void;
  close(): Promise<void>;
}

/** A real SMTP server on a free port that keeps every message it accepts, parsed. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const failures = new Map<string, number[]>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const codes = failures.get(address.address.toLowerCase());
      const code = codes?.shift();
      if (code) {
        const err = Object.assign(
          new Error(code >= 500 ? 'mailbox unavailable' : 'try again later'),
          { responseCode: code },
        );
        return callback(err);
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    failNext(recipient, code) {
      const list = failures.get(recipient.toLowerCase()) ?? [];
      list.push(code);
      failures.set(recipient.toLowerCase(), list);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
