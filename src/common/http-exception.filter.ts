import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, TooManyRequests, type DomainErrorKind } from './errors.js';
import { safeError } from './mask.js';
import {
  DEPENDENCY_LABEL,
  DependencyDownError,
  dependencyOf,
  isConnectionError,
  reportIfConnectionError,
} from './outage.js';

/** Renders the friendly page browsers get; absent where this process serves no pages. */
export interface ErrorPages {
  message(title: string, paragraphs: string[]): string;
}

interface BodyParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  limit?: number;
  message?: string;
}

/** A clear message for what body-parser rejects (bad JSON, too large), or null. */
function bodyProblem(e: BodyParserError | undefined): string | null {
  switch (e?.type) {
    case 'entity.parse.failed':
      return 'body: is not valid JSON';
    case 'entity.too.large':
      return `body: is larger than the ${Math.round((e.limit ?? 0) / 1024)} kB limit`;
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 'body: uses an unsupported encoding; send UTF-8';
    default:
      return null;
  }
}

/**
 * What a failure to reach PostgreSQL or Redis answers: 503 naming what is unreachable, so the
 * caller retries (Twilio does, on any 5xx). Null for other errors.
 */
function unavailable(exception: unknown): string | null {
  if ((exception as { code?: unknown } | undefined)?.code === '57014') {
    return `${DEPENDENCY_LABEL.postgres} did not answer in time`; // statement_timeout
  }
  if (!isConnectionError(exception)) return null;
  const dependency =
    exception instanceof DependencyDownError ? exception.dependency : dependencyOf(exception);
  return dependency
    ? `${DEPENDENCY_LABEL[dependency]} is unreachable`
    : 'A service we depend on is unreachable';
}

/** The one mapping from domain errors to HTTP: status and its reason phrase. */
const HTTP_OF: Record<DomainErrorKind, { status: number; error: string }> = {
  invalid: { status: 400, error: 'Bad Request' },
  unauthorized: { status: 401, error: 'Unauthorized' },
  forbidden: { status: 403, error: 'Forbidden' },
  'not-found': { status: 404, error: 'Not Found' },
  conflict: { status: 409, error: 'Conflict' },
  unprocessable: { status: 422, error: 'Unprocessable Entity' },
  'too-many-requests': { status: 429, error: 'Too Many Requests' },
  unavailable: { status: 503, error: 'Service Unavailable' },
};

/** Browsers (which list text/html first) get a page; API clients, webhooks and curl get JSON. */
function prefersHtml(req: Request | undefined): boolean {
  return Boolean(req) && !req!.is('application/json') && req!.accepts(['json', 'html']) === 'html';
}

/**
 * Shapes every error as JSON `{statusCode, error, message}`, plus `errors: [{field, message}]`
 * when the error names fields (every 400). Domain errors map by HTTP_OF; Nest's own
 * HttpExceptions (its router's 404, say) keep their status and body. Body-parser failures keep
 * their 4xx with a message naming the body; PostgreSQL or Redis out of reach is 503 (a page
 * for a browser), counted as an outage rather than logged each time; anything unexpected is
 * logged and answered 500.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(private readonly pages?: ErrorPages) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (exception instanceof DomainError) {
      const { status, error } = HTTP_OF[exception.kind];
      if (exception instanceof TooManyRequests && exception.retryAfterSeconds !== undefined) {
        res.setHeader('Retry-After', String(Math.ceil(exception.retryAfterSeconds)));
      }
      res.status(status).json({
        statusCode: status,
        error,
        message: exception.message,
        ...(exception.errors ? { errors: exception.errors } : {}),
      });
      return;
    }
    const raw = (exception instanceof HttpException ? exception.cause : exception) as
      BodyParserError | undefined;
    const status = raw?.status ?? raw?.statusCode;
    const problem = bodyProblem(raw);
    if (problem && typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({
        statusCode: status,
        error: status === 413 ? 'Payload Too Large' : 'Bad Request',
        message: problem,
      });
      return;
    }
    const down = unavailable(exception);
    if (down) {
      if (!reportIfConnectionError(exception)) {
        this.logger.warn({ err: safeError(exception) }, 'dependency unavailable');
      }
      res.status(503).setHeader('Retry-After', '5');
      if (this.pages && prefersHtml(host.switchToHttp().getRequest<Request>())) {
        res
          .type('html')
          .send(
            this.pages.message('Sorry, we could not do that just now', [
              'Part of our service is briefly unavailable, so nothing was changed.',
              'Please go back and try again in a minute.',
            ]),
          );
        return;
      }
      res.json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `${down}; nothing was changed, try again shortly`,
      });
      return;
    }
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const code = exception.getStatus();
      res.status(code).json(typeof body === 'string' ? { statusCode: code, message: body } : body);
      return;
    }
    this.logger.error({ err: safeError(exception) }, 'unhandled error');
    res.status(500).json({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Something went wrong on our side.',
    });
  }
}
