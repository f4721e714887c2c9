import { readdirSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import type { Campaign, CampaignStep, CheckIn, StepField } from './campaign.types.js';
import { TemplateError } from './template-error.js';
import { YamlSource } from './yaml-source.js';

export { TemplateError };

const STEP_FIELDS: readonly StepField[] = [
  'email.subject',
  'email.preheader',
  'email.html',
  'email.text',
  'sms',
];

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 10s, 5m, 1h or 1d')
  .transform((v) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(v)!;
    const ms = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[unit as 'ms'];
    return Number(n) * ms;
  })
  .refine((ms) => ms >= 1000, 'must be at least 1s');

const stepKey = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a step named in "steps"');

// Which steps carry a check-in: `pain: {every: 7}` asks on the first step (the baseline), on
// every 7th step after it and on the last; or name the steps. `rating` names steps too.
const checkInsSchema = z.strictObject({
  pain: z
    .union([z.strictObject({ every: z.number().int().min(1).max(365) }), z.array(stepKey).min(1)])
    .optional(),
  rating: z.array(stepKey).min(1).optional(),
});

const definitionSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  name: z.string().min(1).max(60),
  description: z.string().min(1),
  audience: z.enum(['patients', 'demo']).default('patients'),
  extends: z.string().optional(),
  cadence: z.discriminatedUnion('type', [
    z.object({ type: z.literal('daily') }),
    z.object({ type: z.literal('interval'), every: duration }),
  ]),
  quietHours: z.boolean().default(true),
  steps: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a file name without .yaml'))
    .min(1)
    .optional(),
  checkIns: checkInsSchema.optional(),
});

const stepSchema = z.object({
  title: z.string().min(1),
  email: z.object({
    subject: z.string().min(1).max(120),
    preheader: z.string().max(200).default(''),
    html: z.string().min(1),
    text: z.string().min(1),
  }),
  sms: z.string().min(1),
});

/**
 * Reads every campaign under `<templatesDir>/campaigns/`. A broken file throws a
 * TemplateError naming the file and the field, which stops start-up.
 */
export function loadCampaigns(templatesDir: string): Campaign[] {
  const dir = join(templatesDir, 'campaigns');
  if (!existsSync(dir))
    throw new TemplateError(`${dir}: campaigns folder not found (TEMPLATES_DIR)`);
  const folders = readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isDirectory())
    .sort();
  const definitions = new Map<
    string,
    z.output<typeof definitionSchema> & { folder: string; yaml: YamlSource }
  >();
  for (const folder of folders) {
    const yaml = YamlSource.read(join(dir, folder, 'campaign.yaml'), templatesDir);
    const def = yaml.parseWith(definitionSchema);
    if (def.id !== folder) {
      throw new TemplateError({
        file: yaml.file,
        field: 'id',
        line: yaml.lineOf(['id']),
        reason: `must equal the folder name "${folder}"`,
      });
    }
    definitions.set(def.id, { ...def, folder: join(dir, folder), yaml });
  }

  const campaigns: Campaign[] = [];
  for (const def of definitions.values()) {
    const problem = (field: string, reason: string, path: (string | number)[] = [field]) =>
      new TemplateError({ file: def.yaml.file, field, line: def.yaml.lineOf(path), reason });
    let source = def;
    if (def.extends) {
      const base = definitions.get(def.extends);
      if (!base) throw problem('extends', `names unknown campaign "${def.extends}"`);
      if (base.extends) throw problem('extends', 'must name a campaign that extends nothing');
      source = base;
    }
    // The list of steps lives in this file, or in the base campaign's when it has none.
    const listedIn = def.steps ? def : source;
    const keys = listedIn.steps;
    if (!keys) throw problem('steps', 'is required unless "extends" is set');
    const twice = keys.findIndex((k, i) => keys.indexOf(k) !== i);
    if (twice >= 0) throw problem('steps', `lists "${keys[twice]}" twice`, ['steps', twice]);
    const steps: CampaignStep[] = keys.map((key, i) => {
      const file = join(source.folder, `${key}.yaml`);
      if (!existsSync(file)) {
        throw new TemplateError({
          file: listedIn.yaml.file,
          field: 'steps',
          line: listedIn.yaml.lineOf(['steps', i]),
          reason: `names "${key}" but ${relative(templatesDir, file)} is missing`,
        });
      }
      const yaml = YamlSource.read(file, templatesDir);
      const step = yaml.parseWith(stepSchema);
      const lines = Object.fromEntries(
        STEP_FIELDS.map((f) => [f, yaml.contentLine(f.split('.'))]),
      ) as Record<StepField, number>;
      return {
        key,
        title: step.title,
        email: step.email,
        sms: step.sms.trim(),
        file: yaml.file,
        lines,
      };
    });
    const checkIns = checkInsOf(
      listedIn.checkIns,
      keys,
      (field, reason, at) =>
        new TemplateError({
          file: listedIn.yaml.file,
          field,
          line: listedIn.yaml.lineOf(at),
          reason,
        }),
    );
    steps.forEach((s, i) => {
      if (checkIns[i]) s.checkIn = checkIns[i];
    });
    campaigns.push({
      id: def.id,
      name: def.name,
      description: def.description,
      audience: def.audience,
      cadence:
        def.cadence.type === 'daily'
          ? { type: 'daily' }
          : { type: 'interval', everyMs: def.cadence.every },
      quietHours: def.quietHours,
      steps,
      stepsListedAt: { file: listedIn.yaml.file, line: listedIn.yaml.lineOf(['steps']) },
    });
  }
  return campaigns;
}

/** The check-in each step carries (by position), from the definition's `checkIns`. */
function checkInsOf(
  def: z.output<typeof checkInsSchema> | undefined,
  keys: string[],
  problem: (field: string, reason: string, at: (string | number)[]) => TemplateError,
): (CheckIn | undefined)[] {
  const out: (CheckIn | undefined)[] = keys.map(() => undefined);
  const mark = (i: number, what: keyof CheckIn) => {
    out[i] = { pain: false, rating: false, ...out[i], [what]: true };
  };
  const named = (what: keyof CheckIn, list: string[]) =>
    list.forEach((key, n) => {
      const i = keys.indexOf(key);
      if (i < 0) {
        throw problem(`checkIns.${what}`, `names "${key}", which is not in "steps"`, [
          'checkIns',
          what,
          n,
        ]);
      }
      mark(i, what);
    });
  const pain = def?.pain;
  if (Array.isArray(pain)) named('pain', pain);
  else if (pain) {
    const { every } = pain;
    keys.forEach((_k, i) => {
      if (i % every === 0 || i === keys.length - 1) mark(i, 'pain');
    });
  }
  if (def?.rating) named('rating', def.rating);
  return out;
}
