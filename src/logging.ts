import type { Params } from 'nestjs-pino';
import { maskText } from './common/index.js';
import type { AppConfig } from './config/index.js';

/**
 * JSON logs with a request id on every line. Headers that carry secrets and any field
 * named like a contact are redacted; services log masked addresses only.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-twilio-signature"]',
          '*.email',
          '*.phone',
          '*.name',
        ],
        censor: '[redacted]',
      },
      autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
      serializers: {
        // Paths can hold link tokens (cut) and query strings an address (masked).
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: maskText(decoded(req.url).replace(/\/[A-Za-z0-9_-]{40,}/g, '/:token')),
        }),
      },
      ...(config.env === 'test' ? { level: process.env.LOG_LEVEL ?? 'silent' } : {}),
    },
  };
}

function decoded(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}
