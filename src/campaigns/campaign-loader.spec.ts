import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCampaigns, TemplateError } from './campaign-loader.js';

const TEMPLATES = join(process.cwd(), 'templates');
const MAIN = 'upper-back-relief';
const DEMO = 'upper-back-relief-demo';
const STEP_KEYS = ['welcome', 'stress', 'foam-roller', 'exercises', 'massage', 'heat', 'wrap-up'];

let root: string;
let counter = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'campaign-loader-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh copy of the shipped templates that a test may break. */
function copyTemplates(): string {
  const dir = join(root, `t${++counter}`);
  cpSync(TEMPLATES, dir, { recursive: true });
  return dir;
}

const campaignFile = (dir: string, id: string) => join(dir, 'campaigns', id, 'campaign.yaml');
const stepFile = (dir: string, key: string) => join(dir, 'campaigns', MAIN, `${key}.yaml`);

function edit(file: string, change: (source: string) => string): void {
  const before = readFileSync(file, 'utf8');
  const after = change(before);
  expect(after).not.toBe(before); // the edit must actually change something
  writeFileSync(file, after);
}

function loadError(dir: string): TemplateError {
  try {
    loadCampaigns(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error('loadCampaigns accepted broken templates');
}

describe('the shipped templates', () => {
  const campaigns = loadCampaigns(TEMPLATES);
  const byId = new Map(campaigns.map((c) => [c.id, c]));

  it('load both campaigns', () => {
    expect(campaigns.map((c) => c.id).sort()).toEqual([MAIN, DEMO]);
  });

  it('send upper-back-relief daily to patients, respecting quiet hours', () => {
    const c = byId.get(MAIN)!;
    expect(c.name).toBe('Upper-Back Relief');
    expect(c.description.length).toBeGreaterThan(0);
    expect(c.cadence).toEqual({ type: 'daily' });
    expect(c.quietHours).toBe(true);
    expect(c.audience).toBe('patients');
    expect(c.steps.map((s) => s.key)).toEqual(STEP_KEYS);
  });

  it('send the demo every 10 seconds to the demo audience, ignoring quiet hours', () => {
    const c = byId.get(DEMO)!;
    expect(c.cadence).toEqual({ type: 'interval', everyMs: 10_000 });
    expect(c.quietHours).toBe(false);
    expect(c.audience).toBe('demo');
    expect(c.steps.map((s) => s.key)).toEqual(STEP_KEYS);
  });

  it('give the demo the same step content as the campaign it extends', () => {
    expect(byId.get(DEMO)!.steps).toEqual(byId.get(MAIN)!.steps);
  });

  it('fill every step with a title, both email bodies, a subject and a trimmed SMS', () => {
    for (const step of byId.get(MAIN)!.steps) {
      expect(step.file).toBe(join('campaigns', MAIN, `${step.key}.yaml`));
      expect(step.title.length).toBeGreaterThan(0);
      expect(step.email.subject.length).toBeGreaterThan(0);
      expect(typeof step.email.preheader).toBe('string');
      expect(step.email.html).toContain('<p>');
      expect(step.email.text.length).toBeGreaterThan(0);
      expect(step.sms).toBe(step.sms.trim());
      expect(step.sms.length).toBeGreaterThan(0);
    }
  });
});

describe('templates that load', () => {
  it('read other durations and default the audience, quiet hours and preheader', () => {
    const dir = copyTemplates();
    writeFileSync(
      campaignFile(dir, DEMO),
      [
        'id: upper-back-relief-demo',
        'name: Demo',
        'description: d',
        `extends: ${MAIN}`,
        'cadence:',
        '  type: interval',
        '  every: 2m',
        '',
      ].join('\n'),
    );
    edit(stepFile(dir, 'stress'), (s) => s.replace(/^ {2}preheader: .*\n/m, ''));
    const demo = loadCampaigns(dir).find((c) => c.id === DEMO)!;
    expect(demo.cadence).toEqual({ type: 'interval', everyMs: 120_000 });
    expect(demo.audience).toBe('patients');
    expect(demo.quietHours).toBe(true);
    expect(demo.steps.find((s) => s.key === 'stress')!.email.preheader).toBe('');
  });

  it('let an extending campaign pick its own subset of the base steps', () => {
    const dir = copyTemplates();
    edit(campaignFile(dir, DEMO), (s) => `${s}steps: [welcome, wrap-up]\n`);
    const demo = loadCampaigns(dir).find((c) => c.id === DEMO)!;
    expect(demo.steps.map((s) => s.key)).toEqual(['welcome', 'wrap-up']);
  });
});

describe('broken templates throw a TemplateError naming the file and the field', () => {
  it('invalid YAML', () => {
    const dir = copyTemplates();
    writeFileSync(stepFile(dir, 'heat'), 'title: Heat\nemail: [unclosed\n  subject: "x\n');
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'heat.yaml'));
  });

  it('invalid YAML in a campaign file', () => {
    const dir = copyTemplates();
    writeFileSync(campaignFile(dir, DEMO), 'id: upper-back-relief-demo\n  name: : :\n\t- oops');
    expect(loadError(dir).message).toContain(join('campaigns', DEMO, 'campaign.yaml'));
  });

  it('missing email.subject', () => {
    const dir = copyTemplates();
    edit(stepFile(dir, 'massage'), (s) => s.replace(/^ {2}subject: .*\n/m, ''));
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'massage.yaml'));
    expect(err.message).toContain('"email.subject"');
  });

  it('an over-long email.subject', () => {
    const dir = copyTemplates();
    edit(stepFile(dir, 'heat'), (s) =>
      s.replace(/^ {2}subject: .*$/m, `  subject: "${'x'.repeat(121)}"`),
    );
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'heat.yaml'));
    expect(err.message).toContain('"email.subject"');
  });

  it('a missing sms body', () => {
    const dir = copyTemplates();
    edit(stepFile(dir, 'exercises'), (s) => s.replace(/^sms: \|\n.*\n/m, ''));
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'exercises.yaml'));
    expect(err.message).toContain('"sms"');
  });

  it.each([
    ['an unknown cadence type', 'cadence:\n  type: weekly\n'],
    ['a duration without a unit', 'cadence:\n  type: interval\n  every: 10\n'],
    ['a duration in an unknown unit', 'cadence:\n  type: interval\n  every: 10w\n'],
    ['a duration under one second', 'cadence:\n  type: interval\n  every: 500ms\n'],
    ['an interval without a duration', 'cadence:\n  type: interval\n'],
  ])('bad cadence: %s', (_what, cadence) => {
    const dir = copyTemplates();
    edit(campaignFile(dir, DEMO), (s) => s.replace(/^cadence:\n(?: {2}.*\n)+/m, cadence));
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', DEMO, 'campaign.yaml'));
    expect(err.message).toMatch(/field "cadence(\.(type|every))?"/);
  });

  it('extends an unknown campaign', () => {
    const dir = copyTemplates();
    edit(campaignFile(dir, DEMO), (s) =>
      s.replace(`extends: ${MAIN}`, 'extends: lower-back-relief'),
    );
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', DEMO, 'campaign.yaml'));
    expect(err.message).toContain('"extends"');
    expect(err.message).toContain('lower-back-relief');
  });

  it('extends a campaign that itself extends another', () => {
    const dir = copyTemplates();
    mkdirSync(join(dir, 'campaigns', 'chained'));
    writeFileSync(
      campaignFile(dir, 'chained'),
      [
        'id: chained',
        'name: Chained',
        'description: d',
        `extends: ${DEMO}`,
        'cadence:',
        '  type: daily',
        '',
      ].join('\n'),
    );
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', 'chained', 'campaign.yaml'));
    expect(err.message).toContain('"extends"');
  });

  it('a step file is missing', () => {
    const dir = copyTemplates();
    unlinkSync(stepFile(dir, 'foam-roller'));
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'campaign.yaml'));
    expect(err.message).toContain('"steps"');
    expect(err.message).toContain(join('campaigns', MAIN, 'foam-roller.yaml'));
  });

  it('a step listed in the campaign that has no file', () => {
    const dir = copyTemplates();
    edit(campaignFile(dir, MAIN), (s) => s.replace('heat, wrap-up', 'heat, stretch, wrap-up'));
    const err = loadError(dir);
    expect(err.message).toContain('"steps"');
    expect(err.message).toContain('stretch');
  });

  it('id does not match the folder', () => {
    const dir = copyTemplates();
    edit(campaignFile(dir, MAIN), (s) => s.replace(`id: ${MAIN}\n`, 'id: upper-back\n'));
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'campaign.yaml'));
    expect(err.message).toContain('"id"');
    expect(err.message).toContain(MAIN);
  });

  it('an id that is not lower-case letters, digits and dashes', () => {
    const dir = copyTemplates();
    edit(campaignFile(dir, MAIN), (s) => s.replace(`id: ${MAIN}\n`, 'id: Upper_Back\n'));
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'campaign.yaml'));
    expect(err.message).toContain('"id"');
  });

  it('a duplicate step', () => {
    const dir = copyTemplates();
    edit(campaignFile(dir, MAIN), (s) =>
      s.replace('[welcome, stress,', '[welcome, stress, stress,'),
    );
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'campaign.yaml'));
    expect(err.message).toContain('"steps"');
    expect(err.message).toMatch(/twice/);
  });

  it('no steps and nothing to extend', () => {
    const dir = copyTemplates();
    edit(campaignFile(dir, MAIN), (s) => s.replace(/^steps: .*\n/m, ''));
    const err = loadError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'campaign.yaml'));
    expect(err.message).toContain('"steps"');
  });

  it('a folder without campaign.yaml', () => {
    const dir = copyTemplates();
    mkdirSync(join(dir, 'campaigns', 'empty'));
    expect(loadError(dir).message).toContain(join('campaigns', 'empty', 'campaign.yaml'));
  });

  it('no campaigns folder at all', () => {
    const dir = join(root, 'nothing-here');
    mkdirSync(dir);
    expect(loadError(dir).message).toMatch(/campaigns folder not found/);
  });
});
