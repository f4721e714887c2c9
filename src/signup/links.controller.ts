import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DateTime } from 'luxon';
import { CampaignsService } from '../campaigns/index.js';
import { DomainError } from '../common/index.js';
import type { Channel } from '../database/index.js';
import { LinksService } from '../links/index.js';
import { PagesService } from './pages.service.js';
import { PreferencesService, type PreferencesView } from './preferences.service.js';
import { requestMeta } from './request-meta.js';
import { TIME_ZONES } from './timezones.js';
import { UnsubscribeService } from './unsubscribe.service.js';

const CHANNEL_LABEL: Record<Channel, string> = { email: 'email', sms: 'text message' };

/** The pages behind the links in every message: unsubscribe and preferences. */
@ApiExcludeController()
@Controller()
export class LinksController {
  constructor(
    private readonly links: LinksService,
    private readonly unsubscribes: UnsubscribeService,
    private readonly preferences: PreferencesService,
    private readonly campaigns: CampaignsService,
    private readonly pages: PagesService,
  ) {}

  private badLink(res: Response): void {
    res
      .status(400)
      .type('html')
      .send(
        this.pages.message('This link does not work', [
          'It may be incomplete or too old. Use the link in your most recent message, or reply STOP to any text.',
        ]),
      );
  }

  /** A page with a button: link scanners fetch GET URLs, so GET never unsubscribes. */
  @Get('unsubscribe/:token')
  async unsubscribePage(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const target = this.links.openUnsubscribe(token);
    if (!target) return this.badLink(res);
    res.type('html').send(
      this.pages.render('unsubscribe', 'Unsubscribe', {
        channelLabel: CHANNEL_LABEL[target.channel],
        action: `/unsubscribe/${token}`,
        preferencesUrl: this.links.preferencesPath(target.subscriberId),
        // A clinic's email: its button stops that clinic's programme; a second one, everything.
        clinic: await this.unsubscribes.clinicOf(target),
      }),
    );
  }

  /**
   * RFC 8058 one-click: unsubscribes at once, no cookies, no redirect. A clinic's link stops
   * that clinic's programme (the one-click body `List-Unsubscribe=One-Click` included); the
   * page's `scope=all` button stops everything on the channel.
   */
  @Post('unsubscribe/:token')
  @HttpCode(200)
  async unsubscribe(
    @Param('token') token: string,
    @Body() body: Record<string, unknown> | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const target = this.links.openUnsubscribe(token);
    if (!target) return this.badLink(res);
    const done = await this.unsubscribes.unsubscribe(
      target,
      body?.scope === 'all',
      requestMeta(req),
    );
    const label = CHANNEL_LABEL[target.channel];
    const page =
      done.scope === 'clinic'
        ? this.pages.message(
            "You're unsubscribed",
            [
              `You will not get any more emails from ${done.from}.`,
              'Emails from another clinic, or a programme you joined on our website, carry on. To stop those too:',
            ],
            undefined,
            {
              action: `/unsubscribe/${token}`,
              fields: { scope: 'all' },
              button: 'Stop all emails from us',
            },
          )
        : this.pages.message(
            "You're unsubscribed",
            [
              `You will not get any more ${label} messages from ${done.from}.`,
              'Changed your mind? You can sign up again at any time.',
            ],
            { href: '/', text: 'Sign up again' },
          );
    res.status(200).type('html').send(page);
  }

  @Get('preferences/:token')
  async preferencesPage(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const view = await this.load(token);
    if (!view) return this.badLink(res);
    res.type('html').send(this.renderPreferences(token, view, {}));
  }

  @Post('preferences/:token')
  @HttpCode(200) // answers the page again, with what was saved; nothing is created
  async savePreferences(
    @Param('token') token: string,
    @Body() body: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const view = await this.load(token);
    if (!view) return this.badLink(res);
    const str = (k: string) =>
      typeof body?.[k] === 'string' && body[k] !== '' ? (body[k] as string) : undefined;
    let saved: string;
    try {
      switch (str('action')) {
        case 'update':
          await this.preferences.update(view, {
            sendTime: str('sendTime'),
            timezone: str('timezone'),
            channel: str('channel'),
          });
          saved = 'Saved. Your next message follows your new settings.';
          break;
        case 'pause': {
          const until = await this.preferences.pause(view, Number(str('days')));
          saved = `Paused. Messages start again on ${DateTime.fromJSDate(until).toUTC().toFormat('d LLLL yyyy')}.`;
          break;
        }
        case 'resume':
          await this.preferences.resume(view);
          saved = 'Resumed. Your next message comes at your usual time.';
          break;
        case 'seen':
          await this.preferences.confirmSeen(view, body?.seen !== undefined && body.seen !== '');
          saved = 'Thank you. Your tips start again at your usual time.';
          break;
        case 'stop':
          await this.preferences.stop(view, requestMeta(req));
          res
            .type('html')
            .send(
              this.pages.message("You're unsubscribed", [
                'All messages have stopped. You will not hear from us again unless you sign up yourself.',
              ]),
            );
          return;
        default:
          res
            .status(400)
            .type('html')
            .send(
              this.renderPreferences(token, view, {
                error: 'action: choose update, pause, resume, seen or stop',
              }),
            );
          return;
      }
    } catch (err) {
      // A refused action (a bad time, a safety pause) shows the page again with the reason.
      if (!(err instanceof DomainError)) throw err;
      const message = err.message;
      res
        .status(400)
        .type('html')
        .send(this.renderPreferences(token, view, { error: message }));
      return;
    }
    res.type('html').send(this.renderPreferences(token, (await this.load(token))!, { saved }));
  }

  private async load(token: string): Promise<PreferencesView | null> {
    const subscriberId = this.links.openPreferences(token);
    return subscriberId ? this.preferences.view(subscriberId) : null;
  }

  private renderPreferences(
    token: string,
    view: PreferencesView,
    notes: { saved?: string; error?: string },
  ): string {
    const first = view.enrollments[0];
    return this.pages.render('preferences', 'Your preferences', {
      ...notes,
      action: `/preferences/${token}`,
      enrollments: view.enrollments.map((e) => ({
        campaignName: this.campaigns.get(e.campaign_id)?.name ?? e.campaign_id,
        channelLabel: CHANNEL_LABEL[e.channel],
        statusLabel:
          e.status === 'paused' && e.pause_reason === 'safety'
            ? 'paused after a warning sign in your reply'
            : e.status === 'paused'
              ? e.paused_until
                ? `paused until ${DateTime.fromJSDate(e.paused_until, { zone: e.timezone }).toFormat('d LLLL')}`
                : 'paused'
              : 'active',
        nextSend: e.next_send_at
          ? DateTime.fromJSDate(e.next_send_at, { zone: e.timezone }).toFormat(
              "ccc d LLL 'at' HH:mm",
            )
          : null,
      })),
      current: { sendTime: first?.send_time ?? '08:00', timezone: first?.timezone ?? 'UTC' },
      timezones: TIME_ZONES,
      channels:
        view.channels.length > 1
          ? view.channels.map((c) => ({
              value: c,
              label: CHANNEL_LABEL[c],
              checked: first?.channel === c,
            }))
          : [],
      canPause: view.enrollments.some((e) => e.status === 'active'),
      canResume: view.enrollments.some((e) => e.status === 'paused' && e.pause_reason !== 'safety'),
      held: view.hold !== null,
    });
  }
}
