import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCampaigns, TemplateError } from '../campaigns/index.js';
import { Renderer } from './renderer.js';

// Issue 7, item 15: a broken template is one line: file (relative), line, field, reason.

const TEMPLATES = join(process.cwd(), 'templates');
const MAIN = 'upper-back-relief';

let root: string;
let counter = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'template-errors-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the shipped templates with one file changed; returns the copy. */
function broken(file: string, change: (source: string) => string): string {
  const dir = join(root, `t${++counter}`);
  cpSync(TEMPLATES, dir, { recursive: true });
  const before = readFileSync(join(dir, file), 'utf8');
  const after = change(before);
  expect(after).not.toBe(before);
  writeFileSync(join(dir, file), after);
  return dir;
}

/** 1-based line of the first line of `file` (in `dir`) that contains `text`. */
function lineOf(dir: string, file: string, text: string): number {
  const index = readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  expect(index).toBeGreaterThanOrEqual(0);
  return index + 1;
}

/** What start-up does with the templates: load, then compile and render with sample data. */
async function startUpError(dir: string): Promise<string> {
  try {
    await Renderer.create(dir, loadCampaigns(dir));
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    const message = (err as TemplateError).message;
    expect(message).not.toContain('\n');
    expect(message).not.toContain(dir); // a path relative to TEMPLATES_DIR, never the folder
    return message;
  }
  throw new Error('the broken templates were accepted');
}

const step = (key: string) => `campaigns/${MAIN}/${key}.yaml`;

describe('YAML', () => {
  it('a syntax error: file, line, field and reason', async () => {
    const file = step('heat');
    const dir = broken(file, (s) => s.replace(/^title: .*$/m, '$&\ntitle: Again'));
    expect(await startUpError(dir)).toBe(
      `${file}:2: field "title": invalid YAML: Map keys must be unique`,
    );
  });

  it('a syntax error inside a nested field', async () => {
    const file = step('heat');
    const dir = broken(file, (s) =>
      s.replace(/^ {2}subject: "(.*)"$/m, '  subject: "$1" and more'),
    );
    const line = lineOf(dir, file, '" and more');
    expect(await startUpError(dir)).toMatch(
      new RegExp(`^${file}:${line}: field "email.subject": invalid YAML: \\S.*$`),
    );
  });

  it('a missing field: the line of the entry that lacks it', async () => {
    const file = step('massage');
    const dir = broken(file, (s) => s.replace(/^ {2}subject: .*\n/m, ''));
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, 'email:')}: field "email.subject": is missing`,
    );
  });

  it('a value the schema refuses', async () => {
    const file = step('heat');
    const dir = broken(file, (s) =>
      s.replace(/^ {2}subject: .*$/m, `  subject: "${'x'.repeat(121)}"`),
    );
    expect(await startUpError(dir)).toMatch(
      new RegExp(`^${file}:${lineOf(dir, file, 'xxxx')}: field "email.subject": .*120`),
    );
  });

  it('a step the campaign lists that has no file: the line of the list', async () => {
    const file = `campaigns/${MAIN}/campaign.yaml`;
    const dir = broken(file, (s) => s.replace('heat, wrap-up', 'heat, stretch, wrap-up'));
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, 'stretch')}: field "steps": names "stretch" but ` +
        `campaigns/${MAIN}/stretch.yaml is missing`,
    );
  });

  it('a system message with a field it does not know', async () => {
    const file = 'system/sms-help.yaml';
    const dir = broken(file, (s) => `${s.trimEnd()}\nsubject: Help\n`);
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, 'subject: Help')}: field "subject": is not a known field`,
    );
  });
});

describe('Handlebars: the line inside the field, counted in the file', () => {
  it('a syntax error in a block of HTML', async () => {
    const file = step('heat');
    const dir = broken(file, (s) =>
      s.replace('<p>Hi {{firstName}},</p>', '<p>Hi {{firstName},</p>'),
    );
    expect(await startUpError(dir)).toMatch(
      new RegExp(
        `^${file}:${lineOf(dir, file, '{{firstName},')}: field "email.html": ` +
          'Handlebars syntax error near ".*"$',
      ),
    );
  });

  it('an unknown helper', async () => {
    const file = step('heat');
    const dir = broken(file, (s) =>
      s.replace(/^ {4}Hi \{\{firstName\}\},$/m, '    Hi {{shout firstName}},'),
    );
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, '{{shout')}: field "email.text": unknown helper "shout"`,
    );
  });

  it('an unknown partial', async () => {
    const file = step('massage');
    const dir = broken(file, (s) => s.replace(/^sms: \|\n(.*)$/m, 'sms: |\n$1 {{> signature}}'));
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, '{{> signature}}')}: field "sms": unknown partial "signature"`,
    );
  });

  it('an unknown variable on a one-line field', async () => {
    const file = step('welcome');
    const dir = broken(file, (s) => s.replace('{{campaign.name}}', '{{campaign.nmae}}'));
    expect(await startUpError(dir)).toMatch(
      new RegExp(
        `^${file}:${lineOf(dir, file, 'campaign.nmae')}: field "email\\.\\w+": ` +
          'unknown variable "campaign.nmae"$',
      ),
    );
  });

  it('an unknown variable in a branch the sample data does not take', async () => {
    const file = step('heat');
    const dir = broken(file, (s) =>
      s.replace('{{else}}Your chiropractor{{/if}}', '{{else}}Your {{chiropracter}}{{/if}}'),
    );
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, '{{chiropracter}}')}: field "email.html": ` +
        'unknown variable "chiropracter"',
    );
  });

  it('an unknown variable in a system message', async () => {
    const file = 'system/sms-help.yaml';
    const dir = broken(file, (s) => s.replace(/^sms: \|\n(.*)$/m, 'sms: |\n$1 {{helpline}}'));
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, '{{helpline}}')}: field "sms": unknown variable "helpline"`,
    );
  });

  it('an unknown variable in a text layout', async () => {
    const file = 'layouts/sms.txt';
    const dir = broken(file, (s) => `${s.trimEnd()}\n{{signature}}\n`);
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, '{{signature}}')}: unknown variable "signature"`,
    );
  });
});

describe('MJML: the file and its line, never the folder', () => {
  const file = 'layouts/email.mjml';

  it('an attribute MJML does not know', async () => {
    const dir = broken(file, (s) =>
      s.replace('<mj-text>{{{body}}}', '<mj-text foo="bar">{{{body}}}'),
    );
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, 'foo="bar"')}: MJML <mj-text>: Attribute foo is illegal`,
    );
  });

  it('an element MJML does not know', async () => {
    const dir = broken(file, (s) =>
      s.replace('<mj-text>{{{body}}}</mj-text>', '<mj-txt>{{{body}}}</mj-txt>'),
    );
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, '<mj-txt>')}: MJML <mj-txt>: ` +
        "Element mj-txt doesn't exist or is not registered",
    );
  });

  it('an unknown variable in the MJML layout: the line of the MJML source', async () => {
    const dir = broken(file, (s) => s.replace('{{campaign.name}}', '{{campaign.title}}'));
    expect(await startUpError(dir)).toBe(
      `${file}:${lineOf(dir, file, '{{campaign.title}}')}: unknown variable "campaign.title"`,
    );
  });

  it('a Handlebars syntax error in the MJML layout', async () => {
    const dir = broken(file, (s) => s.replace('{{{body}}}', '{{{body}}'));
    expect(await startUpError(dir)).toMatch(
      new RegExp(`^${file}:${lineOf(dir, file, '{{{body}}<')}: Handlebars syntax error`),
    );
  });
});
