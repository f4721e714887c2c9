import type { Request } from 'express';
import type { RequestMeta } from './signup.service.js';

export function requestMeta(req: Request): RequestMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 500) : null };
}

/** JSON clients get JSON; browsers posting forms get pages. */
export function wantsJson(req: Request): boolean {
  return (
    req.is('application/json') === 'application/json' ||
    (!req.accepts('html') && Boolean(req.accepts('json')))
  );
}
