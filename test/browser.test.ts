import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { ManualClock } from '../src/common/clock.js';
import { SchedulerService } from '../src/scheduler/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { accessibilityProblems, launchChromium } from './support/browser.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { linkPath, mailsTo } from './support/mail.js';
import { freePort } from './support/private-redis.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

describe('a person signs up, confirms, gets a tip and unsubscribes, in a real browser', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let t: TestApp;
  let browser: Browser;
  let base: string;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-04-01T12:00:00Z'));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: { SMTP_URL: smtp.url, PUBLIC_URL: base, SIGNUP_RATE_PER_MINUTE: '100' },
    });
    await t.app.listen(port, '127.0.0.1');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  it('walks the whole consent lifecycle', async () => {
    const page = await browser.newPage({
      viewport: { width: 390, height: 844 },
      timezoneId: 'America/Chicago',
    });
    await page.goto(`${base}/?campaign=upper-back-relief-demo`);
    // The script preselects the browser's own time zone; the person can still change it.
    expect(await page.locator('#timezone').inputValue()).toBe('America/Chicago');
    mkdirSync('var/screenshots', { recursive: true });
    await page.screenshot({ path: 'var/screenshots/signup.png', fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);

    // Submitting without consent shows the error next to the field, and keeps what was typed.
    await page.getByLabel('Your first name').fill('<b>Rosa</b> Parks'); // markup in the first word
    await page.getByLabel('Email', { exact: true }).check();
    await page.getByLabel(/Email address/).fill('rosa@example.com');
    await page.getByRole('button', { name: 'Send me the tips' }).click();
    await page.locator('.error-summary').waitFor();
    expect(await page.locator('.error-summary').innerText()).toMatch(/consent|tick the box/i);
    expect(await page.getByLabel(/Email address/).inputValue()).toBe('rosa@example.com');
    expect(await accessibilityProblems(page)).toEqual([]); // the form with its errors

    await page.locator('input[name=consent]').check();
    await page.getByRole('button', { name: 'Send me the tips' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();

    const confirm = await waitFor(
      () => mailsTo(smtp, 'rosa@example.com')[0],
      'the confirmation email',
    );
    await page.goto(`${base}${linkPath(confirm, 'confirm')}`);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('button', { name: 'Yes, start my tips' }).click();
    await page.getByRole('heading', { name: "You're in" }).waitFor();

    const welcome = await waitFor(
      () => mailsTo(smtp, 'rosa@example.com')[1],
      'the first message of the demo',
    );
    expect(welcome.html).toContain('&lt;b&gt;Rosa');
    expect(welcome.html).not.toContain('<b>Rosa');

    await page.goto(`${base}${linkPath(welcome, 'unsubscribe')}`);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: "You're unsubscribed" }).waitFor();
    await page.screenshot({ path: 'var/screenshots/unsubscribed.png' });

    // Time moves on through the rest of the demo: nothing more arrives.
    const scheduler = t.get(SchedulerService);
    for (let i = 0; i < 7; i++) {
      clock.advance(10_000);
      await scheduler.runPass();
    }
    const e = await tdb.db.selectFrom('enrollments').selectAll().executeTakeFirstOrThrow();
    expect(e).toMatchObject({ status: 'cancelled', cancel_reason: 'unsubscribe' });
    const queued = await tdb.db
      .selectFrom('deliveries')
      .select('status')
      .where('status', 'in', ['queued', 'sending'])
      .execute();
    expect(queued).toHaveLength(0);
    expect(mailsTo(smtp, 'rosa@example.com')).toHaveLength(2);
    await page.close();
  });

  it('lists every problem at once, and each one takes the person to its field', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel(/Email address/).fill('rosa@');
    await page.getByRole('button', { name: 'Send me the tips' }).click();
    const summary = page.locator('.error-summary');
    await summary.waitFor();
    // The summary has the focus, so a screen reader reads it first.
    expect(await page.evaluate('document.activeElement.id')).toBe('error-summary');
    expect(await summary.getByRole('link').allInnerTexts()).toEqual([
      'Email address: enter an address like name@example.com',
      'Your agreement: tick the box to agree to receive the messages',
    ]);
    expect(await page.title()).toMatch(/^Error: /);
    expect(await accessibilityProblems(page)).toEqual([]);
    await summary.getByRole('link', { name: /Email address/ }).click();
    expect(await page.evaluate('document.activeElement.id')).toBe('email');
    await summary.getByRole('link', { name: /Your agreement/ }).click();
    expect(await page.evaluate('document.activeElement.id')).toBe('consent');
    await page.close();
  });

  it('shows the "get care now" page when a red flag is ticked, and enrols no one', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('Text message (SMS)').check();
    await page.getByLabel(/Mobile number/).fill('+1 213 373 4299');
    await page.getByLabel('Chest pain, pressure or tightness').check();
    await page.locator('input[name=consent]').check();
    await page.getByRole('button', { name: 'Send me the tips' }).click();
    await page.getByRole('heading', { name: 'Please get emergency help now' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    for (const path of ['/terms', '/privacy']) {
      await page.goto(`${base}${path}`);
      expect(await accessibilityProblems(page)).toEqual([]);
    }
    const found = await tdb.db
      .selectFrom('subscribers')
      .select('id')
      .where('phone', '=', '+12133734299')
      .executeTakeFirst();
    expect(found).toBeUndefined();
    await page.close();
  });
});
