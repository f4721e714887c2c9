import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Campaign, CampaignStep } from './campaign.types.js';

export class TemplateError extends Error {}

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 10s, 5m, 1h or 1d')
  .transform((v) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(v)!;
    const ms = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[unit as 'ms'];
    return Number(n) * ms;
  })
  .refine((ms) => ms >= 1000, 'must be at least 1s');

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

function readYaml(file: string, root: string): unknown {
  try {
    return YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TemplateError(`${relative(root, file)}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  file: string,
  root: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || '(file)';
  throw new TemplateError(`${relative(root, file)}: field "${field}" ${issue.message}`);
}

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
    z.output<typeof definitionSchema> & { folder: string; file: string }
  >();
  for (const folder of folders) {
    const file = join(dir, folder, 'campaign.yaml');
    if (!existsSync(file)) throw new TemplateError(`${relative(templatesDir, file)}: missing`);
    const def = parse(definitionSchema, readYaml(file, templatesDir), file, templatesDir);
    if (def.id !== folder) {
      throw new TemplateError(
        `${relative(templatesDir, file)}: field "id" must equal the folder name "${folder}"`,
      );
    }
    definitions.set(def.id, { ...def, folder: join(dir, folder), file });
  }

  const campaigns: Campaign[] = [];
  for (const def of definitions.values()) {
    const rel = relative(templatesDir, def.file);
    let source = def;
    if (def.extends) {
      const base = definitions.get(def.extends);
      if (!base)
        throw new TemplateError(`${rel}: field "extends" names unknown campaign "${def.extends}"`);
      if (base.extends)
        throw new TemplateError(
          `${rel}: field "extends" must name a campaign that extends nothing`,
        );
      source = base;
    }
    const keys = def.steps ?? source.steps;
    if (!keys) throw new TemplateError(`${rel}: field "steps" is required unless "extends" is set`);
    if (new Set(keys).size !== keys.length)
      throw new TemplateError(`${rel}: field "steps" lists a step twice`);
    const steps: CampaignStep[] = keys.map((key) => {
      const file = join(source.folder, `${key}.yaml`);
      if (!existsSync(file))
        throw new TemplateError(
          `${rel}: field "steps" names "${key}" but ${relative(templatesDir, file)} is missing`,
        );
      const step = parse(stepSchema, readYaml(file, templatesDir), file, templatesDir);
      return {
        key,
        title: step.title,
        email: step.email,
        sms: step.sms.trim(),
        file: relative(templatesDir, file),
      };
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
    });
  }
  return campaigns;
}
