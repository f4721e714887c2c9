import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { serialize } from 'cookie';
import type { Request, Response } from 'express';
import { LOGIN_LINK_MINUTES, SESSION_MAX_HOURS, StaffAuthService } from '../clinics/index.js';
import { CsrfRefused, PRE_SESSION_COOKIE, SESSION_COOKIE, cookiesOf } from '../clinics/index.js';
import { DashboardErrorFilter, pageHeaders } from './dashboard.filter.js';
import { DashboardPages } from './dashboard-pages.js';

const COOKIE = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Staff sign-in by emailed link. The link's page asks before using it (mail scanners open
 * links; a GET changes nothing), and the sign-in forms carry a CSRF token bound to a
 * pre-session cookie, so another site cannot sign a browser into someone else's account.
 */
@ApiExcludeController()
@UseFilters(DashboardErrorFilter)
@Controller('clinic')
export class SignInController {
  constructor(
    private readonly auth: StaffAuthService,
    private readonly pages: DashboardPages,
  ) {}

  @Get('sign-in')
  form(@Req() req: Request, @Res() res: Response): void {
    const pre = this.preSession(req, res);
    this.send(
      res,
      200,
      this.pages.render('sign-in', 'Sign in', null, {
        preCsrf: this.auth.csrf.tokenFor(`pre:${pre}`),
      }),
    );
  }

  @Post('sign-in')
  @HttpCode(200)
  ask(@Req() req: Request, @Res() res: Response, @Body() body: Record<string, unknown>): void {
    this.checkPre(req, body);
    const email = typeof body.email === 'string' ? body.email.trim() : '';
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) {
      const pre = this.preSession(req, res);
      this.send(
        res,
        400,
        this.pages.render('sign-in', 'Sign in', null, {
          preCsrf: this.auth.csrf.tokenFor(`pre:${pre}`),
          email,
          error: 'Enter your work email address, like name@clinic.example.',
        }),
      );
      return;
    }
    this.auth.requestLink(email);
    this.send(
      res,
      200,
      this.pages.render('sign-in-sent', 'Check your email', null, {
        email,
        minutes: LOGIN_LINK_MINUTES,
      }),
    );
  }

  @Get('sign-in/:token')
  async link(
    @Param('token') token: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const state = TOKEN.test(token) ? await this.auth.linkState(token) : 'unknown';
    if (state !== 'ok') {
      this.send(res, state === 'unknown' ? 404 : 410, this.linkProblem(state));
      return;
    }
    const pre = this.preSession(req, res);
    this.send(
      res,
      200,
      this.pages.render('sign-in-link', 'Sign in', null, {
        token,
        preCsrf: this.auth.csrf.tokenFor(`pre:${pre}`),
      }),
    );
  }

  @Post('sign-in/:token')
  async use(
    @Param('token') token: string,
    @Req() req: Request,
    @Res() res: Response,
    @Body() body: Record<string, unknown>,
  ): Promise<void> {
    this.checkPre(req, body);
    const signedIn = TOKEN.test(token) ? await this.auth.signIn(token) : null;
    if (!signedIn) {
      const state = TOKEN.test(token) ? await this.auth.linkState(token) : 'unknown';
      this.send(
        res,
        state === 'unknown' ? 404 : 410,
        this.linkProblem(state === 'ok' ? 'used' : state),
      );
      return;
    }
    res.append(
      'Set-Cookie',
      serialize(SESSION_COOKIE, signedIn.cookie, { ...COOKIE, maxAge: SESSION_MAX_HOURS * 3600 }),
    );
    res.append('Set-Cookie', serialize(PRE_SESSION_COOKIE, '', { ...COOKIE, maxAge: 0 }));
    pageHeaders(res);
    res.redirect(303, '/clinic');
  }

  @Post('sign-out')
  async signOut(
    @Req() req: Request,
    @Res() res: Response,
    @Body() body: Record<string, unknown>,
  ): Promise<void> {
    const cookie = cookiesOf(req)[SESSION_COOKIE];
    const caller = await this.auth.caller(cookie);
    if (caller) {
      if (!this.auth.csrf.check(caller.sessionKey, body._csrf)) throw new CsrfRefused();
      await this.auth.signOut(cookie!, caller);
    }
    res.append('Set-Cookie', serialize(SESSION_COOKIE, '', { ...COOKIE, maxAge: 0 }));
    pageHeaders(res);
    this.send(
      res,
      200,
      this.pages.message(null, 'You are signed out', ['You can close this tab.'], {
        href: '/clinic/sign-in',
        text: 'Sign in again',
      }),
    );
  }

  private linkProblem(state: 'unknown' | 'used' | 'expired'): string {
    const why = {
      unknown: 'This sign-in link is not one we sent, or it was copied incompletely.',
      used: 'This sign-in link has already been used. Each link signs in once.',
      expired: `This sign-in link has run out: links work for ${LOGIN_LINK_MINUTES} minutes.`,
    }[state];
    return this.pages.message(
      null,
      'This link cannot sign you in',
      [why, 'Ask for a new link below.'],
      {
        href: '/clinic/sign-in',
        text: 'Get a new sign-in link',
      },
    );
  }

  /** The pre-session key: the cookie's, or a new one set now. */
  private preSession(req: Request, res: Response): string {
    const existing = cookiesOf(req)[PRE_SESSION_COOKIE];
    if (existing && /^[A-Za-z0-9_-]{22}$/.test(existing)) return existing;
    const fresh = randomBytes(16).toString('base64url');
    res.append('Set-Cookie', serialize(PRE_SESSION_COOKIE, fresh, { ...COOKIE, maxAge: 3600 }));
    return fresh;
  }

  private checkPre(req: Request, body: Record<string, unknown>): void {
    const pre = cookiesOf(req)[PRE_SESSION_COOKIE];
    if (!pre || !this.auth.csrf.check(`pre:${pre}`, body?._csrf)) throw new CsrfRefused();
  }

  private send(res: Response, status: number, html: string): void {
    pageHeaders(res);
    res.status(status).type('html').send(html);
  }
}
