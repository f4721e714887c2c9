import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import request from 'supertest';
import { CampaignsService } from '../src/campaigns/index.js';
import { MessageComposer, SenderResolver } from '../src/links/index.js';
import { Renderer, sampleContext, type RenderContext } from '../src/rendering/index.js';
import { TokensService } from '../src/tokens/tokens.service.js';
import { ADMIN_TOKEN, dropPrefix, startApp, uniquePrefix, type TestApp } from './support/app.js';
import { launchChromium } from './support/browser.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { externalReferences } from './support/external-urls.js';
import { freePort } from './support/private-redis.js';

const PUBLIC_URL = 'https://drip.example';
const CLINIC = 'https://clinic.example';

/**
 * Opening a message or a page must not tell anyone else that this person read it: no web
 * fonts, no pixels, no scripts or styles from other hosts, no click tracking. Every message
 * and every page is rendered and scanned for URLs that leave PUBLIC_URL.
 */
describe('no third-party requests from messages and pages', () => {
  let tdb: TestDatabase;
  let t: TestApp;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    t = await startApp({
      databaseUrl: tdb.url,
      prefix,
      env: { ROLE: 'api', PUBLIC_URL, SIGNUP_RATE_PER_MINUTE: '1000' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await dropPrefix(prefix);
    await tdb?.drop();
  });

  const server = () => t.app.getHttpServer();
  const scan = (text: string) =>
    externalReferences(text, { origins: [PUBLIC_URL], linkOrigins: [CLINIC] });
  /** Links go straight where they say: our own pages, mail, phone, the clinic's booking page. */
  const rewrittenLinks = (html: string, ctx: RenderContext) =>
    [...html.matchAll(/<a\b[^>]*\bhref="([^"]*)"/gi)]
      .map((m) => m[1]!.replace(/&amp;/g, '&'))
      .filter(
        (href) =>
          !/^https:\/\/drip\.example\/(unsubscribe|preferences|confirm|warning-sign)\/[A-Za-z0-9_-]+$/.test(
            href,
          ) &&
          !/^(mailto|tel):/.test(href) &&
          href !== ctx.sender.bookingUrl,
      );

  /** Every step of every campaign and every system message, for a person from the form and
   *  an operator's enrolment, and with the clinic sample (phone, booking link, reply-to). */
  function everyMessage(): { where: string; text: string; ctx: RenderContext; html: boolean }[] {
    const renderer = t.app.get(Renderer);
    const composer = t.get(MessageComposer);
    const sender = t.get(SenderResolver).own();
    const out: { where: string; text: string; ctx: RenderContext; html: boolean }[] = [];
    const contexts = (
      campaign: Parameters<MessageComposer['context']>[0],
      step: number,
      extra: Parameters<MessageComposer['context']>[4] = {},
    ) => [
      ...(['email', 'sms'] as const).map((channel) =>
        composer.context(
          campaign,
          step,
          { subscriberId: randomUUID(), name: 'Sam', channel },
          sender,
          extra,
        ),
      ),
      sampleContext({ step: { number: step + 1, total: campaign.steps.length } }),
    ];
    const add = (where: string, ctx: RenderContext, email?: { html: string; text: string }) => {
      if (email) {
        out.push({ where: `${where} (html)`, text: email.html, ctx, html: true });
        out.push({ where: `${where} (text)`, text: email.text, ctx, html: false });
      }
    };
    for (const campaign of t.get(CampaignsService).list()) {
      campaign.steps.forEach((step, i) => {
        for (const ctx of contexts(campaign, i)) {
          const where = `${campaign.id}/${step.key}`;
          add(`${where} email`, ctx, renderer.renderEmail(campaign.id, i, ctx));
          out.push({
            where: `${where} sms`,
            text: renderer.renderSms(campaign.id, i, ctx).body,
            ctx,
            html: false,
          });
        }
      });
    }
    const campaign = t.get(CampaignsService).get('upper-back-relief')!;
    const systemKeys = readdirSync(`${t.config.templatesDir}/system`)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''));
    expect(systemKeys).toEqual(expect.arrayContaining(['confirm', 'sms-help', 'sms-stop']));
    for (const key of systemKeys) {
      for (const ctx of contexts(campaign, 0, { confirmFor: randomUUID(), score: 4 })) {
        try {
          add(`system/${key} email`, ctx, renderer.renderSystemEmail(key, ctx));
        } catch (err) {
          expect(String(err)).toMatch(/has no email variant/);
        }
        for (const footer of [true, false]) {
          try {
            const sms = renderer.renderSystemSms(key, ctx, { footer });
            out.push({ where: `system/${key} sms`, text: sms.body, ctx, html: false });
          } catch (err) {
            expect(String(err)).toMatch(/has no SMS variant/);
          }
        }
      }
    }
    return out;
  }

  it('renders every message with no URL outside PUBLIC_URL, no pixel and no rewritten link', () => {
    const messages = everyMessage();
    // 2 campaigns x 7 steps x 3 people x (html + text + sms), and the system messages.
    expect(messages.length).toBeGreaterThan(2 * 7 * 3 * 3);
    const problems = messages.flatMap(({ where, text, ctx, html }) => [
      ...scan(text).map((p) => `${where}: ${p}`),
      ...(html ? rewrittenLinks(text, ctx).map((href) => `${where}: link ${href}`) : []),
      ...(/<img\b/i.test(text) ? [`${where}: <img>`] : []),
    ]);
    expect(problems).toEqual([]);
    // The scan did see the links it let through.
    expect(messages.some((m) => m.text.includes(`${PUBLIC_URL}/unsubscribe/`))).toBe(true);
  });

  it('serves every public page with nothing from another host', async () => {
    const form = {
      name: 'Sam',
      channel: 'email',
      timezone: 'Europe/London',
      sendTime: '08:00',
      consent: 'on',
    };
    const pages: [string, string][] = [];
    const get = async (path: string, status = 200) => {
      const res = await request(server()).get(path).expect(status);
      pages.push([`GET ${path}`, res.text ?? String(res.body)]); // the icon comes as a Buffer
    };
    const post = async (path: string, body: object, status: number) => {
      const res = await request(server()).post(path).type('form').send(body).expect(status);
      pages.push([`POST ${path} ${JSON.stringify(body)}`, res.text]);
    };
    await get('/');
    await get('/embed');
    await get('/?campaign=upper-back-relief-demo');
    await post('/subscriptions', { ...form, email: 'nope' }, 400);
    await post('/subscriptions', { ...form, email: 'sam@example.com' }, 202);
    await post('/subscriptions', { ...form, email: 'sam@example.com', redFlags: 'chest' }, 200);
    await post('/subscriptions', { ...form, email: 'sam@example.com', redFlags: 'fever' }, 200);
    await get('/terms');
    await get('/privacy');

    const row = await tdb.db
      .selectFrom('enrollments as e')
      .innerJoin('subscribers as s', 's.id', 'e.subscriber_id')
      .select(['e.id as enrollmentId', 's.id as subscriberId'])
      .where('s.email', '=', 'sam@example.com')
      .executeTakeFirstOrThrow();
    const tokens = t.get(TokensService);
    await get(`/confirm/${tokens.issue('confirm', row.enrollmentId, 600)}`);
    await get(`/preferences/${tokens.issue('preferences', row.subscriberId, 600)}`);
    const unsubscribe = `/unsubscribe/${tokens.issue('unsubscribe', `${row.subscriberId}.email`, 600)}`;
    await get(unsubscribe);
    await post(unsubscribe, {}, 200);
    await get('/confirm/forged-token-forged-token-forged-token-forged', 400);
    await get('/?campaign=no-such-programme', 404);
    await get('/favicon.svg');

    const problems = pages.flatMap(([where, html]) => scan(html).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
    expect(pages).toHaveLength(16);
  });

  it('serves the queue dashboard (bull-board) with nothing from another host', async () => {
    const res = await request(server())
      .get('/admin/queues')
      .auth('operator', ADMIN_TOKEN)
      .expect(200);
    expect(res.text).toMatch(/<div id="root">/);
    expect(externalReferences(res.text, { origins: [PUBLIC_URL] })).toEqual([]);
    // And should a later bull-board add one, the browser refuses to fetch it.
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
  });

  it('makes a real browser fetch nothing from another host, the queue dashboard included', async () => {
    const port = await freePort();
    await t.app.listen(port, '127.0.0.1');
    const base = `http://127.0.0.1:${port}`;
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({
        httpCredentials: { username: 'operator', password: ADMIN_TOKEN },
      });
      const page = await context.newPage();
      const requested: string[] = [];
      const refused: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
      });
      for (const path of ['/', '/terms', '/privacy', '/admin/queues']) {
        await page.goto(`${base}${path}`, { waitUntil: 'networkidle' });
      }
      // bull-board's own scripts ran: the page shows its queues.
      await page.getByText('email', { exact: true }).first().waitFor();
      expect(requested.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith('data:'))).toEqual(
        [],
      );
      expect(requested.some((u) => u.includes('/admin/queues/static/'))).toBe(true);
      expect(refused).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('the scan itself', () => {
  const scan = (text: string) =>
    externalReferences(text, { origins: [PUBLIC_URL], linkOrigins: [CLINIC] });

  it.each([
    ['a web font', '<link href="https://fonts.googleapis.com/css?family=Roboto" rel="stylesheet">'],
    ['an import', '<style>@import url(https://fonts.googleapis.com/css?family=Roboto);</style>'],
    ['a CSS url()', '<div style="background:url(//cdn.example/b.png)"></div>'],
    ['a script', '<script src="https://cdn.example/x.js"></script>'],
    ['a pixel', '<img src="https://track.example/open.gif" width="1" height="1">'],
    ['a clinic image', `<img src="${CLINIC}/logo.png">`],
    ['a srcset', `<img srcset="/a.png 1x, https://cdn.example/a@2x.png 2x">`],
    ['a rewritten link', '<a href="https://click.example/r?u=https%3A%2F%2Fdrip.example">x</a>'],
    ['a plain-text URL', 'Read more at https://elsewhere.example/page.'],
  ])('catches %s', (_what, text) => {
    expect(scan(text)).not.toEqual([]);
  });

  it('lets through our own URLs, namespaces, mail, phone and the clinic booking link', () => {
    expect(
      scan(
        `<html xmlns="http://www.w3.org/1999/xhtml" xmlns:v="urn:schemas-microsoft-com:vml">` +
          `<a href="${PUBLIC_URL}/unsubscribe/abc">u</a> <a href="mailto:a@b.example">m</a>` +
          `<a href="tel:+15550100199">t</a> <a href="${CLINIC}/book">b</a>` +
          `<link rel="icon" href="/favicon.svg"> <img src="data:image/png;base64,AAAA">` +
          `<script>// a comment, not a URL</script> Unsubscribe: ${PUBLIC_URL}/unsubscribe/x`,
      ),
    ).toEqual([]);
  });
});
