import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import {
  EmailChannel,
  SmsChannel,
  type EmailMessage,
  type SendResult,
  type SmsMessage,
} from './channel.types.js';

function fileStem(reference: string): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${reference}`;
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
      from: this.from,
      to: m.to,
      subject: m.subject,
      html: m.html,
      text: m.text,
      replyTo: m.replyTo,
      headers: m.headers,
    });
    await mkdir(this.dir, { recursive: true });
    const file = `${fileStem(m.reference)}.eml`;
    await writeFile(join(this.dir, file), info.message as Buffer);
    return { providerId: `outbox:${file}` };
  }
}

/** Writes each SMS as a small text file: To, From, then the body. */
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
    await writeFile(join(this.dir, file), `To: ${m.to}\nFrom: ${this.from}\n\n${m.body}\n`);
    return { providerId: `outbox:${file}` };
  }
}
