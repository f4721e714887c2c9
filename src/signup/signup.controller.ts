import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CampaignsService, type Campaign } from '../campaigns/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';
import { invalidFields } from '../common/index.js';
import { Inject } from '@nestjs/common';
import { consentText, consentVars, CURRENT_SIGNUP_TEXT } from '../consent/index.js';
import { RED_FLAGS } from './red-flags.js';
import { PagesService } from './pages.service.js';
import { requestMeta, wantsJson } from './request-meta.js';
import {
  errorsOf,
  formErrors,
  redFlagsTicked,
  signupProblems,
  withDefaultChannel,
  type FieldError,
  type FormError,
} from './signup-form.js';
import { withoutEmpty } from './signup.dto.js';
import { SignupService } from './signup.service.js';
import { TIME_ZONES } from './timezones.js';

const DEFAULT_CAMPAIGN = 'upper-back-relief';

@ApiTags('signup')
@Controller()
export class SignupController {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly signup: SignupService,
    private readonly campaigns: CampaignsService,
    private readonly pages: PagesService,
  ) {}

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

  private form(
    campaign: Campaign,
    values: Record<string, unknown>,
    errors: FormError[],
    embed: boolean,
  ): string {
    const words = consentVars(campaign, this.config.sender.name);
    return this.pages.render(
      'signup',
      `${errors.length > 0 ? 'Error: ' : ''}Join ${campaign.name}`,
      {
        campaign: {
          id: campaign.id,
          name: campaign.name,
          days: words.days,
          messages: words.messages,
          daily: campaign.cadence.type === 'daily',
          pace: words.pace,
        },
        values: {
          sendTime: '08:00',
          timezone: 'UTC',
          ...values,
          timezoneChosen: typeof values.timezone === 'string',
        },
        errors,
        fieldErrors: Object.fromEntries(errors.map((e) => [e.field, e.advice])),
        redFlags: RED_FLAGS,
        timezones: TIME_ZONES,
        consentText: consentText(CURRENT_SIGNUP_TEXT, words),
      },
      { embed },
    );
  }

  /** An unknown `?campaign=` is a dead link, not a reason to sign someone up for another. */
  private signupPage(campaignId: unknown, res: Response, embed: boolean): void {
    const campaign = this.offered(campaignId ?? DEFAULT_CAMPAIGN);
    if (!campaign) {
      res
        .status(404)
        .type('html')
        .send(
          this.pages.message(
            'Page not found',
            [
              'This signup link names a programme we do not offer. It may be out of date or copied incompletely.',
            ],
            { href: '/', text: 'Go to the signup page' },
          ),
        );
      return;
    }
    res.type('html').send(this.form(campaign, {}, [], embed));
  }

  @Get()
  @ApiExcludeEndpoint()
  home(@Query('campaign') campaign: unknown, @Res() res: Response): void {
    this.signupPage(campaign, res, false);
  }

  /** The same form for a clinic's site to frame. */
  @Get('embed')
  @ApiExcludeEndpoint()
  embed(@Query('campaign') campaign: unknown, @Res() res: Response): void {
    res.setHeader('Content-Security-Policy', 'frame-ancestors *');
    this.signupPage(campaign, res, true);
  }

  @Post('subscriptions')
  @ApiOperation({ summary: 'Sign up (form post or JSON); answers 202 and sends a confirmation' })
  async subscribe(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const json = wantsJson(req);
    const raw = withDefaultChannel((withoutEmpty(body) ?? {}) as Record<string, unknown>);
    // A warning sign comes before any other problem: someone with chest pain needs to hear
    // "call now", not "choose a time zone". Nobody is enrolled either way.
    const flags = redFlagsTicked(raw);
    if (flags.length > 0) return this.getCare(res, json, flags);
    const { input, errors } = signupProblems(raw, (i) => this.campaignProblems(i.campaign ?? ''));
    if (!input) {
      if (json) throw invalidFields(errors);
      return this.formAgain(res, raw, errors);
    }
    let outcome: Awaited<ReturnType<SignupService['subscribe']>>;
    try {
      outcome = await this.signup.subscribe(input, requestMeta(req));
    } catch (err) {
      if (json || !(err instanceof BadRequestException)) throw err;
      return this.formAgain(res, raw, errorsOf(err));
    }
    if (outcome.kind === 'get-care') return this.getCare(res, json, outcome.flags);
    const where = outcome.channel === 'email' ? 'your inbox' : 'your phone';
    const how =
      outcome.channel === 'email'
        ? 'open the link in the email we just sent'
        : 'reply YES to the text we just sent';
    if (json) {
      res
        .status(202)
        .json({ status: 'pending-confirmation', message: `Check ${where}: ${how} to start.` });
    } else {
      res
        .status(202)
        .type('html')
        .send(
          this.pages.message(`Check ${where}`, [
            `Almost done: ${how}. Nothing is sent until you confirm.`,
            outcome.channel === 'email'
              ? 'If nothing arrives within a few minutes, check your spam folder or sign up again.'
              : 'No text within a few minutes? If you once replied STOP to us, text START to our number: that confirms too.',
          ]),
        );
    }
  }

  private getCare(res: Response, json: boolean, flags: (typeof RED_FLAGS)[number][]): void {
    const emergency = flags.some((f) => f.emergency);
    if (json) {
      res.status(200).json({
        status: 'not-enrolled',
        reason: 'red-flags',
        emergency,
        flags: flags.map((f) => f.id),
      });
      return;
    }
    res
      .status(200)
      .type('html')
      .send(this.pages.render('get-care', 'Please get care first', { flags, emergency }));
  }

  /** The form again with every problem listed and what was typed kept. */
  private formAgain(res: Response, raw: Record<string, unknown>, errors: FieldError[]): void {
    const values = Object.fromEntries(
      Object.entries(raw).filter(
        ([k, v]) =>
          ['name', 'channel', 'email', 'phone', 'timezone', 'sendTime'].includes(k) &&
          typeof v === 'string',
      ),
    );
    const campaign =
      this.offered(raw.campaign ?? DEFAULT_CAMPAIGN) ??
      this.offered(DEFAULT_CAMPAIGN) ??
      this.campaigns.list()[0]!;
    res
      .status(400)
      .type('html')
      .send(this.form(campaign, values, formErrors(errors), false));
  }

  /** A page with a button, never a change: mail scanners open (GET) every link they see. */
  @Get('confirm/:token')
  @ApiExcludeEndpoint()
  async confirmPage(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const found = await this.signup.confirmable(token);
    if (found.state === 'invalid') return this.badConfirmLink(res);
    if (found.state === 'already') return this.sendConfirmed(res, 'already');
    const campaign = this.campaigns.get(found.campaignId);
    res
      .status(200)
      .type('html')
      .send(
        this.pages.render('confirm', 'Confirm your signup', {
          programme: campaign?.name ?? 'the programme',
          channelLabel: found.channel === 'sms' ? 'text message' : 'email',
          action: `/confirm/${token}`,
        }),
      );
  }

  @Post('confirm/:token')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async confirm(
    @Param('token') token: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const state = await this.signup.confirm(token, requestMeta(req));
    if (state === 'invalid') return this.badConfirmLink(res);
    this.sendConfirmed(res, state);
  }

  private badConfirmLink(res: Response): void {
    res
      .status(400)
      .type('html')
      .send(
        this.pages.message(
          'This link does not work',
          [
            'It may have expired (links last three days) or been copied incompletely.',
            'You can sign up again; it only takes a minute.',
          ],
          { href: '/', text: 'Sign up again' },
        ),
      );
  }

  private sendConfirmed(res: Response, state: 'confirmed' | 'already'): void {
    res
      .status(200)
      .type('html')
      .send(
        state === 'confirmed'
          ? this.pages.message("You're in", [
              'Thank you for confirming. Your welcome message is on its way, and a short tip follows each day.',
              'Every message has a link to change your preferences or stop.',
            ])
          : this.pages.message('Already confirmed', [
              'You have already confirmed this signup. Your tips are on their way.',
            ]),
      );
  }

  @Get('terms')
  @ApiExcludeEndpoint()
  terms(@Res() res: Response): void {
    res.type('html').send(this.pages.render('terms', 'Terms'));
  }

  @Get('privacy')
  @ApiExcludeEndpoint()
  privacy(@Res() res: Response): void {
    res.type('html').send(this.pages.render('privacy', 'Privacy notice'));
  }
}
