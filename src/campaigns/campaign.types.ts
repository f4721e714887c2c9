import type { Cadence } from '../enrollments/schedule.js';

export interface EmailVariant {
  subject: string;
  preheader: string;
  html: string;
  text: string;
}

export interface CampaignStep {
  key: string;
  title: string;
  email: EmailVariant;
  sms: string;
  /** File the step came from, for error messages. */
  file: string;
}

export interface Campaign {
  id: string;
  name: string;
  description: string;
  audience: 'patients' | 'demo';
  cadence: Cadence;
  quietHours: boolean;
  steps: CampaignStep[];
}
