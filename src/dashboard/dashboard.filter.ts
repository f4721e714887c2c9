import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, InvalidInput } from '../common/index.js';
import { SignInRequired } from '../clinics/index.js';
import { DashboardPages } from './dashboard-pages.js';

/**
 * What every dashboard page sends: never cached (a shared computer's back button must not
 * show a patient after sign-out), never framed, no referrer (a sign-in link's token stays
 * in its own URL), and nothing loaded from anywhere: styles are inline and charts are SVG.
 */
export function pageHeaders(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
}

/** Sends a dashboard page (200) with pageHeaders. */
export function sendPage(res: Response, html: string): void {
  pageHeaders(res);
  res.status(200).type('html').send(html);
}

/** After a form's POST: 303 to the page that shows the result (pageHeaders too). */
export function redirectAfterPost(res: Response, to: string): void {
  pageHeaders(res);
  res.redirect(303, to);
}

const TITLES: Record<string, string> = {
  invalid: 'Please check what you entered',
  unauthorized: 'Please sign in',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  conflict: 'That could not be done',
  unprocessable: 'That could not be done',
  'too-many-requests': 'Please wait a moment',
  unavailable: 'Not available',
};

const STATUS: Record<string, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unprocessable: 422,
  'too-many-requests': 429,
  unavailable: 503,
};

/**
 * The dashboard's errors as pages: signed out goes to the sign-in page, anything else is a
 * page in the dashboard's layout with the status and what went wrong. Outages and bugs are
 * left to the global filter.
 */
@Catch(DomainError)
export class DashboardErrorFilter implements ExceptionFilter {
  constructor(private readonly pages: DashboardPages) {}

  catch(e: DomainError, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request & { staff?: never }>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    pageHeaders(res);
    if (e instanceof SignInRequired) {
      if (req.method === 'GET') {
        res.redirect(303, '/clinic/sign-in');
        return;
      }
      res
        .status(401)
        .type('html')
        .send(
          this.pages.message(
            null,
            'Your session has ended',
            ['Nothing was changed. Please sign in again, then repeat what you were doing.'],
            { href: '/clinic/sign-in', text: 'Sign in' },
          ),
        );
      return;
    }
    const paragraphs =
      e instanceof InvalidInput ? e.errors.map((f) => `${f.field}: ${f.message}`) : [e.message];
    res
      .status(STATUS[e.kind] ?? 400)
      .type('html')
      .send(
        this.pages.message(
          req.staff ?? null,
          TITLES[e.kind] ?? 'That could not be done',
          paragraphs,
          {
            href: '/clinic',
            text: 'Back to the dashboard',
          },
        ),
      );
  }
}
