import type { NextFunction, Request, Response } from 'express';
import { wantsJson } from './request-meta.js';

/** The page a browser gets; absent where this process serves no pages. */
export interface LimitPages {
  message(title: string, paragraphs: string[], link?: { href: string; text: string }): string;
}

/**
 * What a signup over the per-address limit gets (429; Retry-After is already set): JSON for
 * API clients, as before, and for a person a page in the site's layout rather than raw JSON.
 */
export function tooManySignups(pages: () => LimitPages | undefined) {
  return (req: Request, res: Response, _next: NextFunction): void => {
    res.status(429);
    const page = wantsJson(req) ? undefined : pages();
    if (!page) {
      res.json({
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'Too many signups from this address; try again in a minute.',
      });
      return;
    }
    res
      .type('html')
      .send(
        page.message(
          'Please wait a minute',
          [
            'We have had several signups from your network in the last minute, so we paused new ones for a moment. Nothing you sent was stored.',
            'Please go back and send the form again in a minute.',
          ],
          { href: '/', text: 'Back to the signup form' },
        ),
      );
  };
}
