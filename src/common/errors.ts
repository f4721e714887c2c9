/**
 * Domain errors: what services throw when a request cannot be done. They know nothing of HTTP;
 * HttpErrorFilter (http-exception.filter.ts) is the one place that turns them into answers.
 */

/** One field and what is wrong with it. */
export interface FieldError {
  field: string;
  message: string;
}

/** What went wrong, in the domain's words; the filter maps each to a status. */
export type DomainErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'unprocessable'
  | 'too-many-requests'
  | 'unavailable';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  /** The fields at fault, when the problem is in named fields of the input. */
  readonly errors?: readonly FieldError[];

  constructor(message: string, errors?: readonly FieldError[]) {
    super(message);
    this.name = new.target.name;
    if (errors) this.errors = errors;
  }
}

const joined = (errors: readonly FieldError[]) =>
  errors.map((e) => `${e.field}: ${e.message}`).join('; ');

/** Bad input: each field at fault and why. `message` joins them, first field first. */
export class InvalidInput extends DomainError {
  readonly kind = 'invalid' as const;
  declare readonly errors: readonly FieldError[];

  constructor(errors: readonly FieldError[]) {
    super(joined(errors), errors);
  }
}

/** No credentials, or wrong ones. */
export class Unauthorized extends DomainError {
  readonly kind = 'unauthorized' as const;
}

/** Known caller (or none needed), but not allowed to do this. */
export class Forbidden extends DomainError {
  readonly kind = 'forbidden' as const;
}

/** Absent, or another tenant's (which must look the same). */
export class NotFound extends DomainError {
  readonly kind = 'not-found' as const;
}

/** Not possible in the current state (an enrolment already cancelled, a duplicate). */
export class Conflict extends DomainError {
  readonly kind = 'conflict' as const;
}

/** Well-formed, but cannot be acted on (e.g. an Idempotency-Key reused with another body). */
export class Unprocessable extends DomainError {
  readonly kind = 'unprocessable' as const;
}

/** A limit was reached; `retryAfterSeconds`, when known, says when to try again. */
export class TooManyRequests extends DomainError {
  readonly kind = 'too-many-requests' as const;
  readonly retryAfterSeconds?: number;

  constructor(
    message: string,
    opts: { errors?: readonly FieldError[]; retryAfterSeconds?: number } = {},
  ) {
    super(message, opts.errors);
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** A feature switched off by configuration (not an outage: those are DependencyDownError). */
export class Unavailable extends DomainError {
  readonly kind = 'unavailable' as const;
}

/** Bad input in one field: `invalid('email', 'is not a valid email address')`. */
export function invalid(field: string, problem: string): InvalidInput {
  return invalidFields([{ field, message: problem }]);
}

/** Bad input in several fields at once, first field first. */
export function invalidFields(errors: FieldError[]): InvalidInput {
  return new InvalidInput(errors);
}

export const conflict = (message: string): Conflict => new Conflict(message);
export const notFound = (message: string): NotFound => new NotFound(message);
