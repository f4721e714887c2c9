import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { LinksService } from '../src/links/index.js';
import { dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { accessibilityProblems, launchChromium } from './support/browser.js';
import { countRows, createTestDatabase, type TestDatabase } from './support/db.js';
import { externalReferences } from './support/external-urls.js';
import { freePort } from './support/private-redis.js';

/** A 1×1 PNG: the clinic's logo, served by the clinic's own (fake) site. */
const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * A clinic's own signup page (`/c/<slug>`) and the unsubscribe link in a clinic's email: the
 * page is the public form under the clinic's name; the link stops that clinic's programme and
 * offers to stop everything.
 */
describe("a clinic's signup page and its email unsubscribe", () => {
  let tdb: TestDatabase;
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let clinicSite: Server;
  let clinicOrigin: string;
  const logoRequests: string[] = [];
  const prefix = uniquePrefix();
  const clinics: Record<'riverside' | 'harbour', string> = { riverside: '', harbour: '' };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    // The clinic's website: its logo, and a page of its own that frames our form.
    const sitePort = await freePort();
    clinicOrigin = `http://127.0.0.1:${sitePort}`;
    clinicSite = createServer((req, res) => {
      if (req.url === '/logo.png') {
        logoRequests.push(req.headers['user-agent'] ?? '');
        res.writeHead(200, { 'Content-Type': 'image/png' }).end(LOGO);
      } else if (req.url === '/join.html') {
        res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end(
            `<!doctype html><title>Riverside</title><h1>Join our tips</h1>` +
              `<iframe title="Signup" src="${base}/c/riverside/embed" width="600" height="1400"></iframe>`,
          );
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => clinicSite.listen(sitePort, '127.0.0.1', r));

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      // The API alone: these tests are about pages and what they store, not sending.
      env: { ROLE: 'api', PUBLIC_URL: base, SIGNUP_RATE_PER_MINUTE: '1000' },
    });
    await t.app.listen(port, '127.0.0.1');
    const clinic = (slug: string, name: string, extra: object) =>
      tdb.db
        .insertInto('clinics')
        .values({
          slug,
          name,
          timezone: 'Europe/London',
          sender_name: name,
          reply_to: `desk@${slug}.example`,
          phone: '+44 20 7946 0000',
          postal_address: `1 ${name} Street, London`,
          booking_url: `https://${slug}.example/book`,
          chiropractor_name: null,
          logo_url: null,
          sms_from: null,
          ...extra,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    clinics.riverside = (
      await clinic('riverside', 'Riverside Chiropractic', {
        chiropractor_name: 'Dr. Lee',
        logo_url: `${clinicOrigin}/logo.png`,
      })
    ).id;
    clinics.harbour = (await clinic('harbour', 'Harbour Spine Clinic', {})).id;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise((r) => clinicSite?.close(r));
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const server = () => t.app.getHttpServer();
  const form = {
    name: 'Sam',
    channel: 'email',
    email: 'sam@example.com',
    timezone: 'Europe/London',
    sendTime: '08:00',
    consent: 'on',
    campaign: 'upper-back-relief',
  };
  const enrolments = (email: string) =>
    tdb.db
      .selectFrom('enrollments as e')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .selectAll('e')
      .where('s.email', '=', email)
      .orderBy('e.created_at')
      .execute();
  /** The person's live enrolments, by whose programme they are: a clinic's slug or "public". */
  const liveProgrammes = async (email: string) =>
    (await enrolments(email))
      .filter((e) => ['pending', 'active', 'paused'].includes(e.status))
      .map((e) =>
        e.clinic_id === clinics.riverside
          ? 'riverside'
          : e.clinic_id === clinics.harbour
            ? 'harbour'
            : e.clinic_id === null
              ? 'public'
              : e.clinic_id,
      )
      .sort();
  const subscriberId = async (email: string) =>
    (
      await tdb.db
        .selectFrom('subscribers')
        .select('id')
        .where('email', '=', email)
        .executeTakeFirstOrThrow()
    ).id;
  /** Signs up on a page (a clinic's slug, or the public form) and confirms by the link. */
  async function joinAndConfirm(where: 'riverside' | 'harbour' | 'public', email: string) {
    await request(server())
      .post(where === 'public' ? '/subscriptions' : `/c/${where}`)
      .type('form')
      .send({ ...form, email })
      .expect(202);
    const pending = (await enrolments(email)).find(
      (e) => e.status === 'pending' && e.clinic_id === (where === 'public' ? null : clinics[where]),
    );
    expect(pending).toBeDefined();
    const confirm = new URL(t.get(LinksService).confirmUrl(pending!.id)).pathname;
    await request(server()).post(confirm).expect(200);
  }
  const unsubscribePath = async (
    email: string,
    clinic: 'riverside' | 'harbour' | null,
  ): Promise<string> =>
    new URL(
      t.get(LinksService).unsubscribeUrl({
        subscriberId: await subscriberId(email),
        channel: 'email',
        clinicId: clinic && clinics[clinic],
      }),
    ).pathname;
  const suppressed = (address: string) =>
    tdb.db.selectFrom('suppressions').selectAll().where('address', '=', address).execute();
  const withdrawals = async (email: string) =>
    tdb.db
      .selectFrom('consent_events')
      .select(['clinic_id', 'source'])
      .where('subscriber_id', '=', await subscriberId(email))
      .where('kind', '=', 'withdrawn')
      .execute();

  it("shows the clinic's page under its name, chiropractor and logo, loading nothing from elsewhere", async () => {
    const res = await request(server()).get('/c/riverside').expect(200);
    expect(res.headers['content-security-policy']).toBe('frame-ancestors *');
    expect(res.text).toContain('<title>Join Upper-Back Relief · Riverside Chiropractic</title>');
    expect(res.text).toMatch(/<header class="site"><img class="logo" src="data:image\/png;base64,/);
    expect(res.text).toContain('These tips come from <strong>Riverside Chiropractic</strong>');
    expect(res.text).toContain('Dr. Lee');
    expect(res.text).toContain('<form method="post" action="/c/riverside"');
    // The consent words name the clinic as the sender.
    expect(res.text).toMatch(/I agree to receive [^<]* from Riverside Chiropractic by the channel/);
    // Same fields and red flags as the public form.
    for (const id of ['name', 'email', 'phone', 'timezone', 'sendTime', 'consent', 'website'])
      expect(res.text).toContain(`id="${id}"`);
    expect(res.text).toMatch(/name="redFlags" value="chest"/);
    // The logo came through our server: the page points at nothing outside PUBLIC_URL.
    expect(externalReferences(res.text, { origins: [base] })).toEqual([]);
    expect(logoRequests).toHaveLength(1);
    await request(server()).get('/c/riverside').expect(200);
    expect(logoRequests).toHaveLength(1); // kept, not fetched for every view

    const embed = await request(server()).get('/c/riverside/embed').expect(200);
    expect(embed.headers['content-security-policy']).toBe('frame-ancestors *');
    expect(embed.text).toContain('target="_top"');
    expect(embed.text).not.toContain('<header class="site">');

    // A clinic without a chiropractor or logo: its name, and no empty parts.
    const harbour = await request(server()).get('/c/harbour').expect(200);
    expect(harbour.text).toContain('<header class="site">Harbour Spine Clinic</header>');
    expect(harbour.text).not.toContain('can answer your questions');
  });

  it('answers a 404 page for a slug no clinic has', async () => {
    for (const path of ['/c/no-such-clinic', '/c/Bad%20Slug!', '/c/no-such-clinic/embed']) {
      const res = await request(server()).get(path).expect(404);
      expect(res.text).toMatch(/Page not found/);
      expect(res.text).not.toMatch(/<form/);
    }
    const post = await request(server())
      .post('/c/no-such-clinic')
      .type('form')
      .send({ ...form, email: 'nobody@example.com' })
      .expect(404);
    expect(post.text).toMatch(/Page not found/);
    expect(await countRows(tdb.db, 'subscribers')).toBe(0);
  });

  it('keeps the public form as it was: the service, its own words, its own address', async () => {
    const res = await request(server()).get('/').expect(200);
    const service = t.config.sender.name;
    expect(res.text).toContain(`<header class="site">${service}</header>`);
    expect(res.text).toContain('<form method="post" action="/subscriptions"');
    expect(res.text).toMatch(new RegExp(`I agree to receive [^<]* from ${service} by the channel`));
    expect(res.text).not.toMatch(/Riverside|Harbour Spine|Dr\. Lee|class="notice"|class="logo"/);
  });

  it("signs up through the clinic's page: pending with its id and words naming it, then confirmed", async () => {
    // Already in the public programme: the clinic's is another one, and is not refused.
    await joinAndConfirm('public', 'sam@example.com');
    const res = await request(server())
      .post('/c/riverside')
      .type('form')
      .set('User-Agent', 'clinic-page-test/1')
      .send(form)
      .expect(202);
    expect(res.text).toMatch(/Check your inbox/);
    const pending = (await enrolments('sam@example.com')).find((e) => e.status === 'pending');
    expect(pending).toMatchObject({ clinic_id: clinics.riverside, source: 'web-form' });
    const requested = await tdb.db
      .selectFrom('consent_events')
      .selectAll()
      .where('kind', '=', 'requested')
      .where('clinic_id', '=', clinics.riverside)
      .executeTakeFirstOrThrow();
    expect(requested).toMatchObject({
      subscriber_id: pending!.subscriber_id,
      source: 'web-form',
      text_version: 'signup-v2',
      user_agent: 'clinic-page-test/1',
    });
    expect(requested.text).toMatch(
      /^I agree to receive Upper-Back Relief from Riverside Chiropractic /,
    );

    // Sent again before confirming: the same pending enrolment, not a second one.
    await request(server()).post('/c/riverside').type('form').send(form).expect(202);
    expect(await liveProgrammes('sam@example.com')).toEqual(['public', 'riverside']);

    const confirm = new URL(t.get(LinksService).confirmUrl(pending!.id)).pathname;
    const page = await request(server()).get(confirm).expect(200);
    expect(page.text).toMatch(/start Upper-Back Relief from Riverside Chiropractic by email/);
    await request(server()).post(confirm).expect(200);
    const started = (await enrolments('sam@example.com')).find((e) => e.id === pending!.id);
    expect(started).toMatchObject({ status: 'active', clinic_id: clinics.riverside });
    const confirmed = await tdb.db
      .selectFrom('consent_events')
      .select('clinic_id')
      .where('kind', '=', 'confirmed')
      .where('subscriber_id', '=', pending!.subscriber_id)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(confirmed.clinic_id).toBe(clinics.riverside);

    await joinAndConfirm('harbour', 'sam@example.com');
    expect(await liveProgrammes('sam@example.com')).toEqual(['harbour', 'public', 'riverside']);
  });

  it("on the clinic's page, a warning sign enrols no one and a mistake keeps the clinic's form", async () => {
    const before = await countRows(tdb.db, 'enrollments');
    const care = await request(server())
      .post('/c/riverside')
      .type('form')
      .send({ ...form, email: 'flag@example.com', redFlags: 'chest' })
      .expect(200);
    expect(care.text).toMatch(/Please get emergency help now/);
    const again = await request(server())
      .post('/c/riverside')
      .type('form')
      .send({ ...form, email: 'flag@example.com', consent: undefined })
      .expect(400);
    expect(again.text).toContain('<form method="post" action="/c/riverside"');
    expect(again.text).toContain('These tips come from <strong>Riverside Chiropractic</strong>');
    expect(again.text).toMatch(/from Riverside Chiropractic by the channel/);
    expect(again.text).toContain('value="flag@example.com"');
    expect(await countRows(tdb.db, 'enrollments')).toBe(before);
  });

  it("stops only that clinic's emails from its unsubscribe link; a repeat changes nothing", async () => {
    const path = await unsubscribePath('sam@example.com', 'riverside');
    const page = await request(server()).get(path).expect(200);
    expect(page.text).toContain('Stop emails from Riverside Chiropractic?');
    expect(page.text).toMatch(
      /<form method="post" action="[^"]+">\s*<button[^>]*>Stop emails from Riverside Chiropractic</,
    );
    expect(page.text).toMatch(/name="scope" value="all">\s*<button[^>]*>Stop all emails from us</);
    expect(await liveProgrammes('sam@example.com')).toEqual(['harbour', 'public', 'riverside']);

    for (let i = 0; i < 2; i++) {
      const res = await request(server()).post(path).type('form').send({}).expect(200);
      expect(res.text).toContain('You will not get any more emails from Riverside Chiropractic.');
      expect(res.text).toMatch(/name="scope" value="all">\s*<button[^>]*>Stop all emails from us</);
      expect(await liveProgrammes('sam@example.com')).toEqual(['harbour', 'public']);
      expect(await suppressed('sam@example.com')).toEqual([]);
      expect(await withdrawals('sam@example.com')).toEqual([
        { clinic_id: clinics.riverside, source: 'unsubscribe-link' },
      ]);
    }
    const ended = (await enrolments('sam@example.com')).find(
      (e) => e.clinic_id === clinics.riverside,
    );
    expect(ended).toMatchObject({ status: 'cancelled', cancel_reason: 'unsubscribe' });
  });

  it('takes an RFC 8058 one-click POST as the clinic-only unsubscribe', async () => {
    const path = await unsubscribePath('sam@example.com', 'harbour');
    const res = await request(server())
      .post(path)
      .type('form')
      .send('List-Unsubscribe=One-Click')
      .expect(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers.location).toBeUndefined();
    expect(await liveProgrammes('sam@example.com')).toEqual(['public']);
    expect(await suppressed('sam@example.com')).toEqual([]);
    expect((await withdrawals('sam@example.com')).map((w) => w.clinic_id).sort()).toEqual(
      [clinics.harbour, clinics.riverside].sort(),
    );
  });

  it('stops everything from the "stop all emails" button: the address is suppressed', async () => {
    await joinAndConfirm('riverside', 'kim@example.com');
    await joinAndConfirm('harbour', 'kim@example.com');
    await joinAndConfirm('public', 'kim@example.com');
    const path = await unsubscribePath('kim@example.com', 'riverside');
    const res = await request(server()).post(path).type('form').send({ scope: 'all' }).expect(200);
    expect(res.text).toContain(`from ${t.config.sender.name}.`);
    expect(await liveProgrammes('kim@example.com')).toEqual([]);
    expect(await suppressed('kim@example.com')).toMatchObject([
      { channel: 'email', reason: 'unsubscribe-link' },
    ]);
    expect(await withdrawals('kim@example.com')).toEqual([
      { clinic_id: null, source: 'unsubscribe-link' },
    ]);
    // A repeat, either button: nothing more to stop, no second record.
    await request(server()).post(path).type('form').send({ scope: 'all' }).expect(200);
    expect(await withdrawals('kim@example.com')).toHaveLength(1);
  });

  it('leaves the public link as it was: one button, and it stops everything', async () => {
    await joinAndConfirm('public', 'lou@example.com');
    await joinAndConfirm('riverside', 'lou@example.com');
    const path = await unsubscribePath('lou@example.com', null);
    const page = await request(server()).get(path).expect(200);
    expect(page.text).toContain('Stop your email tips?');
    expect(page.text).not.toContain('name="scope"');
    await request(server()).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(await liveProgrammes('lou@example.com')).toEqual([]);
    expect(await suppressed('lou@example.com')).toHaveLength(1);
  });

  it("works in a real browser, framed by the clinic's site, and passes WCAG 2.1 AA", async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    mkdirSync('var/screenshots', { recursive: true });

    await page.goto(`${base}/c/riverside`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.locator('header.site').innerText()).toBe('Riverside Chiropractic');
    expect(
      await page
        .locator('header.site img.logo')
        .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBe(1);
    await page.screenshot({ path: 'var/screenshots/clinic-signup.png', fullPage: true });
    expect(await accessibilityProblems(page)).toEqual([]);

    // On the clinic's own site, in an iframe: the form loads and its answer opens in full.
    await page.goto(`${clinicOrigin}/join.html`);
    const frame = page.frameLocator('iframe');
    await frame.getByLabel(/Email address/).fill('ria@example.com');
    await frame.locator('input[name=consent]').check();
    await frame.getByRole('button', { name: 'Send me the tips' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    expect(page.url()).toBe(`${base}/c/riverside`);
    expect(await liveProgrammes('ria@example.com')).toEqual(['riverside']);
    // Only the clinic's page itself came from its host; the logo never did.
    expect(
      requested.filter((u) => u.startsWith(clinicOrigin) && !u.endsWith('/favicon.ico')),
    ).toEqual([`${clinicOrigin}/join.html`]);

    await joinAndConfirm('public', 'ria@example.com');
    const pending = (await enrolments('ria@example.com')).find((e) => e.status === 'pending')!;
    await request(server())
      .post(new URL(t.get(LinksService).confirmUrl(pending.id)).pathname)
      .expect(200);
    await page.goto(`${base}${await unsubscribePath('ria@example.com', 'riverside')}`);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: 'var/screenshots/clinic-unsubscribe.png', fullPage: true });
    await page.getByRole('button', { name: 'Stop emails from Riverside Chiropractic' }).click();
    await page.getByRole('heading', { name: "You're unsubscribed" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(await liveProgrammes('ria@example.com')).toEqual(['public']);
    await page.getByRole('button', { name: 'Stop all emails from us' }).click();
    await page.getByText(`from ${t.config.sender.name}.`).waitFor();
    expect(await liveProgrammes('ria@example.com')).toEqual([]);
    expect(await suppressed('ria@example.com')).toHaveLength(1);
    await page.close();
  });
});
