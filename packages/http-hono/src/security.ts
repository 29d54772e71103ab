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
    // an answer built by jsonAnswer carries them already (its headers are a plain object, cheap to write)
    if (!SECURED.has(c.res)) applySecurityHeaders(c.res.headers, requestId);
  };
}

/** Answers built by {@link jsonAnswer}: they carry the security headers and the request id. */
const SECURED = new WeakSet<Response>();

/** The headers of a JSON answer besides the request id, built once (lower case, as Node writes them). */
const JSON_ANSWER_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  ...Object.fromEntries(Object.entries(SECURITY_HEADERS).map(([name, value]) => [name.toLowerCase(), value])),
  'content-security-policy': API_CSP,
  'cache-control': 'no-store',
});

/**
 * A JSON answer with every header {@link securityHeaders} would add already in it, as a plain
 * object: under `@hono/node-server` it is written without building a `Headers` object at all.
 * `extra` headers (`Location`, `Idempotent-Replayed`) are added as given. Headers set earlier with
 * `c.header()` would be lost, so use it only in handlers that set none.
 */
export function jsonAnswer(c: Context, value: unknown, status = 200, extra?: Record<string, string>): Response {
  const requestId = c.get('requestId' as never) as string | undefined;
  const headers: Record<string, string> = { ...JSON_ANSWER_HEADERS };
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  if (extra) for (const name in extra) headers[name.toLowerCase()] = extra[name] as string;
  const response = new Response(JSON.stringify(value), { status, headers });
  if (requestId !== undefined) SECURED.add(response);
  return response;
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

/** The part of Node's `IncomingMessage` the body reader uses. */
interface NodeIncoming {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly readableFlowing: boolean | null;
  readonly readableEnded: boolean;
  readonly complete?: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
}

/**
 * Under `@hono/node-server`, the Node request (`c.env.incoming`) when its body is still untouched:
 * reading it directly spares the web-stream bridge (a `Request` built with `Readable.toWeb`),
 * which costs more than the rest of a small POST. Undefined elsewhere (`app.request`, other
 * runtimes), or once anything started reading the body: the web `Request` is used then.
 */
function untouchedIncoming(c: Context): NodeIncoming | undefined {
  const incoming = (c.env as { incoming?: Partial<NodeIncoming> } | undefined)?.incoming;
  if (!incoming || typeof incoming.on !== 'function' || typeof incoming.pause !== 'function') return undefined;
  if (incoming.readableFlowing !== null || incoming.readableEnded) return undefined;
  return incoming as NodeIncoming;
}

/** Reads a Node request's body, refusing (413) as soon as more than `limit` bytes arrived. */
function readIncoming(incoming: NodeIncoming, limit: number): Promise<Uint8Array> {
  const declared = incoming.headers['content-length'];
  if (typeof declared === 'string' && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        // the server drains or drops what is left once it has answered
        done();
        incoming.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      done();
      reject(new Error('The request was closed before its body arrived'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** The request's body bytes (at most `limit`, else 413), straight from Node when it can be. */
export function readBody(c: Context, limit: number): Promise<Uint8Array> {
  const incoming = untouchedIncoming(c);
  return incoming ? readIncoming(incoming, limit) : readLimited(c.req.raw, limit);
}

/** Strict UTF-8 (a decoder without `stream` keeps no state between calls, so one serves all). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A sentinel: the request carried no body at all. */
export const NO_BODY: unique symbol = Symbol('no body');

/**
 * The request's JSON body, or {@link NO_BODY} when it has none: only `application/json` (415
 * otherwise), at most `limit` bytes (413), UTF-8 and well-formed JSON (400 `MALFORMED_JSON`).
 */
export async function readJsonBody(c: Context, limit: number): Promise<unknown> {
  const contentType = c.req.header('Content-Type');
  if (contentType === undefined) {
    // no content type: fine when there is no body at all (curl -X POST), else 415
    if (c.req.header('Content-Length') === '0') return NO_BODY;
    if (!untouchedIncoming(c) && c.req.raw.body === null) return NO_BODY;
    if ((await readBody(c, limit)).byteLength === 0) return NO_BODY;
  }
  if (!isJsonContentType(contentType)) {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json', {
      details: { contentType: contentType ?? null },
    });
  }
  const bytes = await readBody(c, limit);
  if (bytes.byteLength === 0) return NO_BODY;
  let text: string;
  try {
    text = UTF8.decode(bytes);
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
