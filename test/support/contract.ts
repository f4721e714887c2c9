import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/*
 * The OpenAPI contract as a test sees it: a proxy in front of the app that checks every
 * exchange against the document the app serves at /docs-json, and records each difference.
 *
 *   const contract = await startContract(t.app);
 *   await request(contract.server).post('/subscriptions').send({...}).expect(202);
 *   contract.assertNoViolations();   // throws, listing every difference seen
 *   await contract.close();
 *
 * A difference is: a route, method or status the document does not name; a response whose
 * content type or body does not match the documented schema (objects are closed: a property
 * the document does not name is a difference); a request the document calls wrong (body,
 * parameters, missing credentials) that the app nonetheless accepted with a 1xx-3xx.
 * Requests that break the document are allowed: bad requests are how 4xx answers are tested.
 */

type Json = unknown;
type Schema = Record<string, Json>;

export interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  security?: Record<string, string[]>[];
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

type PathItem = { parameters?: Parameter[] } & {
  [method: string]: Operation | Parameter[] | undefined;
};

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, PathItem>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, Schema> };
  security?: Record<string, string[]>[];
  [key: string]: Json;
}

/** One request and its answer, as the proxy saw them. */
export interface Exchange {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
  responseHeaders: IncomingHttpHeaders;
  responseBody: Buffer;
}

export interface CheckResult {
  /** "POST /api/v1/admin/enrollments" as the document names it, if it does. */
  operation?: string;
  /** What is wrong with the request by the document (allowed, if the app refused it). */
  requestProblems: string[];
  /** Differences between the exchange and the document. */
  violations: string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of a document: "GET /health" and its object. */
export function operationsOf(
  doc: OpenApiDocument,
): { name: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => ({
      name: `${m.toUpperCase()} ${path}`,
      path,
      op: item[m] as Operation,
    })),
  );
}

/** Checks exchanges against one OpenAPI 3.0 document, with ajv for every schema in it. */
export class ContractChecker {
  private readonly ajv: Ajv;
  private readonly params: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { template: string; pattern: RegExp; literal: number }[];

