import {
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { parse as parseCookies } from 'cookie';
import type { Request } from 'express';
import { Forbidden, Unauthorized } from '../../common/index.js';
import { StaffAuthService, type StaffCaller } from './staff-auth.service.js';

/**
 * The session cookie. `__Host-` makes the browser insist on Secure, Path=/ and no Domain, so
 * no other host (not even a subdomain) can set or read it.
 */
export const SESSION_COOKIE = '__Host-sd_staff';
/** Before sign-in: the key the sign-in forms' CSRF tokens are bound to. */
export const PRE_SESSION_COOKIE = '__Host-sd_pre';

/** Not signed in (or the session ended): a browser is sent to the sign-in page. */
export class SignInRequired extends Unauthorized {
  constructor() {
    super('sign in to use the dashboard');
  }
}

/** The form's CSRF token did not fit the session. */
export class CsrfRefused extends Forbidden {
  constructor() {
    super('this form is out of date or was not sent from our page; reload it and try again');
  }
}

const ADMIN_ONLY = 'dashboard-admin-only';
/** Routes for the clinic's admins only (staff get 403). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** Routes whose CSRF token the handler checks itself (a streamed upload's form field). */
const CSRF_IN_HANDLER = 'dashboard-csrf-in-handler';
export const CsrfCheckedInHandler = () => SetMetadata(CSRF_IN_HANDLER, true);

type WithStaff = Request & { staff?: StaffCaller };

/** The signed-in staff member (set by StaffSessionGuard). */
export const Staff = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): StaffCaller =>
    ctx.switchToHttp().getRequest<WithStaff>().staff!,
);

export function cookiesOf(req: Request): Record<string, string | undefined> {
  return parseCookies(req.headers.cookie ?? '');
}

/**
 * Every dashboard route needs a live session; every request that changes something also needs
 * the form's CSRF token (`_csrf`, or the `X-CSRF-Token` header), bound to that session.
 */
@Injectable()
export class StaffSessionGuard implements CanActivate {
  constructor(
    private readonly auth: StaffAuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<WithStaff>();
    const caller = await this.auth.caller(cookiesOf(req)[SESSION_COOKIE]);
    if (!caller) throw new SignInRequired();
    const safe = req.method === 'GET' || req.method === 'HEAD';
    const inHandler = this.reflector.get<boolean | undefined>(
      CSRF_IN_HANDLER,
      context.getHandler(),
    );
    if (!safe && !inHandler) {
      const body = req.body as Record<string, unknown> | undefined;
      const token = body?._csrf ?? req.headers['x-csrf-token'];
      if (!this.auth.csrf.check(caller.sessionKey, token)) throw new CsrfRefused();
    }
    if (
      this.reflector.get<boolean | undefined>(ADMIN_ONLY, context.getHandler()) &&
      caller.role !== 'admin'
    )
      throw new Forbidden("only the clinic's admins can do this");
    req.staff = caller;
    return true;
  }
}
