import {
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Forbidden, Unauthorized } from '../common/index.js';
import type { ApiKeyScope } from '../database/index.js';
import { ApiKeysService, type ClinicCaller } from './api-keys.service.js';

const SCOPE = 'clinic-api-scope';

/** The scope a clinic API route needs. */
export const RequireScope = (scope: ApiKeyScope) => SetMetadata(SCOPE, scope);

type WithCaller = Request & { clinicCaller?: ClinicCaller };

/** The clinic behind the request's key (set by ClinicKeyGuard). */
export const Caller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ClinicCaller =>
    ctx.switchToHttp().getRequest<WithCaller>().clinicCaller!,
);

const PROBLEM = {
  malformed: 'the API key is not in the form sdk_live_<keyId>_<secret>',
  unknown: 'the API key is not known',
  revoked: 'the API key was revoked',
  expired: 'the API key has expired (it was rotated); use the new key',
} as const;

/**
 * The clinic API needs `Authorization: Bearer <api key>`: 401 for a missing, malformed,
 * unknown, revoked or expired key, 403 for a key without the route's scope.
 */
@Injectable()
export class ClinicKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<WithCaller>();
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new Unauthorized('Authorization: Bearer <api key> is missing');
    const result = await this.keys.check(m[1]!);
    if (!result.ok) throw new Unauthorized(`Authorization: ${PROBLEM[result.problem]}`);
    const scope = this.reflector.get<ApiKeyScope | undefined>(SCOPE, context.getHandler());
    if (scope && !result.caller.scopes.includes(scope))
      throw new Forbidden(`Authorization: this API key lacks the scope ${scope}`);
    req.clinicCaller = result.caller;
    return true;
  }
}
