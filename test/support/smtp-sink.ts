import type { AddressInfo, Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** One accepted message with what the envelope and the clock said about it. */
export interface SmtpReceived {
  mail: ParsedMail;
  at: Date;
  /** The first envelope recipient (RCPT TO), lower-cased. */
  recipient: string;
  recipients: string[];
  /** The envelope sender (MAIL FROM), lower-cased; '' for a null sender. */
  sender: string;
  /** The Message-ID header as mailparser reads it, angle brackets included. */
  messageId?: string;
}

export interface SmtpSinkOptions {
  /** A fixed port, so a restarted sink answers where the app already points (default: any). */
  port?: number;
  /** Require AUTH (PLAIN or LOGIN, over plain TCP) with these credentials. */
  auth?: { user: string; pass: string };
  /** Idle time before the server drops a connection (default 60 s, as smtp-server). */
  socketTimeout?: number;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:port, with the current credentials when the sink requires AUTH. */
  readonly url: string;
  urlWith(user: string, pass: string): string;
  messages: ParsedMail[];
  received: SmtpReceived[];
  /** Reply codes to give the next messages to these recipients (e.g. 550 or 451), once each. */
  failNext(recipient: string, code: number): void;
  /** Refuse this recipient at RCPT TO on every try (e.g. 550 "5.1.1 mailbox does not exist"). */
  failAlways(recipient: string, code: number, message?: string): void;
  clearFailAlways(recipient: string): void;
  /** Refuse every message at MAIL FROM with this 4xx (421 also closes the connection). */
  tempFailAll(code: number | null, message?: string): void;
  /** Refuse every message at MAIL FROM by sender policy (e.g. 550 "5.7.1 sender not allowed"). */
  rejectSender(code: number | null, message?: string): void;
  /**
   * Keep (deliver) messages to this recipient, or any with '*', but hold the final reply for
   * `ms` and then cut the connection, until called again with null.
   */
  hangAfterData(recipient: string, ms: number | null): void;
  /** Expect another password from now on; `disconnect` also drops open sessions. */
  setPassword(pass: string, opts?: { disconnect?: boolean }): void;
  /** Messages stored: received.length (hung ones included). */
  readonly accepted: number;
  /** Refusals by reply code (AUTH, MAIL FROM and RCPT TO). */
  readonly rejected: Map<number, number>;
  /** Messages whose final reply was held by hangAfterData. */
  readonly hung: number;
  close(): Promise<void>;
}

/** An SMTP reply for smtp-server: the code, then the text with its enhanced status code. */
const reply = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

/** A real SMTP server on a free port that keeps every message it accepts, parsed. */
export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const received: SmtpReceived[] = [];
  const failures = new Map<string, number[]>();
  const permanent = new Map<string, { code: number; message: string }>();
  const hangs = new Map<string, number>();
  const rejected = new Map<number, number>();
  const sockets = new Set<Socket>();
  const held = new Map<NodeJS.Timeout, Socket | undefined>(); // hung sessions, to cut
  const auth = opts.auth ? { ...opts.auth } : null;
  const state = {
    hung: 0,
    tempFail: null as { code: number; message: string } | null,
    sender: null as { code: number; message: string } | null,
  };
  const refuse = (code: number, message: string) => {
    rejected.set(code, (rejected.get(code) ?? 0) + 1);
    return reply(code, message);
  };
  /** Cut the connection of this session after ms, without the reply it waits for. */
  const hold = (session: SMTPServerSession, ms: number) => {
    state.hung++;
    const socket = [...sockets].find((s) => s.remotePort === session.remotePort);
    const timer = setTimeout(() => socket?.destroy(), ms);
    held.set(timer, socket);
    socket?.once('close', () => {
      clearTimeout(timer);
      held.delete(timer);
    });
  };

  const server = new SMTPServer({
    authOptional: !auth,
    allowInsecureAuth: !!auth, // AUTH over plain TCP: the sink has no TLS
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: ['STARTTLS'],
    logger: false,
    socketTimeout: opts.socketTimeout,
    closeTimeout: 1000, // close() then ends idle pooled sessions within a second
    // Everything below is decided per message: a pooled client sends many per connection.
    onAuth(login, _session, callback) {
      if (!auth || (login.username === auth.user && login.password === auth.pass))
        return callback(null, { user: login.username });
      callback(refuse(535, '5.7.8 Authentication credentials invalid'));
    },
    onMailFrom(_address, _session, callback) {
      const fault = state.tempFail ?? state.sender;
      if (fault) return callback(refuse(fault.code, fault.message));
      callback();
    },
    onRcptTo(address, _session, callback) {
      const rcpt = address.address.toLowerCase();
      const code = failures.get(rcpt)?.shift();
      if (code)
        return callback(refuse(code, code >= 500 ? 'mailbox unavailable' : 'try again later'));
      const always = permanent.get(rcpt);
      if (always) return callback(refuse(always.code, always.message));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const recipients = session.envelope.rcptTo.map((a) => a.address.toLowerCase());
          messages.push(mail);
          received.push({
            mail,
            at: new Date(),
            recipient: recipients[0] ?? '',
            recipients,
            sender: session.envelope.mailFrom
              ? session.envelope.mailFrom.address.toLowerCase()
              : '',
            messageId: mail.messageId,
          });
          const ms = [...recipients, '*'].map((r) => hangs.get(r)).find((v) => v !== undefined);
          if (ms !== undefined) return hold(session, ms); // delivered, but never answered
          callback();
        })
        .catch(callback);
    },
  });
  // A client that gives up mid-transaction resets its socket; that is expected here.
  server.on('error', () => undefined);
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const urlWith = (user: string, pass: string) =>
    `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`;
  return {
    get url() {
      return auth ? urlWith(auth.user, auth.pass) : `smtp://127.0.0.1:${port}`;
    },
    urlWith,
    messages,
    received,
    get accepted() {
      return received.length;
    },
    rejected,
    get hung() {
      return state.hung;
    },
    failNext(recipient, code) {
      const list = failures.get(recipient.toLowerCase()) ?? [];
      list.push(code);
      failures.set(recipient.toLowerCase(), list);
    },
    failAlways(recipient, code, message) {
      const text = message ?? (code >= 500 ? '5.1.1 mailbox does not exist' : '4.2.1 try later');
      permanent.set(recipient.toLowerCase(), { code, message: text });
    },
    clearFailAlways(recipient) {
      permanent.delete(recipient.toLowerCase());
    },
    tempFailAll(code, message) {
      const text = code === 421 ? '4.3.2 service not available' : '4.3.0 try again later';
      state.tempFail = code === null ? null : { code, message: message ?? text };
    },
    rejectSender(code, message) {
      state.sender =
        code === null ? null : { code, message: message ?? '5.7.1 sender not allowed' };
    },
    hangAfterData(recipient, ms) {
      const key = recipient === '*' ? '*' : recipient.toLowerCase();
      if (ms === null) hangs.delete(key);
      else hangs.set(key, ms);
    },
    setPassword(pass, setOpts = {}) {
      if (!auth) throw new Error('this sink was started without auth');
      auth.pass = pass;
      if (setOpts.disconnect) for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [timer, socket] of held) {
          clearTimeout(timer);
          socket?.destroy();
        }
        held.clear();
        server.close(() => resolve());
      }),
  };
}
