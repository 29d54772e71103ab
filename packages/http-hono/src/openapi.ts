/**
 * The OpenAPI 3.1 document, generated from the route table: the same zod schemas that validate
 * requests give the parameters and bodies (`z.toJSONSchema`, input side), each spec's documented
 * answers give the responses, and the router's own rules add the error answers every route can
 * give (401, 403, 404, 413, 415, 422, 429, ...), all in the problem schema. Served at
 * `GET /openapi.json`, with the mount point as its server URL.
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { problemBodySchema } from './problem.js';
import { type AnyRouteSpec, ROUTE_TAGS, type RouteResponse, type RouteTag } from './route-table.js';

/** The API version in the document's `info`. */
export const API_VERSION = '0.1.0';

/** What each tag holds (the tag names are {@link ROUTE_TAGS}, as HTTP.md lists them). */
export const OPENAPI_TAG_DESCRIPTIONS: Readonly<Record<RouteTag, string>> = {
  Portfolios: "The caller's portfolios, their positions and valuation",
  Trading: 'Trades, the ledger and voids (Idempotency-Key)',
  Cash: 'Deposits and withdrawals (Idempotency-Key)',
  History: 'Snapshots of a portfolio over time',
  Prices: 'Latest prices, daily history and providers',
  Watchlist: "Symbols a portfolio's owner follows",
  Analytics: 'Performance, risk, target weights, drift, rebalancing and optimised weights',
  Backtests: 'Backtests run in the background: queue, poll, compare, cancel',
  Strategies: "Strategies, each user's saved parameters, and their signals",
  Alerts: 'Price and portfolio alerts of the caller',
  Streams: 'Server-sent events: prices and portfolio changes',
  Admin: 'Jobs, snapshots, scheduler, providers and metrics (admin role)',
  Health: 'For load balancers',
  Docs: 'This document and its interactive reference page',
};

type JsonSchema = Record<string, unknown>;

/**
 * A JSON Schema (2020-12, as OpenAPI 3.1 uses) of what a schema accepts, with the `examples` its
 * `.meta()` declares. Zod 4 drops the examples of a transforming schema on the input side (they
 * could be outputs); ours are written as inputs (a test parses every body example), so they are
 * put back.
 */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      const examples = z.globalRegistry.get(zodSchema)?.examples;
      if (Array.isArray(examples) && jsonSchema.examples === undefined) jsonSchema.examples = examples;
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** `/portfolios/{id}` for Hono's `/portfolios/:id` (regex constraints dropped). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, '{$1}');
}

/** The names of a Hono path's parameters, in order. */
function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
}

/** The object properties of a JSON Schema, with the names it requires. */
function propertiesOf(schema: JsonSchema): { properties: Record<string, JsonSchema>; required: Set<string> } {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return { properties, required };
}

/** A parameter's description and example moved up from its schema, as OpenAPI places them. */
function parameter(name: string, where: 'path' | 'query' | 'header', schema: JsonSchema, required: boolean) {
  const { description, examples, ...rest } = schema;
  const out: Record<string, unknown> = { name, in: where, required, schema: rest };
  if (typeof description === 'string') out.description = description;
  if (Array.isArray(examples) && examples.length > 0) out.example = examples[0];
  return out;
}

function parametersOf(spec: AnyRouteSpec): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const path = propertiesOf(spec.params ? inputJsonSchema(spec.params) : {});
  for (const name of pathParamNames(spec.path)) {
    out.push(parameter(name, 'path', path.properties[name] ?? { type: 'string' }, true));
  }
  if (spec.query) {
    const query = propertiesOf(inputJsonSchema(spec.query));
    for (const [name, schema] of Object.entries(query.properties)) {
      out.push(parameter(name, 'query', schema, query.required.has(name)));
    }
  }
  if (spec.idempotent) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        "Makes a retry safe: a request repeating an earlier one's key and parameters answers that call's status and " +
        'body with `Idempotent-Replayed: true` and stores nothing; the same key with other parameters is 422 ' +
        '`IDEMPOTENCY_CONFLICT`. Scoped per portfolio (so per caller). 1 to 255 visible ASCII characters.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
    });
  }
  if (spec.stream) {
    out.push({
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      description: 'Resumes after this event id (browsers send it when they reconnect)',
      schema: { type: 'string' },
    });
  }
  return out;
}

function requestBodyOf(spec: AnyRouteSpec): Record<string, unknown> | undefined {
  if (!spec.body) return undefined;
  const { examples, ...schema } = inputJsonSchema(spec.body);
  const media: Record<string, unknown> = { schema };
  if (Array.isArray(examples) && examples.length > 0) media.example = examples[0];
  return { required: !spec.body.safeParse(undefined).success, content: { 'application/json': media } };
}

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

