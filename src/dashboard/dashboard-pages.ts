import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { TemplateError } from '../campaigns/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import type { StaffCaller } from '../clinics/index.js';

export type DashboardSection =
  'overview' | 'patients' | 'triage' | 'imports' | 'audit' | 'staff' | 'webhooks';

/**
 * The dashboard's pages: templates/dashboard/*.hbs inside its own layout (navigation, who is
 * signed in, sign-out). Handlebars escapes every value; the only unescaped values are SVG
 * charts this service drew itself.
 */
@Injectable()
export class DashboardPages {
  private readonly hbs = Handlebars.create();
  private readonly pages = new Map<string, Handlebars.TemplateDelegate>();

  constructor(@Inject(CONFIG) private readonly config: AppConfig) {
    this.hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    const dir = join(config.templatesDir, 'dashboard');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.hbs'));
    } catch {
      throw new TemplateError(`dashboard: folder ${dir} not found (TEMPLATES_DIR)`);
    }
    for (const file of files) {
      const source = readFileSync(join(dir, file), 'utf8');
      try {
        this.hbs.precompile(source);
        this.pages.set(file.replace(/\.hbs$/, ''), this.hbs.compile(source, { strict: false }));
      } catch (err) {
        throw new TemplateError(`dashboard/${file}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (!this.pages.has('layout')) throw new TemplateError('dashboard/layout.hbs: missing');
  }

  /** A page for a signed-in member of staff (navigation, sign-out form). */
  render(
    name: string,
    title: string,
    staff: StaffCaller | null,
    data: Record<string, unknown> = {},
    section?: DashboardSection,
  ): string {
    const page = this.pages.get(name);
    if (!page) throw new Error(`no dashboard template ${name}`);
    const common = {
      service: this.config.sender.name,
      staff,
      isAdmin: staff?.role === 'admin',
      csrf: staff?.csrf,
      emergencyNumber: this.config.emergencyNumber,
    };
    const body = page({ ...common, ...data });
    const nav = staff
      ? (
          [
            ['overview', '/clinic', 'Overview'],
            ['patients', '/clinic/patients', 'Patients'],
            ['triage', '/clinic/triage', 'Triage'],
            ['imports', '/clinic/imports', 'Import'],
            ...(staff.role === 'admin'
              ? [
                  ['audit', '/clinic/audit', 'Audit log'],
                  ['staff', '/clinic/staff', 'Staff'],
                  ['webhooks', '/clinic/webhooks', 'Webhooks'],
                ]
              : []),
          ] as const
        ).map(([key, href, label]) => ({ href, label, current: key === section }))
      : [];
    return this.pages.get('layout')!({ ...common, title, body, nav });
  }

  /** A simple page: a heading, paragraphs, an optional link. */
  message(
    staff: StaffCaller | null,
    title: string,
    paragraphs: string[],
    link?: { href: string; text: string },
  ): string {
    return this.render('message', title, staff, { heading: title, paragraphs, link });
  }
}
