/** How often a campaign sends: every day at the person's time, or every fixed interval. */
export type Cadence = { type: 'daily' } | { type: 'interval'; everyMs: number };

export interface EmailVariant {
  subject: string;
  preheader: string;
  html: string;
  text: string;
}

/** The fields of a step file that are Handlebars templates. */
export type StepField = 'email.subject' | 'email.preheader' | 'email.html' | 'email.text' | 'sms';

/**
 * What a step asks besides its tip: the 0-10 pain score and/or the global rating of change.
 * From `checkIns` in campaign.yaml; absent on a step that asks nothing.
 */
export interface CheckIn {
  pain: boolean;
  rating: boolean;
}

export interface CampaignStep {
  key: string;
  checkIn?: CheckIn;
  title: string;
  email: EmailVariant;
  sms: string;
  /** File the step came from (relative to TEMPLATES_DIR), for error messages. */
  file: string;
  /** Line of that file where each field's text begins, for error messages. */
  lines: Record<StepField, number>;
}

export interface Campaign {
  id: string;
  name: string;
  description: string;
  audience: 'patients' | 'demo';
  cadence: Cadence;
  quietHours: boolean;
  steps: CampaignStep[];
  /** Where the list of steps is written (the base's campaign.yaml when it extends one). */
  stepsListedAt: { file: string; line: number };
}
