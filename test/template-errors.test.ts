import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { uniquePrefix } from './support/app.js';
import { ensureBuilt, runBuilt } from './support/built.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { REDIS_URL } from './support/env.js';
import { freePort } from './support/private-redis.js';

// Issue 7, item 15: the built service and the CLI stop on a broken template with exactly
// one line (file, line, field, reason) and no stack trace. The kinds of error, one by one,
// are in src/rendering/template-errors.spec.ts.

describe('a broken template stops the built service and the CLI with one line', () => {
  let tdb: TestDatabase;
  let root: string;
  let env: Record<string, string>;

  /** A copy of the shipped templates with one change; returns its path. */
  function templatesWith(file: string, change: (s: string) => string): string {
    const dir = mkdtempSync(join(root, 't-'));
    cpSync(resolve('templates'), dir, { recursive: true });
    const path = join(dir, file);
    const before = readFileSync(path, 'utf8');
    expect(change(before)).not.toBe(before);
    writeFileSync(path, change(before));
    return dir;
  }
  const lineOf = (dir: string, file: string, text: string) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(text)) + 1;

  beforeAll(async () => {
    ensureBuilt();
    tdb = await createTestDatabase();
    root = mkdtempSync(join(tmpdir(), 'sd-template-errors-'));
    env = {
      DATABASE_URL: tdb.url,
      REDIS_URL,
      QUEUE_PREFIX: uniquePrefix(),
      PORT: String(await freePort()),
    };
  }, 300_000);
  afterAll(async () => {
    await tdb?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('a Handlebars error (found while the app is built): the service and the CLI', async () => {
    const file = 'campaigns/upper-back-relief/heat.yaml';
    const dir = templatesWith(file, (s) =>
      s.replace('{{else}}Your chiropractor{{/if}}', '{{else}}Your {{chiropracter}}{{/if}}'),
    );
    const line =
      `Invalid template: ${file}:${lineOf(dir, file, '{{chiropracter}}')}: ` +
      'field "email.html": unknown variable "chiropracter"\n';
    const service = await runBuilt('dist/main.js', [], { ...env, TEMPLATES_DIR: dir });
    expect(service).toEqual({ code: 1, stdout: '', stderr: line });
    for (const args of [['campaigns'], ['preview', 'upper-back-relief', 'heat']]) {
      const cli = await runBuilt('dist/cli/cli.js', args, { ...env, TEMPLATES_DIR: dir });
      expect(cli).toEqual({ code: 1, stdout: '', stderr: line });
    }
  });

  it('a YAML error (found before anything else): the service', async () => {
    const file = 'campaigns/upper-back-relief/massage.yaml';
    const dir = templatesWith(file, (s) => s.replace(/^ {2}subject: .*\n/m, ''));
    const service = await runBuilt('dist/main.js', [], { ...env, TEMPLATES_DIR: dir });
    expect(service).toEqual({
      code: 1,
      stdout: '',
      stderr: `Invalid template: ${file}:${lineOf(dir, file, 'email:')}: field "email.subject": is missing\n`,
    });
  });

  it('an MJML error names the file and its line, not the folder: the CLI', async () => {
    const file = 'layouts/email.mjml';
    const dir = templatesWith(file, (s) =>
      s.replace('<mj-text>{{{body}}}', '<mj-text foo="bar">{{{body}}}'),
    );
    const cli = await runBuilt('dist/cli/cli.js', ['campaigns'], { ...env, TEMPLATES_DIR: dir });
    expect(cli).toEqual({
      code: 1,
      stdout: '',
      stderr: `Invalid template: ${file}:${lineOf(dir, file, 'foo="bar"')}: MJML <mj-text>: Attribute foo is illegal\n`,
    });
  });
});
