import { Inject, Injectable } from '@nestjs/common';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import { InvalidInput, invalidFields } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { ClinicsService } from '../clinics/index.js';
import { SenderResolver } from '../links/index.js';
import type { Answer } from './answer.js';
import { ClinicLogos } from './clinic-logos.js';
import { SignupAnswers, type ClinicPage } from './signup-answers.js';
import {
  formErrors,
  redFlagsTicked,
  signupProblems,
  withDefaultChannel,
  type FieldError,
} from './signup-form.js';
import { withoutEmpty } from './signup.dto.js';
import { SignupService, type RequestMeta, type SignupOutcome } from './signup.service.js';

const DEFAULT_CAMPAIGN = 'upper-back-relief';

/** A clinic found by its page's slug: its page, still without the logo, and where that is. */
type ClinicFound = ClinicPage & { logoUrl: string | null };

/** The fields a form shown again keeps as they were typed. */
const KEPT_FIELDS = ['name', 'channel', 'email', 'phone', 'timezone', 'sendTime'];

/**
 * The public signup pages' rules: which campaign a form may offer, what a post answers (the
 * form again with every problem, a call to get care, or "check your inbox"), and the confirm
 * link's two steps. SignupService does the signing up; SignupAnswers draws the pages.
 */
@Injectable()
export class SignupPagesService {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly campaigns: CampaignsService,
    private readonly signup: SignupService,
    private readonly answers: SignupAnswers,
    private readonly clinics: ClinicsService,
    private readonly senders: SenderResolver,
    private readonly logos: ClinicLogos,
  ) {}

  /** The signup form for `?campaign=` (the default one when absent), or 404 if not offered. */
  form(campaignId: unknown, embed: boolean, clinic?: ClinicPage): Answer {
    const campaign = this.offered(campaignId ?? DEFAULT_CAMPAIGN);
    if (!campaign) return this.answers.notOffered();
    return this.answers.form(campaign, embed, clinic);
  }

  /** A clinic's own signup page (`/c/<slug>`): the same form under its name, or a 404 page. */
  async clinicForm(slug: string, campaignId: unknown, embed: boolean): Promise<Answer> {
    const clinic = await this.clinic(slug);
    if (!clinic) return this.answers.noSuchClinic();
    // Framed, the page has no header: the clinic's own site around it shows the logo.
    return this.form(campaignId, embed, embed ? clinic : await this.withLogo(clinic));
  }

  /** A signup posted to a clinic's page: as the public form's, for that clinic's programme. */
  async clinicSubscribe(
    slug: string,
    body: unknown,
    meta: RequestMeta,
    json: boolean,
  ): Promise<Answer> {
    const clinic = await this.clinic(slug);
    if (!clinic) return this.answers.noSuchClinic();
    return this.subscribe(body, meta, json, clinic);
  }

  /**
   * A signup posted as a form or JSON. A warning sign comes before any other problem: someone
   * with chest pain needs to hear "call now", not "choose a time zone". Nobody is enrolled
   * either way. Bad input is InvalidInput for a JSON client and the form again for a person.
   */
  async subscribe(
    body: unknown,
    meta: RequestMeta,
    json: boolean,
    clinic?: ClinicFound,
  ): Promise<Answer> {
    const raw = withDefaultChannel((withoutEmpty(body) ?? {}) as Record<string, unknown>);
    const flags = redFlagsTicked(raw);
    if (flags.length > 0) return this.answers.getCare(flags, json);
    const { input, errors } = signupProblems(raw, (i) => this.campaignProblems(i.campaign ?? ''));
    if (!input) {
      if (json) throw invalidFields(errors);
      return this.formAgain(raw, errors, clinic);
    }
    let outcome: SignupOutcome;
    try {
      outcome = await this.signup.subscribe(input, meta, clinic);
    } catch (err) {
      if (json || !(err instanceof InvalidInput)) throw err;
      return this.formAgain(raw, err.errors, clinic);
    }
    if (outcome.kind === 'get-care') return this.answers.getCare(outcome.flags, json);
    return this.answers.checkConfirmation(outcome.channel, json);
  }

  /** The confirm link's page: a button, never a change (mail scanners open every link). */
  async confirmPage(token: string): Promise<Answer> {
    const found = await this.signup.confirmable(token);
    if (found.state === 'invalid') return this.answers.badConfirmLink();
    if (found.state === 'already') return this.answers.confirmed('already');
    const campaign = this.campaigns.get(found.campaignId);
    const from = found.clinicId ? (await this.senders.resolve(found.clinicId)).name : null;
    return this.answers.confirmButton(
      token,
      campaign?.name ?? 'the programme',
      found.channel,
      from,
    );
  }

  /** The confirm page's button: a person's action. */
  async confirm(token: string, meta: RequestMeta): Promise<Answer> {
    const state = await this.signup.confirm(token, meta);
    if (state === 'invalid') return this.answers.badConfirmLink();
    return this.answers.confirmed(state);
  }

  /** The campaign a form offers, or undefined: unknown, or a demo in production. */
  private offered(id: unknown): Campaign | undefined {
    const campaign = typeof id === 'string' ? this.campaigns.get(id) : undefined;
    if (!campaign || this.campaignProblems(campaign.id).length > 0) return undefined;
    return campaign;
  }

  private campaignProblems(id: string): FieldError[] {
    const campaign = this.campaigns.get(id);
    if (!campaign) return [{ field: 'campaign', message: `unknown campaign "${id}"` }];
    if (campaign.audience === 'demo' && this.config.env === 'production') {
      return [
        { field: 'campaign', message: `"${id}" is a demo and is not offered for signup here` },
      ];
    }
    return [];
  }

  /** The clinic a page's slug names; its logo is loaded only for a page that shows it. */
  private async clinic(slug: string): Promise<ClinicFound | undefined> {
    const c = await this.clinics.findBySlug(slug);
    if (!c) return undefined;
    const sender = await this.senders.resolve(c.id);
    return {
      id: c.id,
      slug: c.slug,
      name: c.name,
      sender: sender.name,
      chiropractor: c.chiropractor_name,
      logo: null,
      logoUrl: c.logo_url,
    };
  }

  private async withLogo(clinic: ClinicFound): Promise<ClinicPage> {
    return { ...clinic, logo: await this.logos.inline(clinic.logoUrl) };
  }

  /** The form again (400) with every problem listed and what was typed kept. */
  private async formAgain(
    raw: Record<string, unknown>,
    errors: readonly FieldError[],
    clinic?: ClinicFound,
  ): Promise<Answer> {
    const values = Object.fromEntries(
      Object.entries(raw).filter(([k, v]) => KEPT_FIELDS.includes(k) && typeof v === 'string'),
    );
    const campaign =
      this.offered(raw.campaign ?? DEFAULT_CAMPAIGN) ??
      this.offered(DEFAULT_CAMPAIGN) ??
      this.campaigns.list()[0]!;
    const page = clinic && (await this.withLogo(clinic));
    return this.answers.formAgain(campaign, values, formErrors(errors), page);
  }
}
