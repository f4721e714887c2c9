import { timingSafeEqual, createHash } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { Unauthorized, Unavailable } from '../common/index.js';
import { CONFIG, type AppConfig } from '../config/index.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Admin routes need `Authorization: Bearer <ADMIN_TOKEN>`; with no ADMIN_TOKEN set they are off. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.adminToken;
    if (!expected) {
      throw new Unavailable('admin API is off: set ADMIN_TOKEN to enable it');
    }
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), digest(expected))) {
      throw new Unauthorized('Authorization: Bearer <ADMIN_TOKEN> is missing or wrong');
    }
    return true;
  }
}
