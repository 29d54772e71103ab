/**
 * What every answer of the router gets, and what every request body goes through: security
 * headers, the request id, CORS as the host configures it, and the body rules (JSON only, a size
 * limit read as the body streams in, malformed JSON refused).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { ResolvedRouterOptions } from './options.js';
import { HttpError } from './problem.js';

/** The CSP of JSON answers: nothing may load, nothing may frame them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The CSP of the docs page: its own scripts and styles only (served from the installed package),
 * inline style attributes (Swagger UI sets them), images from itself or data URLs, fetches to
 * itself (the OpenAPI document and "try it out").
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The headers every answer carries (the CSP is set apart: the docs page has its own). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** A request id a client may send: 1 to 128 of `A-Z a-z 0-9 . _ : -`. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Headers a browser may read from our answers (CORS). */
const EXPOSED_HEADERS = ['Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed', 'WWW-Authenticate'];

/** Headers a browser may send (CORS). */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'X-Request-Id'];

/**
 * Sets the request id (the client's `X-Request-Id` when well formed, else a new one) and, on the way
 * out, the security headers, the CSP (unless the answer set its own) and `X-Request-Id`.
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    const sent = c.req.header('X-Request-Id');
    const requestId = sent !== undefined && REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
    c.set('requestId' as never, requestId as never);
    await next();
    applySecurityHeaders(c.res.headers, requestId);
  };
}

/** Adds the security headers to `headers` (kept when already set: the docs page sets its CSP). */
export function applySecurityHeaders(headers: Headers, requestId: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) headers.set(name, value);
  if (!headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', API_CSP);
  if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
  headers.set('X-Request-Id', requestId);
}

/** Hono's CORS middleware configured from the router's options, or null without the option. */
export function corsMiddleware(options: ResolvedRouterOptions['cors']): MiddlewareHandler | null {
  if (!options) return null;
  const allowed = options.origins === '*' ? null : new Set(options.origins);
  return cors({
    origin: allowed === null ? '*' : (origin) => (allowed.has(origin) ? origin : null),
    credentials: options.credentials,
    maxAge: options.maxAge,
    allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
  });
}

/** True for `application/json`, with or without parameters (a charset other than UTF-8 is refused). */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const [type, ...params] = value.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  for (const p of params) {
    const [name, v] = p.split('=').map((s) => s.trim());
    if (name === 'charset' && v?.replace(/"/g, '') !== 'utf-8') return false;
  }
  return true;
}

/** The 413 error for a body over `limit` bytes. */
function tooLarge(limit: number): HttpError {
  return new HttpError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes`, {
    details: { limit },
  });
}

/** Reads the body's bytes, refusing (413) as soon as more than `limit` arrived. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('Content-Length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  const reader = request.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A sentinel: the request carried no body at all. */
export const NO_BODY: unique symbol = Symbol('no body');

/**
 * The request's JSON body, or {@link NO_BODY} when it has none: only `application/json` (415
 * otherwise), at most `limit` bytes (413), UTF-8 and well-formed JSON (400 `MALFORMED_JSON`).
 */
export async function readJsonBody(c: Context, limit: number): Promise<unknown> {
  const request = c.req.raw;
  const contentType = request.headers.get('Content-Type') ?? undefined;
  if (contentType === undefined) {
    // no content type: fine when there is no body at all (curl -X POST), else 415
    if (request.body === null || request.headers.get('Content-Length') === '0') return NO_BODY;
    if ((await readLimited(request, limit)).byteLength === 0) return NO_BODY;
  }
  if (!isJsonContentType(contentType)) {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json', {
      details: { contentType: contentType ?? null },
    });
  }
  const bytes = await readLimited(request, limit);
  if (bytes.byteLength === 0) return NO_BODY;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError('MALFORMED_JSON', 'The request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const why = error instanceof SyntaxError ? error.message : 'invalid JSON';
    throw new HttpError('MALFORMED_JSON', `The request body is not valid JSON: ${why}`);
  }
}

/** The caller's IP for per-IP limits: the host's `clientIp`, else the Node socket's address. */
export function clientIpOf(c: Context, options: ResolvedRouterOptions): string {
  const custom = options.clientIp?.(c.req.raw, c.env);
  if (typeof custom === 'string' && custom.length > 0) return custom;
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
