import { describe, expect, it } from '@jest/globals';
import type { Campaign } from './campaign.types.js';
import { stepAfter, stepToSend, strandedBy } from './step-order.js';

function campaign(id: string, keys: string[]): Campaign {
  return {
    id,
    name: id,
    description: '',
    audience: 'patients',
    cadence: { type: 'daily' },
    quietHours: true,
    steps: keys.map((key) => ({
      key,
      title: key,
      email: { subject: key, preheader: '', html: key, text: key },
      sms: key,
      file: `campaigns/${id}/${key}.yaml`,
      lines: {
        'email.subject': 3,
        'email.preheader': 4,
        'email.html': 6,
        'email.text': 9,
        sms: 12,
      },
    })),
    stepsListedAt: { file: `campaigns/${id}/campaign.yaml`, line: 8 },
  };
}

/** Every step a person gets from `waitingOn` on, as the scheduler would send them. */
function journey(c: Campaign, waitingOn: string | null, had: string[]): string[] {
  const got = new Set(had);
  const sent: string[] = [];
  let next = waitingOn;
  for (;;) {
    const step = stepToSend(c, next, got);
    if (!step) return sent;
    sent.push(step.key);
    next = stepAfter(c, step.key, got)?.key ?? null;
    got.add(step.key);
    if (next === null) return sent;
  }
}

describe('the next step, by key against the campaign as it stands', () => {
  const before = campaign('c', ['welcome', 'stress', 'foam', 'exercises', 'heat', 'wrap-up']);
  const after = campaign('c', ['welcome', 'heat', 'new', 'exercises', 'foam', 'stress', 'wrap-up']);

  it('a new enrolment starts with the first step', () => {
    expect(journey(before, null, [])).toEqual(before.steps.map((s) => s.key));
  });

  it('after a reorder, the step someone waits on still comes next, then the rest once each', () => {
    expect(journey(after, 'foam', ['welcome', 'stress'])).toEqual([
      'foam',
      'heat',
      'new',
      'exercises',
      'wrap-up',
    ]);
    expect(journey(after, 'stress', ['welcome'])).toEqual([
      'stress',
      'heat',
      'new',
      'exercises',
      'foam',
      'wrap-up',
    ]);
  });

  it('an enrolment from before keys were stored takes the first step it has not had', () => {
    expect(stepToSend(after, null, new Set(['welcome', 'stress']))?.key).toBe('heat');
  });

  it('a key that is gone, or already had, gives way to the first step not had', () => {
    expect(stepToSend(after, 'gone', new Set(['welcome']))?.key).toBe('heat');
    expect(stepToSend(after, 'heat', new Set(['welcome', 'heat']))?.key).toBe('new');
  });

  it('nothing is left once every step was had', () => {
    const all = new Set(after.steps.map((s) => s.key));
    expect(stepToSend(after, null, all)).toBeUndefined();
    expect(stepAfter(after, 'wrap-up', new Set([...all].filter((k) => k !== 'wrap-up')))).toBe(
      undefined,
    );
  });
});

describe('templates that would strand people', () => {
  const campaigns = [campaign('c', ['welcome', 'heat', 'wrap-up'])];

  it('accept steps that are listed, and enrolments waiting on no named step', () => {
    expect(
      strandedBy(campaigns, [
        { campaignId: 'c', stepKey: 'heat', enrollments: 4 },
        { campaignId: 'c', stepKey: null, enrollments: 9 },
      ]),
    ).toBeNull();
  });

  it('refuse a step that is gone, in one line naming campaign, key and count', () => {
    const err = strandedBy(campaigns, [{ campaignId: 'c', stepKey: 'stress', enrollments: 3 }]);
    expect(err?.message).toBe(
      'campaigns/c/campaign.yaml:8: field "steps": campaign "c" no longer lists step "stress", ' +
        'and 3 enrolments are waiting on it; put it back (a step is known by its file name, ' +
        'so renaming the file removes it) until nobody waits on it',
    );
  });

  it('refuse a campaign that is gone while people are in it, and count the other problems', () => {
    const err = strandedBy(campaigns, [
      { campaignId: 'old', stepKey: 'a', enrollments: 1 },
      { campaignId: 'old', stepKey: null, enrollments: 1 },
      { campaignId: 'c', stepKey: 'x', enrollments: 1 },
    ]);
    expect(err?.message).toMatch(/^campaigns\/c\/campaign.yaml:8: .*"x", and 1 enrolment is/);
    expect(err?.message).toMatch(/\(and 1 more like this\)$/);
    expect(
      strandedBy(campaigns, [{ campaignId: 'old', stepKey: null, enrollments: 2 }])?.message,
    ).toBe(
      'campaigns/old/campaign.yaml: campaign "old" is gone, and 2 enrolments are in it; ' +
        'put it back until they finish',
    );
  });
});
