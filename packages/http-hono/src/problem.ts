/**
 * Errors as `application/problem+json` (RFC 9457), the one error shape of every route:
 * `{ type, title, status, code, detail, fields?: [{ path, message, in? }], requestId, ...details }`. One table,
 * {@link ERROR_STATUS}, maps every code (the engine's and the few the HTTP layer adds) to its
 * status. Handlers just throw a `FoliokitError` (or an {@link HttpError}); the router's `onError`
 * converts it. Anything else becomes a 500 carrying only the request id.
 */
import { type ErrorCode, isFoliokitError } from '@foliokit/core';
import type { Context } from 'hono';
import { z } from 'zod';

/** Codes only the HTTP layer produces (the engine never does). */
export const HTTP_ERROR_CODES = [
  'MALFORMED_JSON',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'NOT_IMPLEMENTED',
  'INTERNAL_ERROR',
] as const;
/** One of {@link HTTP_ERROR_CODES}. */
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** Every code a problem answer can carry. */
export type ProblemCode = ErrorCode | HttpErrorCode;

/** The content type of every error answer. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The one table from codes to statuses (HTTP.md): validation 422 (malformed JSON 400), every
 * not-found 404, ledger conflicts 409, idempotency conflicts and too-large ranges 422, a full
 * backtest queue 429 (with `Retry-After`), unavailable providers and stores 503, and 501 for a
 * feature this deployment's store does not keep (alerts, backtest runs).
 */
export const ERROR_STATUS: Readonly<Record<ProblemCode, number>> = {
  VALIDATION_FAILED: 422,
  PORTFOLIO_NOT_FOUND: 404,
  NOT_FOUND: 404,
  INSUFFICIENT_CASH: 409,
  INSUFFICIENT_QUANTITY: 409,
  CONFLICT: 409,
  UNKNOWN_SYMBOL: 422,
  IDEMPOTENCY_CONFLICT: 422,
  RANGE_TOO_LARGE: 422,
  QUEUE_FULL: 429,
  PRICE_UNAVAILABLE: 503,
  PROVIDER_ERROR: 503,
  PROVIDER_TIMEOUT: 503,
  PROVIDER_RATE_LIMITED: 503,
  PROVIDER_UNAVAILABLE: 503,
  PROVIDER_INVALID_RESPONSE: 503,
  STORE_ERROR: 503,
  STORE_CLOSED: 503,
  ENGINE_CLOSED: 503,
  INVALID_CONFIGURATION: 500,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  NOT_IMPLEMENTED: 501,
  INTERNAL_ERROR: 500,
};

/** One input at fault: its dotted path within its location, and why. */
export interface ProblemField {
  /** The input's dotted path within its location (`quantity`, `items.0.symbol`, `Idempotency-Key`). */
  path: string;
  /** Why it is at fault. */
  message: string;
  /** Where the input was: the path, the query string, a header or the JSON body. */
  in?: 'path' | 'query' | 'header' | 'body';
}

/** The body of every error answer. */
export interface ProblemBody {
  /** A URI naming the kind of problem, derived from `code` (`urn:foliokit:problem:portfolio-not-found`). */
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  fields?: ProblemField[];
  requestId: string;
  [key: string]: unknown;
}

/** The problem body as a zod schema: documented in the OpenAPI document, checked by the tests. */
export const problemBodySchema: z.ZodType<Record<string, unknown>> = z
  .looseObject({
    type: z.string().meta({ description: 'A URI naming the kind of problem, derived from `code`' }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    code: z.string().meta({ description: "The engine's stable error code (or one of the HTTP layer's)" }),
    detail: z.string(),
    fields: z
      .array(
        z.object({
          path: z.string().meta({ description: 'The dotted path of the input within its location' }),
          message: z.string(),
          in: z
            .enum(['path', 'query', 'header', 'body'])
            .optional()
            .meta({ description: 'Where the input was (absent when the engine refused a value)' }),
        }),
      )
      .optional()
      .meta({ description: 'The inputs at fault' }),
    requestId: z.string().meta({ description: 'Also in the X-Request-Id header; find the request in the logs by it' }),
  })
  .meta({
    title: 'Problem',
    description: 'An error (RFC 9457 application/problem+json); further members carry the error details.',
    examples: [
      {
        type: 'urn:foliokit:problem:insufficient-cash',
        title: 'Insufficient cash',
        status: 409,
        code: 'INSUFFICIENT_CASH',
        detail: 'Not enough cash: 150 needed, 100 available',
        fields: [{ path: 'quantity', message: 'Not enough cash: 150 needed, 100 available' }],
        requestId: '9b2f3c1e-8f4d-4a57-9e0c-2b1d6f1b7a10',
      },
    ],
  });

/** An error the HTTP layer raises (401, 403, 413, 415, 429, malformed JSON). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly code: HttpErrorCode;
  readonly details: Record<string, unknown>;
  /** Headers the answer carries (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.code = code;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

/** True for an {@link HttpError}. */
export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}

