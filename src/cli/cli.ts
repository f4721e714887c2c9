import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { checkStepsInUse, prepareDatabase } from '../bootstrap.js';
import { loadCampaigns, TemplateError } from '../campaigns/index.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { createDb } from '../database/index.js';
import { createEnrollmentSchema, EnrollmentsService } from '../enrollments/index.js';
import { campaignFacts, Renderer, sampleContext } from '../rendering/index.js';
import { ZodPipe } from '../common/index.js';
import { importCommand } from './import-command.js';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  preview <campaign> <step> --channel email|sms [--html]
      Print a rendered message with sample data. <step> is a number (1 = first) or a step key.
  enroll --campaign <id> --channel email|sms (--email <addr> | --phone <+E.164>)
         --timezone <IANA zone> [--name <name>] [--send-time HH:MM] [--country US]
      Enrol a person, as POST /api/v1/admin/enrollments does.
  campaigns [check]
      Check every template and list the campaigns and their steps. With "check", also make
      sure no live enrolment waits on a step (or is in a campaign) the templates no longer
      have, as start-up does.
  migrate
      Create the database if needed and apply migrations.
  import <file.csv> --clinic <slug or id> [--dry-run] [--campaign <id>]
      Import a clinic's patients from a CSV file (see docs/imports.md), with a progress bar.
`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function preview(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { channel: { type: 'string' }, html: { type: 'boolean' } },
  });
  const [campaignId, stepArg] = positionals;
  if (!campaignId || !stepArg) fail(`preview needs <campaign> and <step>\n\n${USAGE}`);
  const channel = values.channel ?? 'email';
  if (channel !== 'email' && channel !== 'sms') fail('--channel must be email or sms');
  const config = loadConfig();
  const campaigns = loadCampaigns(config.templatesDir);
  const campaign =
    campaigns.find((c) => c.id === campaignId) ??
    fail(`unknown campaign "${campaignId}" (known: ${campaigns.map((c) => c.id).join(', ')})`);
  const index = /^\d+$/.test(stepArg)
    ? Number(stepArg) - 1
    : campaign.steps.findIndex((s) => s.key === stepArg);
  if (index < 0 || index >= campaign.steps.length) {
    fail(
      `unknown step "${stepArg}": use 1-${campaign.steps.length} or one of ${campaign.steps.map((s) => s.key).join(', ')}`,
    );
  }
  const renderer = await Renderer.create(config.templatesDir, campaigns);
  const ctx = sampleContext({
    campaign: campaignFacts(campaign),
    step: { number: index + 1, total: campaign.steps.length },
  });
  if (channel === 'email') {
    const m = renderer.renderEmail(campaign.id, index, ctx);
    console.log(`Subject: ${m.subject}\n`);
    console.log(values.html ? m.html : m.text);
  } else {
    const m = renderer.renderSms(campaign.id, index, ctx);
    console.log(m.body);
    console.log(
      `\n(${m.body.length} characters, ${m.segments} segment${m.segments === 1 ? '' : 's'}, ${m.encoding})`,
    );
  }
}

async function enroll(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      campaign: { type: 'string' },
      channel: { type: 'string' },
      email: { type: 'string' },
      phone: { type: 'string' },
      country: { type: 'string' },
      name: { type: 'string' },
      timezone: { type: 'string' },
      'send-time': { type: 'string' },
    },
  });
  const { 'send-time': sendTime, ...rest } = values;
  const input = new ZodPipe(createEnrollmentSchema).transform({
    ...rest,
    ...(sendTime ? { sendTime } : {}),
  });
  const config = { ...loadConfig(), role: 'api' as const };
  await prepareDatabase(config, loadCampaigns(config.templatesDir));
  // As in main.ts: a template error while building the app is one line, not Nest's stack.
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: ['error', 'warn'],
    bufferLogs: true,
    autoFlushLogs: false,
    abortOnError: false,
  });
  app.flushLogs();
  try {
    console.log(JSON.stringify(await app.get(EnrollmentsService).enroll(input, 'cli'), null, 2));
  } finally {
    await app.close();
  }
}

async function campaigns(args: string[]): Promise<void> {
  const [sub] = args;
  if (sub !== undefined && sub !== 'check')
    fail(`campaigns takes no argument but "check"\n\n${USAGE}`);
  const config = loadConfig();
  const list = loadCampaigns(config.templatesDir);
  // Rendering every template with sample data finds what loading alone cannot (Handlebars,
  // MJML, overlong SMS), as start-up does.
  await Renderer.create(config.templatesDir, list);
  for (const c of list) {
    const cadence = c.cadence.type === 'daily' ? 'daily' : `every ${c.cadence.everyMs / 1000}s`;
    console.log(`${c.id} (${c.audience}, ${cadence}): ${c.steps.map((s) => s.key).join(' > ')}`);
  }
  if (sub !== 'check') return;
  const db = createDb(config.databaseUrl, 1);
  try {
    await checkStepsInUse(db, list);
  } finally {
    await db.destroy();
  }
  console.log('no live enrolment waits on a step or campaign these templates lack');
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  switch (command) {
    case 'preview':
      return preview(args);
    case 'enroll':
      return enroll(args);
    case 'campaigns':
      return campaigns(args);
    case 'import': {
      const code = await importCommand(args);
      if (code !== 0) process.exit(code);
      return;
    }
    case 'migrate': {
      const applied = await prepareDatabase(loadConfig());
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      return;
    }
    default:
      console.log(USAGE);
      if (command && command !== 'help' && command !== '--help') process.exit(2);
  }
}

main().catch((err: unknown) => {
  if (err instanceof TemplateError) console.error(`Invalid template: ${err.message}`);
  else if (err instanceof ConfigError) console.error(err.message);
  else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
