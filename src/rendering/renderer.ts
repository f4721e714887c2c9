import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { z } from 'zod';
import {
  TemplateError,
  YamlSource,
  type Campaign,
  type CampaignStep,
  type StepField,
} from '../campaigns/index.js';
import { countSegments } from './sms-segments.js';
import { checkTemplate, templateError, type TemplateSite } from './template-check.js';
import {
  joinedBy,
  sampleCheckIn,
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
        throw new TemplateError({ file: `layouts/${name}`, reason: 'missing' });
      }
    };
    const hbs = Handlebars.create();
    const mjmlSite = { file: 'layouts/email.mjml' };
    const mjml = read('email.mjml');
    // Handlebars in the MJML source first, so its errors name lines of the file itself.
    checkTemplate(hbs, mjml, mjmlSite);
    // `fonts: {}`: MJML links Google Fonts for any of its known fonts (Roboto, Open Sans...)
    // named in a font-family, which tells Google who opened a health message and when.
    const { html, errors } = await mjml2html(mjml, { validationLevel: 'soft', fonts: {} }).catch(
      (err: Error) => {
        throw new TemplateError({ ...mjmlSite, reason: `MJML: ${err.message.split('\n')[0]}` });
      },
    );
    const mjmlError = errors[0];
    if (mjmlError) {
      // Its formattedMessage names the folder ("Line 5 of /app/templates/layouts"): not used.
      throw new TemplateError({
        ...mjmlSite,
        line: mjmlError.line,
        reason: `MJML <${mjmlError.tagName}>: ${mjmlError.message}`,
      });
    }
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
    // And with a check-in riding on the step, so its blocks in the layouts are checked too.
    const asksAll = sampleCheckIn({ pain: true, rating: true });
    const variants = [
      sample,
      sparse,
      { ...sparse, joined: joinedBy('admin') },
      { ...sparse, joined: joinedBy('web-form', true) },
      { ...sample, checkIn: asksAll },
      { ...sparse, checkIn: asksAll },
    ];
    // Compile and render each template with every sample, so a syntax error or a misspelt
    // variable stops start-up naming the file and field, not the first send.
    const compile = (
      source: string,
      where: TemplateSite,
      plain: boolean,
      extra: object = {},
    ): Template => {
      try {
        checkTemplate(hbs, source, where);
        const t = hbs.compile(source, { strict: true, noEscape: plain });
        for (const ctx of variants) {
          t({ ...ctx, subject: '', preheader: '', body: '', stopSaid: false, ...extra });
        }
        return t;
      } catch (err) {
        throw templateError(err, source, where);
      }
    };
    const renderer = new Renderer(
      compile(html, { ...mjmlSite, original: mjml }, false),
      compile(read('email.txt'), { file: 'layouts/email.txt' }, true),
      compile(read('sms.txt'), { file: 'layouts/sms.txt' }, true),
    );
    const at = (s: CampaignStep, field: StepField) => ({
      file: s.file,
      field,
      line: s.lines[field],
    });
    for (const campaign of campaigns) {
      renderer.steps.set(
        campaign.id,
        campaign.steps.map((s) => ({
          subject: compile(s.email.subject, at(s, 'email.subject'), true),
          preheader: compile(s.email.preheader, at(s, 'email.preheader'), true),
          html: compile(s.email.html, at(s, 'email.html'), false),
          text: compile(s.email.text, at(s, 'email.text'), true),
          sms: compile(s.sms, at(s, 'sms'), true),
        })),
      );
      campaign.steps.forEach((s, i) => {
        // A check-in step is measured with its question and links, as it will be sent.
        const checkIn = s.checkIn ? sampleCheckIn(s.checkIn) : null;
        const sms = [sample, sparse]
          .map((ctx) => ({ ...ctx, checkIn }))
          .map((ctx) => renderer.renderSms(campaign.id, i, ctx))
          .reduce((a, b) => (b.segments > a.segments ? b : a));
        if (sms.segments > MAX_SMS_SEGMENTS) {
          throw new TemplateError({
            ...at(s, 'sms'),
            reason: `renders to ${sms.segments} segments with sample data (at most ${MAX_SMS_SEGMENTS})`,
          });
        }
      });
    }
    renderer.loadSystem(join(templatesDir, 'system'), templatesDir, compile);
    return renderer;
  }

  private loadSystem(
    dir: string,
    templatesDir: string,
    compile: (source: string, where: TemplateSite, plain: boolean) => Template,
  ): void {
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()) {
      const yaml = YamlSource.read(join(dir, file), templatesDir);
      const { email, sms } = yaml.parseWith(systemSchema);
      const at = (field: string) => ({
        file: yaml.file,
        field,
        line: yaml.contentLine(field.split('.')),
      });
      this.system.set(file.replace(/\.yaml$/, ''), {
        email: email && {
          subject: compile(email.subject, at('email.subject'), true),
          preheader: compile(email.preheader, at('email.preheader'), true),
          html: compile(email.html, at('email.html'), false),
          text: compile(email.text, at('email.text'), true),
        },
        sms: sms === undefined ? undefined : compile(sms, at('sms'), true),
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