/** The error answers the router itself gives on this route, by status. */
function routerErrors(spec: AnyRouteSpec): Map<number, string> {
  const out = new Map<number, string>();
  const validated =
    spec.params || spec.query || spec.body || spec.idempotent || spec.path.includes(':') || spec.method !== 'get';
  if (spec.body) {
    out.set(400, 'Malformed JSON (MALFORMED_JSON)');
    out.set(415, 'Body not application/json (UNSUPPORTED_MEDIA_TYPE)');
  }
  if (spec.method !== 'get') out.set(413, 'Body over the size limit (PAYLOAD_TOO_LARGE)');
  if (spec.policy !== 'public') out.set(401, 'No or invalid credentials (UNAUTHORIZED)');
  if (spec.policy === 'admin') out.set(403, 'The caller lacks the admin role (FORBIDDEN)');
  if (spec.owned) out.set(404, "No such portfolio, or not one of the caller's: the same answer either way");
  if (validated) out.set(422, 'Invalid input (VALIDATION_FAILED, naming the fields at fault)');
  if (spec.rateLimit) out.set(429, `Rate limited, bucket ${spec.rateLimit} (RATE_LIMITED; see Retry-After)`);
  out.set(500, 'Unexpected error: the problem carries only the request id');
  return out;
}

function responseOf(r: RouteResponse): Record<string, unknown> {
  const out: Record<string, unknown> = { description: r.description };
  if (r.status === 204) return out;
  const type = r.contentType ?? 'application/json';
  const media: Record<string, unknown> = {};
  if (type === 'application/problem+json') media.schema = PROBLEM_REF;
  else if (type.startsWith('text/')) media.schema = { type: 'string' };
  if (r.example !== undefined) media.example = r.example;
  out.content = { [type]: media };
  const headers: Record<string, unknown> = r.status === 429 || r.status === 503 ? { ...RETRY_AFTER } : {};
  for (const [name, header] of Object.entries(r.headers ?? {})) {
    headers[name] = { description: header.description, schema: header.schema ?? { type: 'string' } };
  }
  if (Object.keys(headers).length > 0) out.headers = headers;
  return out;
}

function responsesOf(spec: AnyRouteSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of spec.responses) out[String(r.status)] = responseOf(r);
  for (const [status, description] of routerErrors(spec)) {
    if (out[String(status)] !== undefined) continue;
    out[String(status)] = responseOf({ status, description, contentType: 'application/problem+json' });
  }
  return out;
}

function operationOf(spec: AnyRouteSpec): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: spec.operationId,
    summary: spec.summary,
    tags: [spec.tag],
  };
  if (spec.description) op.description = spec.description;
  const parameters = parametersOf(spec);
  if (parameters.length > 0) op.parameters = parameters;
  const body = requestBodyOf(spec);
  if (body) op.requestBody = body;
  op.responses = responsesOf(spec);
  op.security = spec.policy === 'public' ? [] : [{ bearer: [] }];
  op['x-foliokit-policy'] = spec.policy;
  if (spec.owned) op['x-foliokit-owned'] = true;
  if (spec.rateLimit) op['x-foliokit-rate-limit'] = spec.rateLimit;
  return op;
}

/** The OpenAPI 3.1 document (a plain JSON object). */
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};

/**
 * Builds the document of a route table.
 * @param options.serverUrl the mount point, as the document's one server (`/api`). @default none
 */
export function buildOpenApiDocument(
  routes: readonly AnyRouteSpec[],
  options: { serverUrl?: string } = {},
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const usedTags = new Set<RouteTag>();
  for (const spec of routes) {
    const path = openApiPath(spec.path);
    paths[path] ??= {};
    paths[path][spec.method] = operationOf(spec);
    usedTags.add(spec.tag);
  }
  const doc: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: 'foliokit API',
      version: API_VERSION,
      description:
        'Portfolios, trades, cash, history, prices and streams of a foliokit engine. Amounts, prices and ' +
        'quantities are decimal strings; instants are ISO-8601 UTC; errors are application/problem+json.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: ROUTE_TAGS.filter((t) => usedTags.has(t)).map((name) => ({
      name,
      description: OPENAPI_TAG_DESCRIPTIONS[name],
    })),
    paths,
    components: {
      schemas: { Problem: inputJsonSchema(problemBodySchema) },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "The host's tokens (or its own sessions, when it resolves callers itself)",
        },
      },
    },
  };
  if (options.serverUrl !== undefined) doc.servers = [{ url: options.serverUrl }];
  return doc;
}

/** The path of the document, relative to the mount point. */
export const OPENAPI_PATH = '/openapi.json';

/** Where the router is mounted, from the request of its document (`/api` for `/api/openapi.json`). */
export function mountPointOf(c: Context): string {
  const path = c.req.path;
  const base = path.endsWith(OPENAPI_PATH) ? path.slice(0, -OPENAPI_PATH.length) : '';
  return base === '' ? '/' : base;
}

/**
 * The route of the document. `document` returns the document of the router's full table (this
 * route included), built once when the router is created.
 */
export function openApiRoute(document: () => OpenApiDocument): AnyRouteSpec {
  return {
    method: 'get',
    path: OPENAPI_PATH,
    operationId: 'getOpenApiDocument',
    tag: 'Docs',
    summary: 'This OpenAPI 3.1 document',
    policy: 'public',
    responses: [{ status: 200, description: 'The OpenAPI 3.1 document of every route the router serves' }],
    handler: (c) => c.json({ ...document(), servers: [{ url: mountPointOf(c) }] }),
  };
}