  constructor(readonly document: OpenApiDocument) {
    // strict: false lets OpenAPI's own keywords (example, xml, discriminator) pass; ajv knows
    // OpenAPI 3.0's `nullable`.
    const options = { strict: false, allErrors: true, validateSchema: false } as const;
    this.ajv = new Ajv(options);
    this.params = new Ajv({ ...options, coerceTypes: 'array' });
    for (const ajv of [this.ajv, this.params]) {
      addFormats.default(ajv);
      ajv.addSchema({ components: document.components ?? {} }, 'request.json');
    }
    this.ajv.addSchema({ components: closed(document.components ?? {}) }, 'response.json');
    this.routes = Object.keys(document.paths)
      .map((template) => ({
        template,
        pattern: new RegExp(
          '^' +
            template
              .split(/(\{[^}]+\})/)
              .map((part) =>
                part.startsWith('{')
                  ? `(?<${part.slice(1, -1).replace(/\W/g, '_')}>[^/]+)`
                  : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
              )
              .join('') +
            '/?$',
        ),
        literal: template.replace(/\{[^}]+\}/g, '').length,
      }))
      // /x/find before /x/{id}: the more literal template wins.
      .sort((a, b) => b.literal - a.literal);
  }

  check(x: Exchange): CheckResult {
    const url = new URL(x.url, 'http://contract.invalid');
    const method = x.method.toLowerCase();
    const name = `${x.method.toUpperCase()} ${url.pathname}`;
    const route = this.routes.find((r) => r.pattern.test(url.pathname));
    if (!route) {
      return {
        requestProblems: [],
        violations: [`${name} → ${x.status}: the document has no such path`],
      };
    }
    const item = this.document.paths[route.template]!;
    const op = METHODS.includes(method) ? (item[method] as Operation | undefined) : undefined;
    const operation = `${x.method.toUpperCase()} ${route.template}`;
    if (!op) {
      return {
        operation,
        requestProblems: [],
        violations: [
          `${name} → ${x.status}: the document has no ${x.method} for ${route.template}`,
        ],
      };
    }
    const pathParams = route.pattern.exec(url.pathname)?.groups ?? {};
    const requestProblems = this.checkRequest(op, item.parameters ?? [], x, url, pathParams);
    const violations = this.checkResponse(op, x, requestProblems).map(
      (v) => `${name} → ${x.status}: ${v}`,
    );
    return { operation, requestProblems, violations };
  }

  private checkRequest(
    op: Operation,
    shared: Parameter[],
    x: Exchange,
    url: URL,
    pathParams: Record<string, string>,
  ): string[] {
    const problems: string[] = [];
    const security = op.security ?? this.document.security ?? [];
    if (security.length > 0 && !security.some((req) => this.satisfied(req, x.headers))) {
      problems.push(
        `no credentials for ${security.map((r) => Object.keys(r).join('+')).join(' or ')}`,
      );
    }
    const params = [...shared, ...(op.parameters ?? [])];
    for (const p of params) {
      let value: Json;
      if (p.in === 'path') value = decodeURIComponent(pathParams[p.name.replace(/\W/g, '_')] ?? '');
      else if (p.in === 'query') {
        const all = url.searchParams.getAll(p.name);
        value =
          all.length === 0 ? undefined : p.schema?.type === 'array' ? all : all[all.length - 1];
      } else if (p.in === 'header') value = x.headers[p.name.toLowerCase()];
      else continue;
      if (value === undefined) {
        if (p.required) problems.push(`${p.in} parameter ${p.name} is missing`);
        continue;
      }
      const v = this.validator(this.params, 'request.json', {
        type: 'object',
        properties: { [p.name]: p.schema ?? {} },
      });
      if (!v({ [p.name]: value })) problems.push(...describe(v.errors, `${p.in} `));
    }
    const declared = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
    for (const key of new Set(url.searchParams.keys())) {
      if (!declared.has(key)) problems.push(`query parameter ${key} is not documented`);
    }
    problems.push(...this.checkRequestBody(op, x));
    return problems;
  }

  private checkRequestBody(op: Operation, x: Exchange): string[] {
    const sent = x.body.length > 0;
    if (!op.requestBody) return sent ? ['a body was sent where the document names none'] : [];
    if (!sent) return op.requestBody.required ? ['the required body is missing'] : [];
    const type = essence(x.headers['content-type']);
    const media = op.requestBody.content?.[type];
    if (!media) {
      const documented = Object.keys(op.requestBody.content ?? {}).join(', ');
      return [`body of type ${type || '(none)'} is not documented (documented: ${documented})`];
    }
    const parsed = parse(type, x.body);
    if (!parsed.ok) return [`body: ${parsed.problem}`];
    if (!media.schema) return [];
    const v = this.validator(this.ajv, 'request.json', media.schema);
    return v(parsed.value) ? [] : describe(v.errors, 'body');
  }

  private checkResponse(op: Operation, x: Exchange, requestProblems: string[]): string[] {
    const status = String(x.status);
    const responses = op.responses ?? {};
    const documented = responses[status] ?? responses[`${status[0]}XX`] ?? responses.default;
    if (!documented) {
      return [
        `status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`,
      ];
    }
    const out: string[] = [];
    if (requestProblems.length > 0 && x.status < 400) {
      out.push(`accepted a request the document calls wrong: ${requestProblems.join('; ')}`);
    }
    const content = documented.content ?? {};
    const type = essence(x.responseHeaders['content-type']);
    if (Object.keys(content).length === 0) {
      if (x.responseBody.length > 0)
        out.push(`answered a body (${type}) where the document names none`);
      return out;
    }
    const media =
      content[type] ??
      Object.entries(content).find(
        ([k]) => k.endsWith('/*') && type.startsWith(k.slice(0, -1)),
      )?.[1];
    if (!media) {
      out.push(
        `content type ${type || '(none)'} is not documented for ${status} ` +
          `(documented: ${Object.keys(content).join(', ')})`,
      );
      return out;
    }
    if (!media.schema) return out;
    const parsed = parse(type, x.responseBody);
    if (!parsed.ok) {
      out.push(`response body: ${parsed.problem}`);
      return out;
    }
    const v = this.validator(this.ajv, 'response.json', closed(media.schema) as Schema);
    if (!v(parsed.value)) out.push(...describe(v.errors, 'response body'));
    return out;
  }

  private satisfied(requirement: Record<string, string[]>, headers: IncomingHttpHeaders): boolean {
    return Object.keys(requirement).every((name) => {
      const scheme = this.document.components?.securitySchemes?.[name];
      if (!scheme) return false;
      if (scheme.type === 'http' && String(scheme.scheme).toLowerCase() === 'bearer') {
        return /^Bearer\s+\S+$/i.test(headers.authorization ?? '');
      }
      if (scheme.type === 'http' && String(scheme.scheme).toLowerCase() === 'basic') {
        return /^Basic\s+\S+$/i.test(headers.authorization ?? '');
      }
      if (scheme.type === 'apiKey' && scheme.in === 'header') {
        return headers[String(scheme.name).toLowerCase()] !== undefined;
      }
      return true;
    });
  }

  /** An ajv validator of `schema`, whose `#/components/...` refs point into `base`. */
  private validator(ajv: Ajv, base: string, schema: Schema): ValidateFunction {
    const rebased = rebase(schema, base);
    const key = `${base} ${ajv === this.params ? 'p' : 'b'} ${JSON.stringify(rebased)}`;
    let v = this.compiled.get(key);
    if (!v) {
      v = ajv.compile(rebased as Schema);
      this.compiled.set(key, v);
    }
    return v;
  }
}

