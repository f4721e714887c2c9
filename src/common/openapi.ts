import { applyDecorators } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiResponse,
  getSchemaPath,
  type DocumentBuilder,
  type ExamplesObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { z } from 'zod';
import type { FieldError } from './errors.js';

/** Security scheme of /api/v1/admin/**: `Authorization: Bearer <ADMIN_TOKEN>`. */
export const ADMIN_AUTH = 'admin';
/** Security scheme of the clinic API under /api/v1: `Authorization: Bearer sdk_live_…`. */
export const CLINIC_KEY_AUTH = 'clinicKey';

/** Adds the two bearer schemes; routes name theirs with `@ApiBearerAuth('admin' | 'clinicKey')`. */
export function addSecuritySchemes(builder: DocumentBuilder): DocumentBuilder {
  return builder
    .addSecurity(ADMIN_AUTH, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'opaque token',
      description:
        'The operator token: `Authorization: Bearer <ADMIN_TOKEN>`. With ADMIN_TOKEN unset the ' +
        'admin API is off and answers 503.',
    })
    .addSecurity(CLINIC_KEY_AUTH, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description:
        "A clinic's API key: `Authorization: Bearer sdk_live_<keyId>_<secret>`. Not a JWT: " +
        'an opaque key, checked against its stored hash; it scopes every request to its clinic.',
    });
}

/** One field at fault, as the global error filter sends it. */
export class FieldErrorBody implements FieldError {
  @ApiProperty({ example: 'email' })
  field!: string;

  @ApiProperty({ example: 'is not a valid email address' })
  message!: string;
}

/** The JSON of every error answer (HttpErrorFilter): status, reason phrase, what went wrong. */
export class ErrorBody {
  @ApiProperty({ type: 'integer', example: 400 })
  statusCode!: number;

  @ApiProperty({ description: 'The reason phrase of the status', example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    description: 'What went wrong; for bad input, every `field: problem`, first field first',
    example: 'email: is not a valid email address',
  })
  message!: string;

  @ApiPropertyOptional({
    type: [FieldErrorBody],
    description:
      'Each field at fault, when the problem is in named fields (every 400 for bad input)',
  })
  errors?: FieldErrorBody[];
}

/** The error statuses this API answers with an ErrorBody. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503;

/** One documented error answer; a bare status takes the defaults below. */
export interface ErrorAnswer {
  status: ErrorStatus;
  /** When this route answers it. */
  description?: string;
  /** The example's message (and, for 400, its fields: derived from `field: problem`). */
  message?: string;
}

const DEFAULTS: Record<ErrorStatus, { error: string; description: string; message: string }> = {
  400: {
    error: 'Bad Request',
    description: 'Bad input: every field at fault is in `errors`; nothing was changed',
    message: 'email: is not a valid email address',
  },
  401: {
    error: 'Unauthorized',
    description: 'The bearer credential is missing or wrong',
    message: 'Authorization: Bearer <token> is missing or wrong',
  },
  403: {
    error: 'Forbidden',
    description: 'Not allowed',
    message: 'not allowed',
  },
  404: {
    error: 'Not Found',
    description: 'No such resource (a malformed id, or another tenant’s, answers the same)',
    message: 'enrollment 1b4e28ba-2fa1-11d2-883f-0016d3cca427 not found',
  },
  409: {
    error: 'Conflict',
    description: 'Not possible in the current state',
    message: 'status: cannot pause an enrolment that is cancelled',
  },
  413: {
    error: 'Payload Too Large',
    description: 'The body is larger than the limit',
    message: 'body: is larger than the 64 kB limit',
  },
  422: {
    error: 'Unprocessable Entity',
    description: 'Well-formed, but cannot be acted on',
    message: 'Idempotency-Key: was already used with a different request',
  },
  429: {
    error: 'Too Many Requests',
    description: 'A limit was reached; `Retry-After` says when to try again',
    message: 'Too many requests; try again in a minute.',
  },
  503: {
    error: 'Service Unavailable',
    description:
      'PostgreSQL or Redis is unreachable, or the feature is switched off; nothing was changed',
    message: 'PostgreSQL is unreachable; nothing was changed, try again shortly',
  },
};

/** The error JSON the global filter sends for this status, as an example. */
export function errorExample(status: ErrorStatus, message?: string): ErrorBody {
  const d = DEFAULTS[status];
  const text = message ?? d.message;
  const body: ErrorBody = { statusCode: status, error: d.error, message: text };
  if (status === 400) {
    body.errors = text.split('; ').map((part) => {
      const at = part.indexOf(': ');
      return at < 0
        ? { field: '(body)', message: part }
        : { field: part.slice(0, at), message: part.slice(at + 2) };
    });
  }
  return body;
}

/** The response object of one error answer: ErrorBody as JSON, with an example. */
export function errorResponse(answer: ErrorStatus | ErrorAnswer) {
  const a = typeof answer === 'number' ? { status: answer } : answer;
  return {
    status: a.status,
    description: a.description ?? DEFAULTS[a.status].description,
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ErrorBody) },
        example: errorExample(a.status, a.message),
      },
    },
  };
}

/**
 * Documents the error answers of a route (or of every route of a controller) with the
 * ErrorBody schema and an example: `@ApiErrors(400, 404, { status: 409, message: '…' })`.
 */
export function ApiErrors(
  ...answers: (ErrorStatus | ErrorAnswer)[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorBody, FieldErrorBody),
    ...answers.map((a) => ApiResponse(errorResponse(a))),
  );
}

/**
 * The OpenAPI 3.0 schema of what a zod schema accepts (its input: defaults make fields
 * optional), so a documented body or query is the one the ZodPipe enforces. Refinements
 * (a valid time zone) cannot be expressed and are left to the 400 they cause.
 */
export function openApiSchema(schema: z.ZodType): SchemaObject {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  delete json.$schema;
  return withoutRedundantPatterns(json) as SchemaObject;
}

/** zod spells a format out as a long regex too; the format alone says it (and reads better). */
function withoutRedundantPatterns(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRedundantPatterns);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'pattern' && 'format' in node) continue;
    out[k] = withoutRedundantPatterns(v);
  }
  return out;
}

/** A JSON request body documented from the zod schema that validates it. */
export function ApiZodBody(
  schema: z.ZodType,
  opts: {
    examples?: ExamplesObject;
    description?: string;
    contentTypes?: string[];
    adjust?: (s: SchemaObject) => SchemaObject;
  } = {},
): MethodDecorator {
  const base = openApiSchema(schema);
  return applyDecorators(
    ApiConsumes(...(opts.contentTypes ?? ['application/json'])),
    ApiBody({
      required: true,
      description: opts.description,
      schema: opts.adjust ? opts.adjust(base) : base,
      ...(opts.examples ? { examples: opts.examples } : {}),
    }),
  );
}

/** Query parameters documented from the zod object schema that validates them. */
export function ApiZodQuery(
  schema: z.ZodObject,
  descriptions: Record<string, string> = {},
): MethodDecorator {
  const json = openApiSchema(schema) as SchemaObject & {
    properties?: Record<string, SchemaObject>;
    required?: string[];
  };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, s]) => {
      const { description, ...rest } = s;
      return ApiQuery({
        name,
        required: json.required?.includes(name) ?? false,
        description: descriptions[name] ?? description,
        schema: rest,
      });
    }),
  );
}
