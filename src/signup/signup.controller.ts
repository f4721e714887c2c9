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
import { ZodPipe } from '../common/zod-pipe.js';
import { Inject } from '@nestjs/common';
import { consentText, consentVars, CURRENT_SIGNUP_TEXT, RED_FLAGS } from './consent-text.js';
import { PagesService } from './pages.service.js';
import { requestMeta, wantsJson } from './request-meta.js';
import { signupSchema, withoutEmpty } from './signup.dto.js';
import { SignupService } from './signup.service.js';
import { TIME_ZONES } from './timezones.js';

interface FieldError {
  field: string;
  message: string;
}

const pipe = new ZodPipe(signupSchema);

@ApiTags('signup')
@Controller()
export class SignupController {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly signup: SignupService,
    private readonly campaigns: CampaignsService,
    private readonly pages: PagesService,
  ) {}

  private campaignFor(id: unknown): Campaign {
    const found = typeof id === 'string' ? this.campaigns.get(id) : undefined;
    return found ?? this.campaigns.get('upper-back-relief') ?? this.campaigns.list()[0]!;
  }

  private form(
    campaign: Campaign,
    values: Record<string, unknown>,
    errors: FieldError[],
    embed: boolean,
  ): string {
    const words = consentVars(campaign, this.config.sender.name);
    return this.pages.render(
      'signup',
      `Join ${campaign.name}`,
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
        fieldErrors: Object.fromEntries(errors.map((e) => [e.field, e.message])),
        redFlags: RED_FLAGS,
        timezones: TIME_ZONES,
        consentText: consentText(CURRENT_SIGNUP_TEXT, words),
      },
      { embed },
    );
  }

  @Get()
  @ApiExcludeEndpoint()
  home(@Query('campaign') campaign: unknown, @Res() res: Response): void {
    res.type('html').send(this.form(this.campaignFor(campaign), {}, [], false));
  }

  /** The same form for a clinic's site to frame. */
  @Get('embed')
  @ApiExcludeEndpoint()
  embed(@Query('campaign') campaign: unknown, @Res() res: Response): void {
    res.setHeader('Content-Security-Policy', 'frame-ancestors *');
    res.type('html').send(this.form(this.campaignFor(campaign), {}, [], true));
  }

  @Post('subscriptions')
  @ApiOperation({ summary: 'Sign up (form post or JSON); answers 202 and sends a confirmation' })
  async subscribe(@Body() body: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const json = wantsJson(req);
    const raw = (withoutEmpty(body) ?? {}) as Record<string, unknown>;
    try {
      const input = pipe.transform(raw);
      const outcome = await this.signup.subscribe(input, requestMeta(req));
      if (outcome.kind === 'get-care') {
        if (json) {
          res.status(200).json({
            status: 'not-enrolled',
            reason: 'red-flags',
            emergency: outcome.emergency,
            flags: outcome.flags.map((f) => f.id),
          });
        } else {
          res
            .status(200)
            .type('html')
            .send(
              this.pages.render('get-care', 'Please get care first', {
                flags: outcome.flags,
                emergency: outcome.emergency,
              }),
            );
        }
        return;
      }
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
    } catch (err) {
      if (json || !(err instanceof BadRequestException)) throw err;
      const response = err.getResponse() as { errors?: FieldError[]; message?: string };
      const errors = response.errors ?? [{ field: '(form)', message: String(response.message) }];
      const values = Object.fromEntries(
        Object.entries(raw).filter(
          ([k, v]) =>
            ['name', 'channel', 'email', 'phone', 'timezone', 'sendTime'].includes(k) &&
            typeof v === 'string',
        ),
      );
      res
        .status(400)
        .type('html')
        .send(this.form(this.campaignFor(raw.campaign), values, errors, false));
    }
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