/** A running contract: send traffic to `server` (or `url`); it reaches the app unchanged. */
export interface Contract {
  readonly server: http.Server;
  readonly url: string;
  readonly document: OpenApiDocument;
  readonly checker: ContractChecker;
  /** Every exchange so far, with what the checker found. */
  readonly exchanges: (Exchange & CheckResult)[];
  /** The differences found since the last call, then forgets them. */
  takeViolations(): string[];
  /** Throws, listing every difference found since the last check. */
  assertNoViolations(): void;
  /** "METHOD /template" of each documented operation that `include` selects and no exchange reached. */
  unexercised(include?: (operation: string) => boolean): string[];
  /** "METHOD /template status" of every exchange so far. */
  covered(): string[];
  close(): Promise<void>;
}

/**
 * Fetches the app's /docs-json, checks it is a valid OpenAPI document, and starts the
 * checking proxy in front of the app on 127.0.0.1.
 */
export async function startContract(app: INestApplication): Promise<Contract> {
  const upstream = http.createServer(app.getHttpAdapter().getInstance());
  await listen(upstream);
  const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const agent = new http.Agent({ keepAlive: false });
  const docRes = await forward(agent, origin, {
    method: 'GET',
    url: '/docs-json',
    headers: { accept: 'application/json' },
    body: Buffer.alloc(0),
  });
  if (docRes.status !== 200) throw new Error(`/docs-json answered ${docRes.status}`);
  const document = JSON.parse(docRes.body.toString('utf8')) as OpenApiDocument;
  const valid = await new Validator().validate(structuredClone(document));
  if (!valid.valid) {
    throw new Error(`/docs-json is not a valid OpenAPI document: ${JSON.stringify(valid.errors)}`);
  }
  const checker = new ContractChecker(document);
  const exchanges: (Exchange & CheckResult)[] = [];
  let pending: string[] = [];
  const takeViolations = () => {
    const out = pending;
    pending = [];
    return out;
  };

  const proxy = http.createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const sent = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
      const answer = await forward(agent, origin, sent);
      const exchange: Exchange = {
        ...sent,
        status: answer.status,
        responseHeaders: answer.headers,
        responseBody: answer.body,
      };
      const result = checker.check(exchange);
      exchanges.push({ ...exchange, ...result });
      pending.push(...result.violations);
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      delete headers.connection;
      headers['content-length'] = String(answer.body.length);
      if (result.violations.length > 0) {
        headers['x-contract-violation'] = result.violations[0]!.replace(/[^\x20-\x7e]/g, '?');
      }
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    })().catch((err: unknown) => {
      pending.push(`${req.method} ${req.url}: the proxy failed: ${String(err)}`);
      res.destroy();
    });
  });
  await listen(proxy);
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  return {
    server: proxy,
    url,
    document,
    checker,
    exchanges,
    takeViolations,
    assertNoViolations() {
      const found = takeViolations();
      if (found.length > 0) {
        throw new Error(
          `The API and its OpenAPI document differ (${found.length}):\n  ${found.join('\n  ')}`,
        );
      }
    },
    unexercised(include = () => true) {
      const reached = new Set(exchanges.map((x) => x.operation));
      return operationsOf(document)
        .map((o) => o.name)
        .filter((op) => include(op) && !reached.has(op));
    },
    covered() {
      return [...new Set(exchanges.map((x) => `${x.operation ?? x.url} ${x.status}`))].sort();
    },
    async close() {
      agent.destroy();
      await Promise.all([proxy, upstream].map(close));
    },
  };
}

/** Object schemas with properties and no word on others get `additionalProperties: false`. */
function closed(node: Json): Json {
  if (Array.isArray(node)) return node.map(closed);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) {
    // Property names and examples are data, not schemas.
    out[k] = k === 'example' || k === 'examples' ? v : closed(v);
  }
  if ('properties' in out && !('additionalProperties' in out) && !('allOf' in out)) {
    out.additionalProperties = false;
  }
  return out;
}

/** `#/components/...` refs made to point into the schema registered as `base`. */
function rebase(node: Json, base: string): Json {
  if (Array.isArray(node)) return node.map((n) => rebase(n, base));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${base}${v}` : rebase(v, base);
  }
  return out;
}

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).map((e) => {
    const at = e.instancePath ? `${where}${e.instancePath}` : where;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues: Json[] }).allowedValues)})`
          : '';
    return `${at.trim()} ${e.message ?? e.keyword}${extra}`;
  });
}

function essence(contentType: string | string[] | undefined): string {
  const raw = Array.isArray(contentType) ? contentType[0] : contentType;
  return (raw ?? '').split(';')[0]!.trim().toLowerCase();
}

type Parsed = { ok: true; value: Json } | { ok: false; problem: string };

function parse(type: string, body: Buffer): Parsed {
  const text = body.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { ok: true, value: JSON.parse(text) as Json };
    } catch {
      return { ok: false, problem: 'is not valid JSON' };
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      const had = form[k];
      form[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    return { ok: true, value: form };
  }
  return { ok: true, value: text };
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forward(
  agent: http.Agent,
  origin: string,
  req: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    delete headers.connection;
    const out = http.request(
      new URL(req.url, origin),
      { method: req.method, headers, agent },
      (res) => {
        readAll(res).then(
          (body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
          reject,
        );
      },
    );
    out.on('error', reject);
    out.end(req.body);
  });
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
