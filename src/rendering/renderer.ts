import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import YAML from 'yaml';
import { z } from 'zod';
import type { Campaign } from '../campaigns/index.js';
import { TemplateError } from '../campaigns/index.js';
import { countSegments } from './sms-segments.js';
import {
  joinedBy,
  sampleContext,
  type RenderContext,
  type RenderedEmail,
  type RenderedSms,
} from './render-context.js';

type Template = Handlebars.TemplateDelegate;

interface CompiledEmail {
  subject: Template;
  preheader: Template;
  html: Template;
  text: Template;
}

interface CompiledStep extends CompiledEmail {
  sms: Template;
}

/** Messages outside campaigns: the double opt-in and the SMS keyword replies. */
interface CompiledSystemMessage {
  email?: CompiledEmail;
  sms?: Template;
}

const systemSchema = z.strictObject({
  email: z
    .strictObject({
      subject: z.string().min(1),
      preheader: z.string().default(''),
      html: z.string().min(1),
      text: z.string().min(1),
    })
    .optional(),
  sms: z.string().min(1).optional(),
});

/** Most segments a rendered SMS may use; the content aims for two. */
export const MAX_SMS_SEGMENTS = 3;

/**
 * Renders campaign steps. MJML runs once per layout at start-up, leaving the Handlebars
 * placeholders in place, so a send costs only a few template calls.
 */
export class Renderer {
  private readonly steps = new Map<string, CompiledStep[]>();
  private readonly system = new Map<string, CompiledSystemMessage>();

  private constructor(
    private readonly emailLayout: Template,
    private readonly textLayout: Template,
    private readonly smsLayout: Template,
  ) {}

  static async create(templatesDir: string, campaigns: Campaign[]): Promise<Renderer> {
    const read = (name: string) => {
      try {
        return readFileSync(join(templatesDir, 'layouts', name), 'utf8');
      } catch {
        throw new TemplateError(`layouts/${name}: missing`);
      }
    };
    // `fonts: {}`: MJML links Google Fonts for any of its known fonts (Roboto, Open Sans...)
    // named in a font-family, which tells Google who opened a health message and when.
    const { html, errors } = await mjml2html(read('email.mjml'), {
      validationLevel: 'soft',
      fonts: {},
    });
    if (errors.length > 0) {
      throw new TemplateError(`layouts/email.mjml: ${errors[0]!.formattedMessage}`);
    }
    const hbs = Handlebars.create();
    const sample = sampleContext();
    // The same with every optional sender detail empty, so the {{else}} branches run too.
    const sparse = sampleContext({
      sender: {
        ...sample.sender,
        isClinic: false,
        chiropractor: null,
        phone: null,
        bookingUrl: null,
        replyTo: null,
      },
      joined: joinedBy('web-form'),
    });
    // And the other ways of joining, which the footer tells apart.
    const variants = [
      sample,
      sparse,
      { ...sparse, joined: joinedBy('admin') },
      { ...sparse, joined: joinedBy('web-form', true) },
    ];
    // Compile and render each template with every sample, so a syntax error or a misspelt
    // variable stops start-up naming the file and field, not the first send.
    const compile = (
      source: string,
      where: string,
      plain: boolean,
      extra: object = {},
    ): Template => {
      try {
        const t = hbs.compile(source, { strict: true, noEscape: plain });
        for (const ctx of variants) {
          t({ ...ctx, subject: '', preheader: '', body: '', stopSaid: false, ...extra });
        }
        return t;
      } catch (err) {
        throw new TemplateError(`${where}: ${(err as Error).message.split('\n')[0]}`);
      }
    };
    const renderer = new Renderer(
      compile(html, 'layouts/email.mjml', false),
      compile(read('email.txt'), 'layouts/email.txt', true),
      compile(read('sms.txt'), 'layouts/sms.txt', true),
    );
    for (const campaign of campaigns) {
      renderer.steps.set(
        campaign.id,
        campaign.steps.map((s) => ({
          subject: compile(s.email.subject, `${s.file}: field "email.subject"`, true),
          preheader: compile(s.email.preheader, `${s.file}: field "email.preheader"`, true),
          html: compile(s.email.html, `${s.file}: field "email.html"`, false),
          text: compile(s.email.text, `${s.file}: field "email.text"`, true),
          sms: compile(s.sms, `${s.file}: field "sms"`, true),
        })),
      );
      campaign.steps.forEach((s, i) => {
        const sms = [sample, sparse]
          .map((ctx) => renderer.renderSms(campaign.id, i, ctx))
          .reduce((a, b) => (b.segments > a.segments ? b : a));
        if (sms.segments > MAX_SMS_SEGMENTS) {
          throw new TemplateError(
            `${s.file}: field "sms" renders to ${sms.segments} segments with sample data (at most ${MAX_SMS_SEGMENTS})`,
          );
        }
      });
    }
    renderer.loadSystem(join(templatesDir, 'system'), compile);
    return renderer;
  }

