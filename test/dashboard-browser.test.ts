import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import twilio from 'twilio';
import { ManualClock } from '../src/common/clock.js';
import { LinksService } from '../src/links/index.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { launchChromium } from './support/browser.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.js';
import { recipientOf } from './support/mail.js';
import { freePort } from './support/private-redis.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { waitFor } from './support/wait.js';

const axeSource = readFileSync(
  new URL('../node_modules/axe-core/axe.min.js', import.meta.url),
  'utf8',
);

/** axe-core's serious and critical findings (WCAG 2.1 A and AA) on the page. */
async function seriousProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate<string[]>(`(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.impact + ' ' + v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
  })()`);
}

/**
 * The clinic admin's day, in Debian's Chromium against the whole service (API, workers and
 * scheduler in one process, real SMTP, the Twilio fake): sign in by the emailed link, import
 * 50 patients of whom 3 are wrong and fetch the report of those, pause one, see a pain chart
 * once scores come in, and acknowledge a red flag. Every page passes axe-core.
 */
describe('clinic dashboard in a real browser', () => {
  let tdb: TestDatabase;
  let smtp: SmtpSink;
  let fake: FakeTwilio;
  let t: TestApp;
  let browser: Browser;
  let base: string;
  const prefix = uniquePrefix();
  const clock = new ManualClock(new Date('2030-06-01T16:00:00Z'));
  const checked: string[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    smtp = await startSmtpSink();
    fake = await startFakeTwilio();
    const port = await freePort();
    base = `http://localhost:${port}`;
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      clock,
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL: base,
        TWILIO_ACCOUNT_SID: fake.accountSid,
        TWILIO_AUTH_TOKEN: fake.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_URL: fake.url,
      },
    });
    await t.app.listen(port, '127.0.0.1');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.close();
    await fake?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const api = () => request(t.app.getHttpServer());
  const inbound = (from: string, body: string) => {
    const params = {
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      AccountSid: fake.accountSid,
      From: from,
      To: '+15005550006',
      Body: body,
    };
    const signature = twilio.getExpectedTwilioSignature(
      fake.authToken,
      `${base}/webhooks/twilio/inbound`,
      params,
    );
    return api()
      .post('/webhooks/twilio/inbound')
      .type('form')
      .set('X-Twilio-Signature', signature)
      .send(new URLSearchParams(params).toString())
      .expect(200);
  };

  /** Checks the page with axe-core and keeps a screenshot of it. */
  async function accessible(page: Page, name: string) {
    mkdirSync('var/screenshots', { recursive: true });
    await page.screenshot({ path: `var/screenshots/dashboard-${name}.png`, fullPage: true });
    expect([name, await seriousProblems(page)]).toEqual([name, []]);
    checked.push(name);
  }

  function csv(): { text: string; bad: number[] } {
    const header =
      'name,phone,channel,timezone,sendTime,externalId,consentMethod,consentObtainedAt,consentCollectedBy';
    const lines = [header];
    const bad: number[] = [];
    for (let i = 0; i < 50; i++) {
      const row = lines.length + 1; // the spreadsheet's row number (header = 1)
      let phone = `+1213376${String(1000 + i)}`;
      let zone = 'America/New_York';
      if (i === 7) phone = '4.15555E+10';
      if (i === 21) phone = '12';
      if (i === 33) zone = 'Mars/Olympus';
      if (i === 7 || i === 21 || i === 33) bad.push(row);
      lines.push(
        `"Patient ${i}, Jr",${phone},sms,${zone},08:30,chart-${i},written,2030-06-01T10:00:00Z,Front desk`,
      );
    }
    return { text: `\uFEFF${lines.join('\r\n')}\r\n`, bad };
  }

  /** From the sign-in page: asks for a link, opens it from the email, presses Sign in. */
  async function signIn(page: Page, check = false) {
    const before = smtp.messages.length;
    await page.getByLabel('Work email').fill('lead@harbour.example');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const mail = await waitFor(
      () =>
        smtp.messages
          .slice(before)
          .find(
            (m) => recipientOf(m) === 'lead@harbour.example' && /Sign in to/.test(m.subject ?? ''),
          ),
      'the sign-in mail',
    );
    const link = /(http:\/\/localhost:\d+\/clinic\/sign-in\/[A-Za-z0-9_-]+)/.exec(
      mail.text ?? '',
    )![1]!;
    await page.goto(link);
    if (check) await accessible(page, 'sign-in-link');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  }

  it('signs in, imports, pauses, charts and triages', async () => {
    const clinic = await api()
      .post('/api/v1/admin/clinics')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({
        name: 'Harbour Chiropractic',
        timezone: 'America/New_York',
        senderName: 'Harbour Chiropractic',
        replyTo: 'desk@harbour.example',
        phone: '+12125550123',
        postalAddress: '1 Quay St, Portland, ME 04101',
        bookingUrl: 'https://harbour.example/book',
        consentMode: 'attested',
      })
      .expect(201);
    const clinicId = clinic.body.id as string;
    await api()
      .post(`/api/v1/admin/clinics/${clinicId}/staff`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ email: 'lead@harbour.example', name: 'Morgan Reyes', role: 'admin' })
      .expect(201);

    // A tablet. bypassCSP: only so that axe-core can be added to our pages, which allow no script.
    const page = await browser.newPage({ viewport: { width: 820, height: 1180 }, bypassCSP: true });
    // Sign in: ask for a link, open it from the email, press Sign in.
    await page.goto(`${base}/clinic`);
    expect(page.url()).toBe(`${base}/clinic/sign-in`);
    await accessible(page, 'sign-in');
    await signIn(page, true);
    await accessible(page, 'overview-empty');

    // Import 50 rows, 3 of them wrong; watch it finish; download the report of the 3.
    await page.getByRole('link', { name: 'Import', exact: true }).click();
    await accessible(page, 'imports');
    const file = csv();
    await page.setInputFiles('#file', {
      name: 'patients.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(file.text),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('heading', { name: /Import: patients\.csv/ }).waitFor();
    await page.getByText('Finished.').waitFor({ timeout: 60_000 });
    await accessible(page, 'import-progress');
    expect(await page.locator('.stats').innerText()).toMatch(
      /47\s+enrolled[\s\S]*3\s+rows with a problem/,
    );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: /Download the rows with problems/ }).click(),
    ]);
    const report = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(report[0]).toMatch(/^row,error,/);
    expect(report.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(file.bad);
    expect(report.join('\n')).toMatch(/scientific|Excel/i);

    // The patients: find one, open it, pause it (after the page asks).
    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await page.getByText(/^47 patients/).waitFor();
    await accessible(page, 'patients');
    await page.getByLabel('Search').fill('chart-4');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('link', { name: 'Patient 4, Jr' }).click();
    await page.getByRole('heading', { name: 'Patient 4, Jr' }).waitFor();
    await accessible(page, 'patient');
    await page.getByRole('link', { name: 'Pause' }).click();
    await accessible(page, 'confirm-pause');
    await page.getByRole('button', { name: 'Yes, pause' }).click();
    await page.getByText(/^Paused\. No more tips/).waitFor();
    const patientUrl = page.url().replace(/\?.*$/, '');
    const enrollmentId = patientUrl.split('/').pop()!;
    const row = await tdb.db
      .selectFrom('enrollments')
      .innerJoin('subscribers', 'subscribers.id', 'enrollments.subscriber_id')
      .select(['enrollments.status', 'subscribers.phone'])
      .where('enrollments.id', '=', enrollmentId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('paused');

    // Scores arrive by text: 3 now, 6 eight days later (outside the first check-in's window,
    // so kept as a score of its own). The session has ended meanwhile: sign in again.
    await inbound(row.phone!, '3');
    clock.advance(8 * 86_400_000);
    await inbound(row.phone!, '6');
    await page.goto(patientUrl);
    expect(page.url()).toBe(`${base}/clinic/sign-in`);
    await signIn(page);
    await page.goto(patientUrl);
    await page.locator('.chart svg').waitFor();
    expect(await page.getByText(/Worse by 2 points or more/).count()).toBeGreaterThan(0);
    await accessible(page, 'patient-with-scores');

    // A red flag from another patient: the triage queue, then acknowledged with a note.
    const other = await tdb.db
      .selectFrom('enrollments')
      .innerJoin('subscribers', 'subscribers.id', 'enrollments.subscriber_id')
      .select(['subscribers.phone', 'subscribers.name'])
      .where('enrollments.external_id', '=', 'chart-9')
      .executeTakeFirstOrThrow();
    // The page behind the warning-sign link in every email (looked at, not sent).
    const sub = await tdb.db
      .selectFrom('subscribers')
      .select('id')
      .where('phone', '=', other.phone)
      .executeTakeFirstOrThrow();
    const look = await browser.newPage({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    await look.goto(t.get(LinksService).warningSignUrl(sub.id));
    await look.getByRole('heading', { name: 'Do you have one of these signs now?' }).waitFor();
    await accessible(look, 'warning-sign-link');
    await look.close();

    await inbound(other.phone!, 'I have chest pain and feel sweaty');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByText(/1 red-flag reply is waiting/).waitFor();
    await accessible(page, 'overview');
    await page.getByRole('link', { name: 'Triage' }).first().click();
    await page.getByText('Patient 9, Jr').waitFor();
    await accessible(page, 'triage');
    await page.getByLabel('What was done').fill('Called; she is on her way to the ER.');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByRole('heading', { name: 'Open (0)' }).waitFor();
    expect(await page.getByText('Called; she is on her way to the ER.').count()).toBe(1);
    await accessible(page, 'triage-done');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await accessible(page, 'audit');
    expect(await page.locator('table').innerText()).toMatch(
      /triage\.acknowledged[\s\S]*patient\.paused/,
    );
    await page.getByRole('link', { name: 'Staff', exact: true }).click();
    await accessible(page, 'staff');

    // Webhooks: add an endpoint (its secret is shown once), then the confirm page to remove it.
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await accessible(page, 'webhooks');
    await page.getByLabel('Address (URL)').fill('http://127.0.0.1:9/hooks/selfcare');
    await page.getByLabel('A patient reported a warning sign', { exact: false }).uncheck();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: /copy the secret now/ }).waitFor();
    expect(await page.getByLabel(/Signing secret for/).inputValue()).toMatch(/^whsec_/);
    await accessible(page, 'webhooks-secret');
    await page.getByRole('link', { name: 'Remove http://127.0.0.1:9/hooks/selfcare' }).click();
    await page.getByRole('heading', { name: 'Remove this endpoint?' }).waitFor();
    await accessible(page, 'confirm-webhook');

    // The remaining pages: each "are you sure?" page, and an error page.
    const held = await tdb.db
      .selectFrom('enrollments')
      .select('id')
      .where('external_id', '=', 'chart-9')
      .executeTakeFirstOrThrow();
    await page.goto(`${base}/clinic/patients/${held.id}/lift-hold`);
    await page.getByRole('heading', { name: 'Lift the safety hold?' }).waitFor();
    await accessible(page, 'confirm-lift');
    const active = await tdb.db
      .selectFrom('enrollments')
      .select('id')
      .where('external_id', '=', 'chart-12')
      .executeTakeFirstOrThrow();
    const d = await waitFor(
      () =>
        tdb.db
          .selectFrom('deliveries')
          .select('id')
          .where('enrollment_id', '=', active.id)
          .executeTakeFirst(),
      'a delivery of chart-12',
    );
    await tdb.db
      .updateTable('deliveries')
      .set({ status: 'failed', error: 'carrier refused' })
      .where('id', '=', d.id)
      .execute();
    await page.goto(`${base}/clinic/patients/${active.id}`);
    await page.getByRole('link', { name: 'Send again' }).click();
    await page.getByRole('heading', { name: 'Send this message again?' }).waitFor();
    await accessible(page, 'confirm-resend');
    await page.goto(`${base}/clinic/patients/${active.id}/erase`);
    await page.getByRole('heading', { name: 'Erase this patient?' }).waitFor();
    await accessible(page, 'confirm-erase');
    await page.goto(`${base}/clinic/patients/${active.id}/cancel`);
    await accessible(page, 'confirm-cancel');
    await page.goto(`${base}/clinic/patients/00000000-0000-4000-8000-000000000000`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await accessible(page, 'not-found');

    // A phone-sized screen: the patients page still fits (tables scroll inside their box).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/clinic/patients`);
    await accessible(page, 'patients-phone');
    const overflow = await page.evaluate<boolean>(
      'document.documentElement.scrollWidth > document.documentElement.clientWidth',
    );
    expect(overflow).toBe(false);
    expect(checked.length).toBeGreaterThanOrEqual(21);
  }, 180_000);
});
