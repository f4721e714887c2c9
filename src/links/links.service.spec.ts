import { beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../common/index.js';
import { loadConfig } from '../config/index.js';
import { TokensService } from '../tokens/index.js';
import { CONFIRM_TTL_SECONDS, LINK_TTL_SECONDS, LinksService } from './links.service.js';

const PERSON = '3f2b8c1e-7d4a-4e2b-9c61-0a5d7e8f9b10';
const CLINIC = 'b7e4d2a0-1c3f-4a5b-8d6e-9f0a1b2c3d4e';
const DAY_MS = 24 * 3600 * 1000;

let clock: ManualClock;
let tokens: TokensService;
let links: LinksService;

beforeEach(() => {
  clock = new ManualClock(new Date('2026-03-01T08:00:00Z'));
  const config = loadConfig({ APP_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://drip.example/' });
  tokens = new TokensService(config, clock);
  links = new LinksService(config, tokens);
});

const tokenOf = (url: string, page: string) => {
  const m = new RegExp(`^https://drip\\.example/${page}/([A-Za-z0-9_-]+)$`).exec(url);
  if (!m) throw new Error(`not a ${page} link: ${url}`);
  return m[1]!;
};

describe('LinksService', () => {
  it('opens an unsubscribe token sent before clinics, for 400 days', () => {
    const old = tokens.issue('unsubscribe', `${PERSON}.sms`, LINK_TTL_SECONDS);
    clock.advance(399 * DAY_MS);
    expect(links.openUnsubscribe(old)).toEqual({
      subscriberId: PERSON,
      channel: 'sms',
      clinicId: null,
    });
    clock.advance(2 * DAY_MS);
    expect(links.openUnsubscribe(old)).toBeNull();
  });

  it('opens the unsubscribe link it builds, with the clinic', () => {
    const target = { subscriberId: PERSON, channel: 'email' as const, clinicId: CLINIC };
    expect(links.openUnsubscribe(tokenOf(links.unsubscribeUrl(target), 'unsubscribe'))).toEqual(
      target,
    );
  });

  it('opens nothing from a sealed subject that is not a target', () => {
    expect(links.openUnsubscribe(tokens.issue('unsubscribe', PERSON, 60))).toBeNull();
    expect(links.openUnsubscribe(tokens.issue('preferences', `${PERSON}.email`, 60))).toBeNull();
  });

  it('builds preferences links that open for the person, as a URL or a path', () => {
    expect(links.openPreferences(tokenOf(links.preferencesUrl(PERSON), 'preferences'))).toBe(
      PERSON,
    );
    const path = links.preferencesPath(PERSON);
    expect(path).toMatch(/^\/preferences\/[A-Za-z0-9_-]+$/);
    expect(links.openPreferences(path.slice('/preferences/'.length))).toBe(PERSON);
  });

  it('builds confirm links that last three days', () => {
    const token = tokenOf(links.confirmUrl(PERSON), 'confirm');
    clock.advance(CONFIRM_TTL_SECONDS * 1000 - 1000);
    expect(tokens.verify('confirm', token)).toBe(PERSON);
    clock.advance(2000);
    expect(tokens.verify('confirm', token)).toBeNull();
  });
});