/** `urn:foliokit:problem:portfolio-not-found` for `PORTFOLIO_NOT_FOUND`. */
export function problemType(code: ProblemCode): string {
  return `urn:foliokit:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

/** `Portfolio not found` for `PORTFOLIO_NOT_FOUND`. */
export function problemTitle(code: ProblemCode): string {
  const words = code
    .toLowerCase()
    .replace(/_/g, ' ')
    .replace(/\bjson\b/, 'JSON');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Detail keys that the problem's own members already carry (never spread twice). */
const RESERVED = new Set([
  'type',
  'title',
  'status',
  'code',
  'detail',
  'fields',
  'requestId',
  'field',
  'issues',
  'cause',
]);

const LOCATIONS = new Set(['path', 'query', 'header', 'body']);

/** The path an issue names: its `path` (the router's issues), else its `field` (the engine's). */
function issuePath(issue: unknown): string | undefined {
  if (typeof issue !== 'object' || issue === null) return undefined;
  const { path, field } = issue as { path?: unknown; field?: unknown };
  if (typeof path === 'string') return path;
  return typeof field === 'string' ? field : undefined;
}

/** The fields at fault of a Foliokit error: its `issues`, else its `field`. */
function fieldsOf(details: Record<string, unknown>, fallbackMessage: string): ProblemField[] | undefined {
  const issues = details.issues;
  if (Array.isArray(issues) && issues.length > 0) {
    const out: ProblemField[] = [];
    for (const i of issues) {
      const path = issuePath(i);
      if (path !== undefined) {
        const { message, in: where } = i as { message?: unknown; in?: unknown };
        const entry: ProblemField = { path, message: typeof message === 'string' ? message : fallbackMessage };
        if (typeof where === 'string' && LOCATIONS.has(where)) entry.in = where as ProblemField['in'];
        out.push(entry);
      }
    }
    if (out.length > 0) return out;
  }
  if (typeof details.field === 'string') return [{ path: details.field, message: fallbackMessage }];
  return undefined;
}

/** The details a client may see: JSON-safe values, reserved keys left out. */
function publicDetails(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (RESERVED.has(key)) continue;
    try {
      if (JSON.stringify(value) !== undefined) out[key] = value;
    } catch {
      // a value JSON cannot carry (a cycle, a bigint) is left out
    }
  }
  return out;
}

/**
 * `Retry-After` (seconds) of codes that always carry one, when the error gives no better estimate:
 * a full backtest queue frees a slot when a run ends, so a client retries after a few seconds.
 */
export const DEFAULT_RETRY_AFTER: Readonly<Partial<Record<ProblemCode, number>>> = { QUEUE_FULL: 5 };

/** Seconds to wait, from a `retryAfterMs` or `retryAfter` (seconds) detail, when one is known. */
function retryAfterOf(details: Record<string, unknown>): string | undefined {
  const ms = details.retryAfterMs;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return String(Math.max(1, Math.ceil(ms / 1000)));
  const s = details.retryAfter;
  if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return String(Math.max(1, Math.ceil(s)));
  return undefined;
}

/** What an answer to `error` is made of. */
export interface Problem {
  body: ProblemBody;
  headers: Record<string, string>;
}

/** Builds the problem for any thrown value; `requestId` ties it to the logs. */
export function toProblem(error: unknown, requestId: string): Problem {
  if (isHttpError(error) || isFoliokitError(error)) {
    const code = error.code;
    const status = ERROR_STATUS[code] ?? 500;
    const details = (error.details ?? {}) as Record<string, unknown>;
    const headers: Record<string, string> = isHttpError(error) ? { ...error.headers } : {};
    const fallback = DEFAULT_RETRY_AFTER[code];
    const retryAfter = retryAfterOf(details) ?? (fallback === undefined ? undefined : String(fallback));
    if (retryAfter !== undefined && headers['Retry-After'] === undefined && (status === 503 || status === 429)) {
      headers['Retry-After'] = retryAfter;
    }
    const detail = status === 500 ? 'The server could not complete the request.' : error.message;
    const body: ProblemBody = {
      ...(status === 500 ? {} : publicDetails(details)),
      type: problemType(code),
      title: problemTitle(code),
      status,
      code,
      detail,
      requestId,
    };
    const fields = status === 500 ? undefined : fieldsOf(details, error.message);
    if (fields) body.fields = fields;
    return { body, headers };
  }
  return {
    body: {
      type: problemType('INTERNAL_ERROR'),
      title: problemTitle('INTERNAL_ERROR'),
      status: 500,
      code: 'INTERNAL_ERROR',
      detail: 'The server could not complete the request.',
      requestId,
    },
    headers: {},
  };
}

/** The request id the router assigned (`X-Request-Id`), or `'unknown'` outside the router. */
export function requestIdOf(c: Context): string {
  const id = c.get('requestId' as never) as unknown;
  return typeof id === 'string' ? id : 'unknown';
}

/** Answers `error` as `application/problem+json`. */
export function problem(c: Context, error: unknown): Response {
  const { body, headers } = toProblem(error, requestIdOf(c));
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}
