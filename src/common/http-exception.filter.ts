import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { safeError } from './mask.js';

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
 * Shapes every error as JSON `{statusCode, error, message}`. Body-parser failures keep their
 * 4xx with a message naming the body; anything unexpected is logged and answered 500.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
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
