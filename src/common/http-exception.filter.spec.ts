import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import {
  Conflict,
  DomainError,
  Forbidden,
  invalid,
  invalidFields,
  notFound,
  TooManyRequests,
  Unauthorized,
  Unavailable,
  Unprocessable,
} from './errors.js';
import { HttpErrorFilter } from './http-exception.filter.js';

/** What the filter wrote: status, headers and JSON body. */
function answer(exception: unknown) {
  const sent = {
    status: 0,
    headers: {} as Record<string, string>,
    body: undefined as unknown,
  };
  const res = {
    headersSent: false,
    status(code: number) {
      sent.status = code;
      return res;
    },
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return res;
    },
    json(body: unknown) {
      sent.body = body;
      return res;
    },
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => res, getRequest: () => undefined }),
  } as unknown as ArgumentsHost;
  new HttpErrorFilter().catch(exception, host);
  return sent;
}

describe('domain errors', () => {
  it('are plain errors: no HTTP in them, the message as given', () => {
    const e = notFound('enrollment 42 not found');
    expect(e).toBeInstanceOf(DomainError);
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('enrollment 42 not found');
    expect(e.name).toBe('NotFound');
    expect(e).not.toHaveProperty('status');
  });

  it('InvalidInput names every field, first field first', () => {
    const e = invalidFields([
      { field: 'email', message: 'is required' },
      { field: 'timezone', message: 'is not a time zone' },
    ]);
    expect(e.message).toBe('email: is required; timezone: is not a time zone');
    expect(e.errors).toHaveLength(2);
  });
});

describe('HttpErrorFilter: the one mapping of domain errors to HTTP', () => {
  beforeAll(() => Logger.overrideLogger(false)); // the 500 case logs, on purpose

  it('answers InvalidInput 400 with the fields at fault', () => {
    expect(answer(invalid('sendTime', 'must be HH:MM'))).toEqual({
      status: 400,
      headers: {},
      body: {
        statusCode: 400,
        error: 'Bad Request',
        message: 'sendTime: must be HH:MM',
        errors: [{ field: 'sendTime', message: 'must be HH:MM' }],
      },
    });
  });

  it.each([
    [new Unauthorized('Authorization: missing'), 401, 'Unauthorized'],
    [new Forbidden('X-Twilio-Signature: missing'), 403, 'Forbidden'],
    [notFound('no such thing'), 404, 'Not Found'],
    [new Conflict('status: cannot pause an enrolment that is cancelled'), 409, 'Conflict'],
    [new Unprocessable('Idempotency-Key: reused with another body'), 422, 'Unprocessable Entity'],
    [new TooManyRequests('slow down'), 429, 'Too Many Requests'],
    [new Unavailable('admin API is off'), 503, 'Service Unavailable'],
  ])('answers %p with %i %s and no field list', (exception, status, error) => {
    const sent = answer(exception);
    expect(sent.status).toBe(status);
    expect(sent.body).toEqual({ statusCode: status, error, message: exception.message });
  });

  it('keeps the fields of a 429 that names one, and says when to retry', () => {
    const sent = answer(
      new TooManyRequests('phone: too many', {
        errors: [{ field: 'phone', message: 'too many' }],
        retryAfterSeconds: 2.5,
      }),
    );
    expect(sent.headers['retry-after']).toBe('3');
    expect(sent.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'phone: too many',
      errors: [{ field: 'phone', message: 'too many' }],
    });
  });

  it("passes Nest's own HttpExceptions through (its router's 404)", () => {
    const sent = answer(new NotFoundException('Cannot GET /nope'));
    expect(sent.status).toBe(404);
    expect(sent.body).toMatchObject({ statusCode: 404, message: 'Cannot GET /nope' });
  });

  it('answers anything else 500 without its details', () => {
    const sent = answer(new Error('secret detail'));
    expect(sent.status).toBe(500);
    expect(JSON.stringify(sent.body)).not.toContain('secret');
  });
});