  private loadSystem(
    dir: string,
    compile: (source: string, where: string, plain: boolean) => Template,
  ): void {
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()) {
      const where = `system/${file}`;
      let raw: unknown;
      try {
        raw = YAML.parse(readFileSync(join(dir, file), 'utf8'));
      } catch (err) {
        throw new TemplateError(`${where}: ${(err as Error).message.split('\n')[0]}`);
      }
      const parsed = systemSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new TemplateError(
          `${where}: field "${issue.path.join('.') || '(file)'}" ${issue.message}`,
        );
      }
      const { email, sms } = parsed.data;
      this.system.set(file.replace(/\.yaml$/, ''), {
        email: email && {
          subject: compile(email.subject, `${where}: field "email.subject"`, true),
          preheader: compile(email.preheader, `${where}: field "email.preheader"`, true),
          html: compile(email.html, `${where}: field "email.html"`, false),
          text: compile(email.text, `${where}: field "email.text"`, true),
        },
        sms: sms === undefined ? undefined : compile(sms, `${where}: field "sms"`, true),
      });
    }
  }

  private systemMessage(key: string): CompiledSystemMessage {
    const m = this.system.get(key);
    if (!m) throw new Error(`no system message "${key}" in templates/system`);
    return m;
  }

  /** A system email (e.g. `confirm`), in the same layout as the tips. */
  renderSystemEmail(key: string, ctx: RenderContext): RenderedEmail {
    const t = this.systemMessage(key).email;
    if (!t) throw new Error(`system message "${key}" has no email variant`);
    return this.wrapEmail(t, ctx);
  }

  /**
   * A system SMS. Keyword replies go without the tip footer (a STOP confirmation must not
   * say "reply STOP"); the double opt-in text keeps it.
   */
  renderSystemSms(key: string, ctx: RenderContext, opts: { footer: boolean }): RenderedSms {
    const t = this.systemMessage(key).sms;
    if (!t) throw new Error(`system message "${key}" has no SMS variant`);
    const text = t(ctx).trim();
    const body = tidyText(
      opts.footer ? this.smsLayout({ ...ctx, body: text, stopSaid: saysStop(text) }) : text,
    );
    const info = countSegments(body);
    return { body, segments: info.segments, encoding: info.encoding };
  }

  private step(campaignId: string, index: number): CompiledStep {
    const step = this.steps.get(campaignId)?.[index];
    if (!step) throw new Error(`no step ${index} in campaign ${campaignId}`);
    return step;
  }

  renderEmail(campaignId: string, index: number, ctx: RenderContext): RenderedEmail {
    return this.wrapEmail(this.step(campaignId, index), ctx);
  }

  private wrapEmail(t: CompiledEmail, ctx: RenderContext): RenderedEmail {
    const subject = oneLine(t.subject(ctx));
    const preheader = oneLine(t.preheader(ctx));
    const body = t.html(ctx);
    return {
      subject,
      html: this.emailLayout({ ...ctx, subject, preheader, body }),
      text: tidyText(this.textLayout({ ...ctx, subject, preheader, body: t.text(ctx).trim() })),
    };
  }

  renderSms(campaignId: string, index: number, ctx: RenderContext): RenderedSms {
    const t = this.step(campaignId, index);
    // SMS is plain text: Handlebars' HTML escaping would show "&amp;" on a phone.
    const text = t.sms(ctx).trim();
    const body = tidyText(this.smsLayout({ ...ctx, body: text, stopSaid: saysStop(text) }));
    const info = countSegments(body);
    return { body, segments: info.segments, encoding: info.encoding };
  }
}

/** The SMS layout adds "Reply STOP to opt out" only where the message has not said it. */
function saysStop(text: string): boolean {
  return /\bSTOP\b/.test(text);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function tidyText(s: string): string {
  return s
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
