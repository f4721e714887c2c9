import type { Campaign, CampaignStep } from './campaign.types.js';
import { TemplateError } from './template-error.js';

/*
 * Enrolments name their next step by key, never by position, so editing a campaign's list
 * of steps cannot shift anyone in flight. The rule, as the campaign stands now:
 *   - the step an enrolment waits on goes next (if the person has not had it);
 *   - after it, the first step in the campaign's order that the person has not had.
 * Reordering thus keeps each person's next step and gives everyone every step once.
 */

/**
 * The step to send now. `waitingOn` null (a new enrolment, or one from before keys were
 * stored) or gone from the campaign: the first step the person has not had.
 */
export function stepToSend(
  campaign: Campaign,
  waitingOn: string | null,
  had: ReadonlySet<string>,
): CampaignStep | undefined {
  const named = campaign.steps.find((s) => s.key === waitingOn);
  if (named && !had.has(named.key)) return named;
  return campaign.steps.find((s) => !had.has(s.key));
}

/** The step after `sending`: the first in the campaign's order the person has not had. */
export function stepAfter(
  campaign: Campaign,
  sending: string,
  had: ReadonlySet<string>,
): CampaignStep | undefined {
  return campaign.steps.find((s) => s.key !== sending && !had.has(s.key));
}

/**
 * How many live enrolments (pending, active, paused) wait on a step, or have a message of
 * it queued. `stepKey` null: live enrolments of the campaign that wait on no named step.
 */
export interface StepInUse {
  campaignId: string;
  stepKey: string | null;
  enrollments: number;
}

/**
 * The templates as loaded would strand people: a step that live enrolments wait on is no
 * longer listed (removed, or renamed: a step is known by its file name), or a campaign with
 * live enrolments is gone. Returns the first such problem as a TemplateError, or null.
 */
export function strandedBy(
  campaigns: readonly Campaign[],
  inUse: readonly StepInUse[],
): TemplateError | null {
  const byId = new Map(campaigns.map((c) => [c.id, c]));
  const problems: TemplateError[] = [];
  const goneCampaigns = new Map<string, number>();
  for (const use of inUse) {
    const campaign = byId.get(use.campaignId);
    if (!campaign) {
      goneCampaigns.set(use.campaignId, (goneCampaigns.get(use.campaignId) ?? 0) + use.enrollments);
      continue;
    }
    if (use.stepKey === null || campaign.steps.some((s) => s.key === use.stepKey)) continue;
    problems.push(
      new TemplateError({
        file: campaign.stepsListedAt.file,
        line: campaign.stepsListedAt.line,
        field: 'steps',
        reason:
          `campaign "${campaign.id}" no longer lists step "${use.stepKey}", and ` +
          `${people(use.enrollments)} waiting on it; put it back (a step is known by its file ` +
          'name, so renaming the file removes it) until nobody waits on it',
      }),
    );
  }
  for (const [id, n] of goneCampaigns) {
    problems.push(
      new TemplateError({
        file: `campaigns/${id}/campaign.yaml`,
        reason: `campaign "${id}" is gone, and ${people(n)} in it; put it back until they finish`,
      }),
    );
  }
  const first = problems[0];
  if (!first) return null;
  if (problems.length === 1) return first;
  return new TemplateError({
    ...first.problem,
    reason: `${first.problem.reason} (and ${problems.length - 1} more like this)`,
  });
}

function people(n: number): string {
  return n === 1 ? '1 enrolment is' : `${n} enrolments are`;
}
