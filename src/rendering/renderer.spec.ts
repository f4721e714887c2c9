import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCampaigns, TemplateError, type Campaign } from '../campaigns/index.js';
import { campaignFacts, joinedBy, sampleContext, type RenderContext } from './render-context.js';
import { MAX_SMS_SEGMENTS, Renderer } from './renderer.js';
import { countSegments } from './sms-segments.js';

const TEMPLATES = join(process.cwd(), 'templates');
const MAIN = 'upper-back-relief';
const DEMO = 'upper-back-relief-demo';

/** A subscriber who joined on the website: no clinic, every optional sender field empty. */
const plainContext = (overrides: Partial<RenderContext> = {}): RenderContext =>
  sampleContext({
    firstName: 'there',
    sender: {
      name: 'Selfcare Drip',
      isClinic: false,
      chiropractor: null,
      phone: null,
      bookingUrl: null,
      replyTo: null,
      address: '1 Example Street, Springfield',
    },
    joined: joinedBy('web-form'),
    ...overrides,
  });

let campaigns: Campaign[];
let renderer: Renderer;
let steps: { key: string; index: number }[];
let root: string;
let counter = 0;

beforeAll(async () => {
  campaigns = loadCampaigns(TEMPLATES);
  renderer = await Renderer.create(TEMPLATES, campaigns);
  steps = campaigns.find((c) => c.id === MAIN)!.steps.map((s, index) => ({ key: s.key, index }));
  root = mkdtempSync(join(tmpdir(), 'renderer-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const stepIndex = (key: string) => steps.find((s) => s.key === key)!.index;
const contexts: [string, () => RenderContext][] = [
  ['a clinic subscriber', () => sampleContext()],
  ['a website subscriber', () => plainContext()],
];

describe('every shipped step carries the safety guidance', () => {
  it('has seven steps in the shipped campaign', () => {
    expect(steps.map((s) => s.key)).toEqual([
      'welcome',
      'stress',
      'foam-roller',
      'exercises',
      'massage',
      'heat',
      'wrap-up',
    ]);
  });

  it.each(contexts)('in the email html and text, for %s', (_who, ctx) => {
    for (const campaignId of [MAIN, DEMO]) {
      for (const { key, index } of steps) {
        const c = ctx();
        const email = renderer.renderEmail(campaignId, index, c);
        for (const body of [email.html, email.text]) {
          const where = `${campaignId}/${key}`;
          expect([where, /chest pain/i.test(body)]).toEqual([where, true]);
          expect([where, /shortness of breath/i.test(body)]).toEqual([where, true]);
          expect([where, /arm, neck or jaw/i.test(body)]).toEqual([where, true]);
          expect([where, /call your local emergency number now/i.test(body)]).toEqual([
            where,
            true,
          ]);
          expect([where, /see a physician soon/i.test(body)]).toEqual([where, true]);
          expect([where, body.includes(c.links.unsubscribe)]).toEqual([where, true]);
          expect([where, body.includes(c.links.preferences)]).toEqual([where, true]);
          expect([where, body.includes(c.sender.address)]).toEqual([where, true]);
        }
        expect(email.html).toContain(`href="${c.links.unsubscribe}"`);
        expect(email.html).toMatch(/>Unsubscribe<\/a>/);
        expect(email.text).toContain(`Unsubscribe: ${c.links.unsubscribe}`);
        expect(email.subject.length).toBeGreaterThan(0);
        expect(email.subject).not.toMatch(/\s{2}|\n/);
        expect(email.html).toContain(`<title>${email.subject.replace(/'/g, '&#x27;')}</title>`);
        // No Handlebars placeholder is left over and nothing rendered as "undefined"/"null".
        expect(email.html).not.toMatch(/\{\{|\}\}|undefined|null/);
        expect(email.text).not.toMatch(/\{\{|\}\}|undefined|null/);
      }
    }
  });

  it.each(contexts)('in the SMS, for %s', (_who, ctx) => {
    for (const campaignId of [MAIN, DEMO]) {
      for (const { key, index } of steps) {
        const sms = renderer.renderSms(campaignId, index, ctx());
        const where = `${campaignId}/${key}`;
        expect([where, /emergency/i.test(sms.body)]).toEqual([where, true]);
        expect([where, /chest pain/i.test(sms.body)]).toEqual([where, true]);
        expect([where, /\bSTOP\b/.test(sms.body)]).toEqual([where, true]);
        expect(sms.body).not.toMatch(/\{\{|\}\}|undefined|null/);
      }
    }
  });

  it('shows the clinic in the email when the subscriber came through one', () => {
    const c = sampleContext();
    const email = renderer.renderEmail(MAIN, stepIndex('welcome'), c);
    expect(email.html).toContain(c.sender.name);
    expect(email.html).toContain(c.sender.phone!);
    expect(email.html).toContain(`href="${c.sender.bookingUrl!}"`);
    expect(email.html).toContain(`mailto:${c.sender.replyTo!}`);
    expect(email.text).toContain(c.sender.replyTo!);
    expect(email.text).toContain(c.sender.chiropractor!);
  });

  it('leaves out empty sender details for a website subscriber', () => {
    const email = renderer.renderEmail(MAIN, stepIndex('wrap-up'), plainContext());
    expect(email.html).not.toContain('tel:');
    expect(email.html).not.toContain('mailto:');
    expect(email.text).not.toMatch(/Phone:|Book an appointment|Book your follow-up/);
    expect(email.text).toContain('with your chiropractor');
    expect(email.text).toContain('on our website');
    expect(email.text).not.toMatch(/\n{3,}/);
  });
});

describe('SMS length and encoding', () => {
  it.each(contexts)('every shipped SMS is GSM-7 and at most 2 segments for %s', (_who, ctx) => {
    for (const campaignId of [MAIN, DEMO]) {
      for (const { key, index } of steps) {
        const sms = renderer.renderSms(campaignId, index, ctx());
        const info = countSegments(sms.body);
        expect({ key, encoding: sms.encoding, nonGsm: info.nonGsm }).toEqual({
          key,
          encoding: 'GSM-7',
          nonGsm: [],
        });
        expect({ key, segments: sms.segments }).toEqual({ key, segments: info.segments });
        expect({ key, twoAtMost: sms.segments <= 2 }).toEqual({ key, twoAtMost: true });
      }
    }
  });

  it("numbers each day from the context, after the clinic's name for a clinic's patient", () => {
    const step = { number: 6, total: 7 };
    const clinic = renderer.renderSms(MAIN, stepIndex('heat'), sampleContext({ step }));
    expect(clinic.body).toMatch(/^Riverside Chiropractic Co\., day 6: /);
    const own = renderer.renderSms(MAIN, stepIndex('heat'), plainContext({ step }));
    expect(own.body).toMatch(/^Day 6: /);
  });

  it('keeps the SMS plain: no trailing spaces, no blank-line runs, no outer whitespace', () => {
    for (const { index } of steps) {
      const { body } = renderer.renderSms(MAIN, index, sampleContext());
      expect(body).toBe(body.trim());
      expect(body).not.toMatch(/[ \t]\n|\n{3,}/);
    }
  });

  it('has the opt-in disclosures in the welcome SMS', () => {
    const { body } = renderer.renderSms(MAIN, stepIndex('welcome'), sampleContext());
    expect(body).toContain('Msg & data rates may apply');
    expect(body).toMatch(/\bHELP\b/);
    expect(body).toMatch(/\bSTOP\b/);
    expect(body).toContain(sampleContext().sender.name);
  });

  it('asks for a 0-10 pain score in the wrap-up SMS', () => {
    for (const [, ctx] of contexts) {
      const { body } = renderer.renderSms(MAIN, stepIndex('wrap-up'), ctx());
      expect(body).toMatch(/number 0-10/);
    }
  });
});

describe("a clinic's patient hears from the clinic", () => {
  const clinic = () => sampleContext();
  const bare = () => {
    const c = sampleContext();
    return sampleContext({
      sender: { ...c.sender, chiropractor: null, phone: null, bookingUrl: null },
    });
  };

  it.each([
    ['with every detail', clinic],
    ['with only a name, address and reply-to', bare],
  ])('names the clinic in every SMS, %s', (_what, ctx) => {
    for (const campaignId of [MAIN, DEMO]) {
      for (const { key, index } of steps) {
        const body = renderer.renderSms(campaignId, index, ctx()).body;
        const where = `${campaignId}/${key}`;
        expect([where, body.includes(ctx().sender.name)]).toEqual([where, true]);
      }
    }
    for (const key of ['confirm', 'sms-help', 'sms-stop', 'sms-start', 'sms-pain-thanks']) {
      const body = renderer.renderSystemSms(key, ctx(), { footer: false }).body;
      expect([key, body.includes(ctx().sender.name)]).toEqual([key, true]);
    }
  });

  it('names the chiropractor where the SMS speaks of one, and books with them', () => {
    const c = clinic();
    for (const key of ['welcome', 'exercises', 'wrap-up'])
      expect([key, renderer.renderSms(MAIN, stepIndex(key), c).body]).toEqual([
        key,
        expect.stringContaining('Dr. Lee'),
      ]);
    expect(renderer.renderSms(MAIN, stepIndex('exercises'), c).body).not.toMatch(
      /your chiropractor/,
    );
    expect(renderer.renderSms(MAIN, stepIndex('wrap-up'), c).body).toContain(
      'Book a follow-up with Dr. Lee: https://clinic.example/book.',
    );
    expect(renderer.renderSms(MAIN, stepIndex('wrap-up'), bare()).body).toContain(
      'Book a follow-up with us.',
    );
    const phoneOnly = sampleContext({ sender: { ...c.sender, bookingUrl: null } });
    expect(renderer.renderSms(MAIN, stepIndex('wrap-up'), phoneOnly).body).toContain(
      'Book a follow-up with Dr. Lee: call +1 555 010 0199.',
    );
  });

  it("keeps the opt-in disclosures in a clinic's SMS welcome", () => {
    const { body, segments } = renderer.renderSms(MAIN, stepIndex('welcome'), clinic());
    expect(body).toMatch(/^Dr\. Lee at Riverside Chiropractic Co\.: Welcome to Upper-Back Relief/);
    for (const words of [
      'up to 1 msg/day',
      'Msg & data rates may apply',
      'Reply HELP for help, STOP to opt out',
    ])
      expect(body).toContain(words);
    expect(segments).toBeLessThanOrEqual(2);
  });

  it('answers HELP with who sends and how to reach the clinic', () => {
    const help = renderer.renderSystemSms('sms-help', clinic(), { footer: false });
    expect(help.body).toBe(
      'Riverside Chiropractic Co.: Upper-Back Relief self-care tips from Dr. Lee, up to 1 msg/day. ' +
        'Questions? Call +1 555 010 0199 or email frontdesk@clinic.example. Not for emergencies. ' +
        'Msg & data rates may apply. Reply STOP to opt out.',
    );
    expect(help.segments).toBeLessThanOrEqual(2);
    expect(renderer.renderSystemSms('sms-help', bare(), { footer: false }).body).toContain(
      'Questions? Email frontdesk@clinic.example.',
    );
    // The service's own answer names no phone and no mailbox, as before clinics.
    const own = plainContext();
    expect(
      renderer.renderSystemSms(
        'sms-help',
        { ...own, sender: { ...own.sender, replyTo: 'help@drip.example' } },
        { footer: false },
      ).body,
    ).toBe(
      'Selfcare Drip: Upper-Back Relief self-care tips, up to 1 msg/day. Not for emergencies. ' +
        'Msg & data rates may apply. Reply STOP to opt out.',
    );
    expect(renderer.renderSystemSms('sms-stop', clinic(), { footer: false }).body).toContain(
      'Questions? Call +1 555 010 0199.',
    );
  });

  it("asks a clinic's patient to confirm in the clinic's name, not as a form signup", () => {
    const ctx = sampleContext({ joined: joinedBy('clinic-api', true) });
    const m = renderer.renderSystemEmail('confirm', ctx);
    expect(m.subject).toBe(
      'Please confirm: Upper-Back Relief tips from Riverside Chiropractic Co.',
    );
    for (const body of [m.html, m.text]) {
      expect(body).toMatch(
        /Dr\. Lee and the team at Riverside Chiropractic Co\. would like to send/,
      );
      expect(body).toContain('Riverside Chiropractic Co. gave us this address');
      expect(body).not.toMatch(/signup form|You asked to join|did not ask/);
      expect(body).toContain('12 River Road');
      expect(body).toMatch(/call your local emergency number now/i);
    }
    expect(renderer.renderSystemSms('confirm', ctx, { footer: true }).body).toMatch(
      /^Riverside Chiropractic Co\.: Reply YES to confirm Upper-Back Relief from Dr\. Lee: /,
    );
  });
});

describe('the words match how the person joined and what is sent', () => {
  const main = () => campaigns.find((c) => c.id === MAIN)!;
  const demo = () => campaigns.find((c) => c.id === DEMO)!;
  const everyEmail = (ctx: RenderContext) =>
    steps.flatMap(({ index }) => {
      const m = renderer.renderEmail(MAIN, index, ctx);
      return [m.html, m.text];
    });

  it('tells a person from the form that they signed up on the website', () => {
    for (const body of everyEmail(plainContext({ joined: joinedBy('web-form') })))
      expect(body).toMatch(/because you signed up for Upper-Back Relief on our website/);
  });

  it.each(['admin', 'cli', 'clinic-api'])(
    'never tells an enrolment from %s that it joined on the website',
    (source) => {
      for (const body of everyEmail(plainContext({ joined: joinedBy(source) }))) {
        expect(body).not.toMatch(/website/);
        expect(body).toMatch(/enrolled you/);
      }
    },
  );

  it('does not say "because you joined" in the confirmation, before the person has joined', () => {
    const ctx = plainContext({ joined: joinedBy('web-form', true) });
    const m = renderer.renderSystemEmail('confirm', ctx);
    for (const body of [m.html, m.text]) {
      expect(body).not.toMatch(/because you (joined|signed up)/);
      expect(body).toMatch(/this address was entered on the signup form/);
      expect(body).toMatch(/Nothing more is sent unless you confirm/);
    }
  });

  it('says STOP exactly once in every SMS', () => {
    const once = (where: string, body: string) =>
      expect([where, body.match(/\bSTOP\b/g)?.length]).toEqual([where, 1]);
    for (const [who, ctx] of contexts) {
      for (const campaignId of [MAIN, DEMO]) {
        for (const { key, index } of steps)
          once(`${who} ${campaignId}/${key}`, renderer.renderSms(campaignId, index, ctx()).body);
      }
      for (const footer of [true, false])
        once(`${who} confirm`, renderer.renderSystemSms('confirm', ctx(), { footer }).body);
    }
  });

  it('counts every message the programme sends: the welcome, the tips and the recap', () => {
    const facts = campaignFacts(main());
    expect(facts).toMatchObject({ days: 5, messages: 7, daily: true });
    const ctx = plainContext({ campaign: facts, joined: joinedBy('web-form', true) });
    const confirm = renderer.renderSystemEmail('confirm', ctx);
    for (const body of [confirm.html, confirm.text]) {
      expect(body).toMatch(
        /a welcome, then one short self-care tip a day for 5 days, then a recap/,
      );
      expect(body).toMatch(/7 messages in all, never more than one a day/);
    }
    expect(renderer.renderSystemSms('confirm', ctx, { footer: false }).body).toMatch(
      /7 msgs, up to 1 msg\/day/,
    );
    const welcome = renderer.renderEmail(
      MAIN,
      stepIndex('welcome'),
      plainContext({ campaign: facts }),
    );
    expect(welcome.text).toMatch(/then a short recap: 7 messages in all/);
    expect(
      renderer.renderSms(MAIN, stepIndex('welcome'), plainContext({ campaign: facts })).body,
    ).toMatch(/7 msgs, up to 1 msg\/day/);
  });

  it('does not promise a tip a day in the confirmation of a demo', () => {
    const ctx = plainContext({
      campaign: campaignFacts(demo()),
      joined: joinedBy('web-form', true),
    });
    const m = renderer.renderSystemEmail('confirm', ctx);
    expect(m.text).not.toMatch(/a day/);
    expect(m.text).toMatch(/a demonstration of the 7 messages/);
    expect(renderer.renderSystemSms('confirm', ctx, { footer: false }).body).not.toMatch(/day/);
  });
});

describe('escaping', () => {
  it.each(['<script>alert(1)</script>', 'Tom & "Jerry"'])(
    'escapes the name %s in html but shows it plainly in text',
    (name) => {
      const email = renderer.renderEmail(
        MAIN,
        stepIndex('welcome'),
        sampleContext({ firstName: name }),
      );
      expect(email.html).not.toContain(name);
      expect(email.html).not.toContain('<script>');
      const escaped = name
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;');
      expect(email.html).toContain(`Hi ${escaped},`);
      expect(email.text).toContain(`Hi ${name},`);
      expect(email.text).not.toContain('&amp;');
      expect(email.text).not.toContain('&lt;');
      expect(email.text).not.toContain('&quot;');
    },
  );

  it.each(['<b>Spine & Co</b>', 'Tom & "Jerry" Clinic'])(
    'escapes the sender name %s in html but not in SMS or text',
    (name) => {
      const base = sampleContext();
      const ctx = sampleContext({ sender: { ...base.sender, name } });
      const email = renderer.renderEmail(MAIN, stepIndex('welcome'), ctx);
      const sms = renderer.renderSms(MAIN, stepIndex('welcome'), ctx);
      expect(email.html).not.toContain(name);
      expect(email.html).toContain(
        name
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/"/g, '&quot;'),
      );
      expect(email.text).toContain(name);
      expect(sms.body).toContain(`${name}: Welcome`);
      expect(sms.body).not.toMatch(/&amp;|&lt;|&gt;|&quot;|&#/);
      expect(email.text).not.toMatch(/&amp;|&lt;|&gt;|&quot;|&#/);
    },
  );

  it('never lets a link in the context break out of its href', () => {
    const base = sampleContext();
    const ctx = sampleContext({
      links: { ...base.links, unsubscribe: 'https://x.example/u?a=1&b="><script>' },
    });
    const { html } = renderer.renderEmail(MAIN, 0, ctx);
    expect(html).not.toContain('"><script>');
    expect(html).toMatch(
      /href="https:\/\/x\.example\/u\?a(=|&#x3D;)1&amp;b(=|&#x3D;)&quot;&gt;&lt;script&gt;"/,
    );
  });
});

describe('unknown steps', () => {
  it('throws for a step or campaign that does not exist', () => {
    expect(() => renderer.renderEmail(MAIN, 99, sampleContext())).toThrow(/no step 99/);
    expect(() => renderer.renderSms('nope', 0, sampleContext())).toThrow(/nope/);
  });
});

describe('Renderer.create checks every template with sample data', () => {
  function copyTemplates(): string {
    const dir = join(root, `t${++counter}`);
    cpSync(TEMPLATES, dir, { recursive: true });
    return dir;
  }

  function edit(file: string, change: (source: string) => string): void {
    const before = readFileSync(file, 'utf8');
    const after = change(before);
    expect(after).not.toBe(before);
    writeFileSync(file, after);
  }

  async function createError(dir: string): Promise<TemplateError> {
    const loaded = loadCampaigns(dir);
    try {
      await Renderer.create(dir, loaded);
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      return err as TemplateError;
    }
    throw new Error('Renderer.create accepted broken templates');
  }

  const stepFile = (dir: string, key: string) => join(dir, 'campaigns', MAIN, `${key}.yaml`);

  it.each([
    ['email.html', (s: string) => s.replace('<p>Hi {{firstName}},</p>', '<p>Hi {{frist}},</p>')],
    ['email.text', (s: string) => s.replace(/^ {4}Hi \{\{firstName\}\},$/m, '    Hi {{frist}},')],
    [
      'email.subject',
      (s: string) => s.replace('{{campaign.name}}: what', '{{campaign.nmae}}: what'),
    ],
    [
      'email.preheader',
      (s: string) => s.replace('{{campaign.days}} days, and', '{{campagn.days}} days, and'),
    ],
    ['sms', (s: string) => s.replace('{{sender.name}}: Welcome', '{{sender.nmae}}: Welcome')],
  ])('rejects an unknown variable in %s, naming the file and field', async (field, change) => {
    const dir = copyTemplates();
    edit(stepFile(dir, 'welcome'), change);
    const err = await createError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'welcome.yaml'));
    expect(err.message).toContain(`field "${field}"`);
  });

  it('rejects an unknown variable inside a branch the sample data does not take', async () => {
    const dir = copyTemplates();
    edit(stepFile(dir, 'heat'), (s) =>
      s.replace('{{else}}Your chiropractor{{/if}}', '{{else}}Your {{chiropracter}}{{/if}}'),
    );
    const err = await createError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'heat.yaml'));
    expect(err.message).toContain('chiropracter');
  });

  it('rejects a Handlebars syntax error', async () => {
    const dir = copyTemplates();
    edit(stepFile(dir, 'stress'), (s) =>
      s.replace(' {{step.number}}: Stress', ' {{#if step.number}}: Stress'),
    );
    const err = await createError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'stress.yaml'));
    expect(err.message).toContain('field "sms"');
  });

  it('rejects an unknown variable in a layout', async () => {
    const dir = copyTemplates();
    edit(join(dir, 'layouts', 'sms.txt'), (s) =>
      s.replace('{{{body}}}', '{{{body}}} {{signature}}'),
    );
    const err = await createError(dir);
    expect(err.message).toContain('layouts/sms.txt');
  });

  it('rejects a missing layout', async () => {
    const dir = copyTemplates();
    rmSync(join(dir, 'layouts', 'email.txt'));
    const err = await createError(dir);
    expect(err.message).toContain('layouts/email.txt');
  });

  it(`rejects an SMS over ${MAX_SMS_SEGMENTS} segments with sample data`, async () => {
    const dir = copyTemplates();
    const filler = 'Keep moving gently every day and rest when you need to. '.repeat(9);
    edit(stepFile(dir, 'massage'), (s) =>
      s.replace(/^sms: \|\n {2}(.*)$/m, `sms: |\n  $1 ${filler}`),
    );
    const err = await createError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'massage.yaml'));
    expect(err.message).toContain('field "sms"');
    expect(err.message).toMatch(/segments/);
  });

  it('rejects an SMS that only goes over the limit because of UCS-2', async () => {
    const dir = copyTemplates();
    // A single curly apostrophe forces UCS-2: about 280 characters need 5 UCS-2 segments.
    edit(stepFile(dir, 'heat'), (s) => s.replace('never sleep on', 'don\u2019t ever sleep on'));
    const err = await createError(dir);
    expect(err.message).toContain(join('campaigns', MAIN, 'heat.yaml'));
    expect(err.message).toMatch(/segments/);
  });

  it(`accepts an SMS of exactly ${MAX_SMS_SEGMENTS} segments`, async () => {
    const dir = copyTemplates();
    const loaded = loadCampaigns(dir);
    const original = renderer.renderSms(MAIN, stepIndex('massage'), sampleContext()).body;
    const room = 153 * MAX_SMS_SEGMENTS - original.length;
    edit(stepFile(dir, 'massage'), (s) =>
      s.replace(/^sms: \|\n {2}(.*)$/m, `sms: |\n  $1${'x'.repeat(room)}`),
    );
    const fresh = loadCampaigns(dir);
    expect(fresh.length).toBe(loaded.length);
    const r = await Renderer.create(dir, fresh);
    expect(r.renderSms(MAIN, stepIndex('massage'), sampleContext()).segments).toBe(
      MAX_SMS_SEGMENTS,
    );
  });
});
