import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCampaigns } from '../src/campaigns/index.js';
import { ManualClock } from '../src/common/clock.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { ensureBuilt, runBuilt } from './support/built.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { REDIS_URL } from './support/env.js';
import { deliveriesOf, enrol } from './support/journey.js';
import { freePort } from './support/private-redis.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

// Issue 7, item 12: editing a campaign's list of steps must not shift anyone in flight.

const CAMPAIGN = 'edited';
const BEFORE = ['welcome', 'stress', 'foam-roller', 'exercises', 'massage', 'heat', 'wrap-up'];
// Reordered, and a new step inserted.
const AFTER = [
  'welcome',
  'heat',
  'posture',
  'massage',
  'exercises',
  'foam-roller',
  'stress',
  'wrap-up',
];

describe('a campaign whose steps are edited while people are in flight', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let t: TestApp | undefined;
  let dir: string;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2026-06-01T12:00:00Z'));

  /** The campaign's definition, with its steps in `order`: the demo's cadence, its content. */
  function writeCampaign(order: string[]): void {
    writeFileSync(
      join(dir, 'campaigns', CAMPAIGN, 'campaign.yaml'),
      [
        `id: ${CAMPAIGN}`,
        'name: Edited',
        'description: A campaign a test edits.',
        'audience: demo',
        'extends: upper-back-relief',
        'cadence:',
        '  type: interval',
        '  every: 10s',
        'quietHours: false',
        `steps: [${order.join(', ')}]`,
        '',
      ].join('\n'),
    );
  }

  const start = async () => {
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: { SMTP_URL: smtp.url, TEMPLATES_DIR: dir },
    });
  };
  const stop = async () => {
    await t?.close();
    t = undefined;
  };
  const mailsTo = (addr: string) =>
    smtp.messages.filter((m) => m.to && !Array.isArray(m.to) && m.to.value[0]?.address === addr);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    dir = mkdtempSync(join(tmpdir(), 'sd-edited-'));
    cpSync(resolve('templates'), dir, { recursive: true });
    mkdirSync(join(dir, 'campaigns', CAMPAIGN));
    // A new step, in the folder of the campaign the edited one extends.
    const heat = readFileSync(join(dir, 'campaigns', 'upper-back-relief', 'heat.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'campaigns', 'upper-back-relief', 'posture.yaml'),
      heat.replace(/^ {2}subject: .*$/m, '  subject: "Posture: one minute at your desk"'),
    );
    writeCampaign(BEFORE);
  });
  afterAll(async () => {
    await stop();
    await smtp?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each person the step they were waiting on next, then every other step once', async () => {
    await start();
    const ada = await enrol(t!, {
      campaign: CAMPAIGN,
      channel: 'email',
      email: 'ada@example.com',
      timezone: 'Europe/London',
    });
    await waitFor(() => mailsTo('ada@example.com').length === 1, 'the welcome to Ada');
    clock.advance(10_000);
    await waitFor(() => mailsTo('ada@example.com').length === 2, 'the stress tip to Ada');
    const bo = await enrol(t!, {
      campaign: CAMPAIGN,
      channel: 'email',
      email: 'bo@example.com',
      timezone: 'Europe/London',
    });
    await waitFor(() => mailsTo('bo@example.com').length === 1, 'the welcome to Bo');
    // Ada waits on foam-roller (position 2), Bo on stress (position 1). Edit, and restart.
    await stop();
    writeCampaign(AFTER);
    await start();

    for (let i = 1; i <= AFTER.length; i++) {
      clock.advance(10_000);
      await waitFor(
        () =>
          mailsTo('ada@example.com').length >= Math.min(2 + i, AFTER.length) &&
          mailsTo('bo@example.com').length >= Math.min(1 + i, AFTER.length),
        `round ${i} after the edit`,
      );
    }
    clock.advance(3600_000);
    expect((await t!.get(SchedulerService).runPass()).claimed).toBe(0);

    const expected = {
      [ada]: [
        'welcome',
        'stress',
        'foam-roller',
        'heat',
        'posture',
        'massage',
        'exercises',
        'wrap-up',
      ],
      [bo]: [
        'welcome',
        'stress',
        'heat',
        'posture',
        'massage',
        'exercises',
        'foam-roller',
        'wrap-up',
      ],
    };
    const subjects = new Map(
      loadCampaigns(dir)
        .find((c) => c.id === CAMPAIGN)!
        .steps.map((s) => [s.key, s.email.subject]),
    );
    for (const [id, address] of [
      [ada, 'ada@example.com'],
      [bo, 'bo@example.com'],
    ] as const) {
      const deliveries = await deliveriesOf(tdb.db, id);
      // The one they waited on came next, and every step of the campaign came once.
      expect(deliveries.map((d) => d.step_key)).toEqual(expected[id]);
      expect(deliveries.map((d) => d.step)).toEqual(AFTER.map((_, n) => n));
      expect(deliveries.every((d) => d.status === 'sent')).toBe(true);
      const mails = mailsTo(address);
      expect(mails.map((m) => m.messageId)).toEqual(deliveries.map((d) => d.provider_id));
      // Each message carries its own step's words, wherever the step has moved.
      deliveries.forEach((d, n) => {
        const subject = subjects.get(d.step_key)!;
        if (!subject.includes('{{')) expect(mails[n]!.subject).toBe(subject);
      });
    }
  });

  it('refuses to start, in one line, when a step someone waits on is removed', async () => {
    await stop();
    await start();
    const cy = await enrol(t!, {
      campaign: CAMPAIGN,
      channel: 'email',
      email: 'cy@example.com',
      timezone: 'Europe/London',
    });
    await waitFor(() => mailsTo('cy@example.com').length === 1, 'the welcome to Cy');
    await waitFor(
      async () => (await deliveriesOf(tdb.db, cy))[0]?.status === 'sent',
      'the welcome recorded as sent',
    );
    await stop();
    // Cy waits on heat, the step after the welcome: take it out.
    writeCampaign(AFTER.filter((k) => k !== 'heat'));

    ensureBuilt();
    const env = {
      TEMPLATES_DIR: dir,
      DATABASE_URL: tdb.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      PORT: String(await freePort()),
    };
    const line =
      `Invalid template: campaigns/${CAMPAIGN}/campaign.yaml:10: field "steps": ` +
      `campaign "${CAMPAIGN}" no longer lists step "heat", and 1 enrolment is waiting on it; ` +
      'put it back (a step is known by its file name, so renaming the file removes it) ' +
      'until nobody waits on it';
    const service = await runBuilt('dist/main.js', [], env);
    expect(service).toEqual({ code: 1, stdout: '', stderr: `${line}\n` });
    const check = await runBuilt('dist/cli/cli.js', ['campaigns', 'check'], env);
    expect(check.code).toBe(1);
    expect(check.stderr).toBe(`${line}\n`);

    // Put back, it starts; nothing was sent or changed meanwhile.
    writeCampaign(AFTER);
    const ok = await runBuilt('dist/cli/cli.js', ['campaigns', 'check'], env);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(await deliveriesOf(tdb.db, cy)).toHaveLength(1);
    // It builds the service first when the build is stale (a clean clone): tsc alone takes
    // most of a minute on two busy cores.
  }, 180_000);
});
