import { createHash, timingSafeEqual } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/index.js';
import { QueueName, QueuesService } from '../delivery/index.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * BullMQ's dashboard (bull-board) for operators: jobs waiting, delayed, failed, with retry.
 * Browsers cannot send a bearer token, so it asks for HTTP Basic auth with ADMIN_TOKEN as
 * the password (any user name). Off when ADMIN_TOKEN is unset.
 */
export function mountQueueDashboard(app: INestApplication, config: AppConfig): void {
  const token = config.adminToken;
  if (!token) return;
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  const queues = app.get(QueuesService);
  createBullBoard({
    queues: Object.values(QueueName).map((name) => new BullMQAdapter(queues.queue(name))),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'selfcare-drip queues' } },
  });
  const basicAuth = (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    const password = m
      ? Buffer.from(m[1]!, 'base64').toString('utf8').split(':').slice(1).join(':')
      : '';
    if (m && timingSafeEqual(digest(password), digest(token))) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="selfcare-drip queues", charset="UTF-8"');
    res.status(401).json({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'queue dashboard: use HTTP Basic auth with ADMIN_TOKEN as the password',
    });
  };
  app.use(QUEUE_DASHBOARD_PATH, basicAuth, selfContained, adapter.getRouter());
}

/** A `<link>` to another host; bull-board's page has one, for Google's IBM Plex fonts. */
const REMOTE_LINK = /<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?\/\/[^>]*>\s*/gi;

/**
 * bull-board's page asks fonts.googleapis.com for its fonts, telling Google who looks at the
 * queues and when. Its own files are served from here, so: drop links to other hosts from
 * the page (it falls back to the system's sans-serif), and a Content-Security-Policy
 * stops the browser fetching anything from elsewhere should a later version add one.
 */
function selfContained(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; frame-ancestors 'none'",
  );
  const render = res.render.bind(res);
  res.render = ((view: string, options?: object) => {
    render(view, options ?? {}, (err: Error | null, html: string) => {
      if (err) return next(err);
      res.type('html').send(html.replace(REMOTE_LINK, ''));
    });
  }) as Response['render'];
  next();
}
