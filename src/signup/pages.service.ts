import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { TemplateError } from '../campaigns/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';

/** A form of one button that posts `fields` (hidden) to `action`. */
export interface PageButton {
  action: string;
  fields: Record<string, string>;
  button: string;
}

/** A clinic's page: its name (and logo, as a data: URI) head the page instead of ours. */
export interface PageBrand {
  name: string;
  logo: string | null;
}

/** Server-rendered pages from templates/pages/*.hbs, inside layout.hbs. Escaped by default. */
@Injectable()
export class PagesService {
  private readonly hbs = Handlebars.create();
  private readonly pages = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layout: Handlebars.TemplateDelegate;

  constructor(@Inject(CONFIG) private readonly config: AppConfig) {
    this.hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    const dir = join(config.templatesDir, 'pages');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.hbs'));
    } catch {
      throw new TemplateError(`pages: folder ${dir} not found (TEMPLATES_DIR)`);
    }
    for (const file of files) {
      try {
        const t = this.hbs.compile(readFileSync(join(dir, file), 'utf8'));
        this.hbs.precompile(readFileSync(join(dir, file), 'utf8')); // syntax errors now, not on first view
        this.pages.set(file.replace(/\.hbs$/, ''), t);
      } catch (err) {
        throw new TemplateError(`pages/${file}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    const layout = this.pages.get('layout');
    if (!layout) throw new TemplateError('pages/layout.hbs: missing');
    this.layout = layout;
  }

  render(
    name: string,
    title: string,
    data: Record<string, unknown> = {},
    opts: { embed?: boolean; brand?: PageBrand } = {},
  ): string {
    const page = this.pages.get(name);
    if (!page) throw new Error(`no page template ${name}`);
    const common = {
      service: this.config.sender.name,
      serviceAddress: this.config.sender.address,
      contactEmail: this.config.sender.contactEmail,
      emergencyNumber: this.config.emergencyNumber,
      embed: Boolean(opts.embed),
    };
    const body = page({ ...common, ...data });
    return this.layout({ ...common, title, body, brand: opts.brand });
  }

  /** A simple page: a heading, a few paragraphs, an optional link and an optional button. */
  message(
    title: string,
    paragraphs: string[],
    link?: { href: string; text: string },
    button?: PageButton,
  ): string {
    return this.render('message', title, { heading: title, paragraphs, link, button });
  }
}
