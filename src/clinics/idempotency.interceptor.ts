import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { from, lastValueFrom, map, type Observable } from 'rxjs';
import type { ClinicCaller } from './api-keys.service.js';
import { IdempotencyService } from './idempotency.service.js';

/**
 * Applies `Idempotency-Key` to a clinic API route (after ClinicKeyGuard, which names the
 * clinic). A replay answers what the first request answered, with `Idempotent-Replayed: true`.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { clinicCaller?: ClinicCaller }>();
    const key = req.header('idempotency-key');
    if (key === undefined || !req.clinicCaller) return next.handle();
    // Only successes are kept, so the status to replay is the route's own.
    const status =
      (Reflect.getMetadata('__httpCode__', context.getHandler()) as number | undefined) ??
      (req.method === 'POST' ? 201 : 200);
    const answer = this.idempotency.run(
      req.clinicCaller.clinicId,
      key,
      `${req.method} ${req.path}`,
      req.body ?? null,
      async () => ({ status, body: await lastValueFrom(next.handle()) }),
    );
    return from(answer).pipe(
      map((a) => {
        if (a.replayed) http.getResponse<Response>().setHeader('Idempotent-Replayed', 'true');
        return a.body;
      }),
    );
  }
}
