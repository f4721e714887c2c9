import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import {
  EmailChannel,
  fromHeader,
  SmsChannel,
  type EmailMessage,
  type LookupResult,
  type SendResult,
  type SmsMessage,
} from './channel.types.js';

function fileStem(reference: string): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${reference}`;
}

/** The outbox is its own log: a file named after the reference means the message went. */
async function findInOutbox(dir: string, reference: string, ext: string): Promise<LookupResult> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { found: false };
    throw err;
  }
  const file = files.find((f) => f.endsWith(`-${reference}${ext}`));
  return file ? { found: true, providerId: `outbox:${file}` } : { found: false };
}

/** Writes each email as a .eml file: the development default, needing no credentials. */
export class OutboxEmailChannel extends EmailChannel {
  readonly name = 'outbox';
  private readonly builder = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
  });

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {
    super();
  }

  async send(m: EmailMessage): Promise<SendResult> {
    const info = await this.builder.sendMail({
      from: fromHeader(this.from, m.fromName),
      to: m.to,
      subject: m.subject,
      html: m.html,
      text: m.text,
      replyTo: m.replyTo,
      messageId: m.messageId,
      headers: m.headers,
    });
    await mkdir(this.dir, { recursive: true });
    const file = `${fileStem(m.reference)}.eml`;
    await writeWhole(join(this.dir, file), info.message as Buffer);
    return { providerId: `outbox:${file}` };
  }

  lookup(m: EmailMessage): Promise<LookupResult> {
    return findInOutbox(this.dir, m.reference, '.eml');
  }
}

/**
 * Writes each SMS as a small text file: To, From (the message's own sender, else the
 * channel's), then the body.
 */
export class OutboxSmsChannel extends SmsChannel {
  readonly name = 'outbox';

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {
    super();
  }

  async send(m: SmsMessage): Promise<SendResult> {
    await mkdir(this.dir, { recursive: true });
    const file = `${fileStem(m.reference)}.sms.txt`;
    const from = m.from ?? this.from;
    await writeWhole(join(this.dir, file), `To: ${m.to}\nFrom: ${from}\n\n${m.body}\n`);
    return { providerId: `outbox:${file}` };
  }

  lookup(m: SmsMessage): Promise<LookupResult> {
    return findInOutbox(this.dir, m.reference, '.sms.txt');
  }
}

/**
 * Writes the whole file or nothing, under its final name only once complete: whoever reads
 * the outbox (a person, a test, the lease resolver's lookup) never sees half a message.
 */
async function writeWhole(path: string, data: string | Buffer): Promise<void> {
  const part = `${path}.part`;
  await writeFile(part, data);
  await rename(part, path);
}
