/**
 * The one HTTP path of the web providers, a JSON GET: `fetch` with a deadline on the injected clock, redirects
 * followed only within the same origin, statuses mapped to our error codes, a bounded body, JSON
 * parsed without trust. Error messages never carry a query string (API keys live there).
 */
import { type Clock, FoliokitError } from '@foliokit/core';
import { abortError, anySignal } from './signals.js';

/** What every HTTP provider is configured with. */
export interface HttpClient {
  /** Provider name, for messages and details. */
  provider: string;
  fetch: typeof globalThis.fetch;
  clock: Clock;
  /** Deadline of one request, body included. */
  timeoutMs: number;
  headers: Record<string, string>;
  /** Strings to blank out of any text that may reach an error message (API keys). */
  secrets: readonly string[];
}

/** A parsed JSON answer. */
export interface JsonResponse {
  status: number;
  body: unknown;
}

const MAX_REDIRECTS = 3;
/** The largest body read: 32 MiB (Alpha Vantage's full daily series is a few MiB). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Longest Retry-After honoured as given: one day. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Parses a `Retry-After` header (delay in seconds, or an HTTP date) into milliseconds from `now`.
 * @returns the delay, or undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.min(Math.ceil(Number(text) * 1000), MAX_RETRY_AFTER_MS);
  // An HTTP date names its weekday and month (`Wed, 21 Oct 2015 07:28:00 GMT`).
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** Blanks every secret out of `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
  return out;
}

/**
 * GETs `url` and parses its JSON body.
 *
 * - 2xx, and the statuses in `accept`: the parsed body (a non-JSON body of an accepted non-2xx
 *   status is `PROVIDER_ERROR`).
 * - 3xx: followed when the target has the same origin (at most 3 times), else `PROVIDER_ERROR`.
 * - 429: `PROVIDER_RATE_LIMITED` with `details.retryAfterMs` from `Retry-After` when present.
 * - 5xx: `PROVIDER_UNAVAILABLE`; other statuses: `PROVIDER_ERROR`; both with `details.status`.
 * - Network failure: `PROVIDER_UNAVAILABLE` with the cause. Deadline: `PROVIDER_TIMEOUT`.
 * - Malformed JSON or an oversized body: `PROVIDER_INVALID_RESPONSE`.
 */
export async function getJson(
  client: HttpClient,
  url: URL,
  options: {
    signal?: AbortSignal | undefined;
    accept?: readonly number[];
  } = {},
): Promise<JsonResponse> {
  const { provider, clock } = client;
  const deadline = new AbortController();
  const timer = clock.setTimeout(() => {
    deadline.abort(
      new FoliokitError('PROVIDER_TIMEOUT', `${provider}: no answer within ${client.timeoutMs} ms`, {
        provider,
        timeoutMs: client.timeoutMs,
      }),
    );
  }, client.timeoutMs);
  const signal = options.signal ? anySignal([options.signal, deadline.signal]) : deadline.signal;
  const origin = url.origin;
  const path = url.pathname;
  try {
    let current = url;
    for (let hop = 0; ; hop++) {
      let response: Response;
      try {
        response = await client.fetch(current, {
          method: 'GET',
          redirect: 'manual',
          signal,
          headers: client.headers,
        });
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        throw new FoliokitError(
          'PROVIDER_UNAVAILABLE',
          `${provider}: network error${describeCause(error)}`,
          { provider, path },
          { cause: error },
        );
      }
      const { status } = response;
      if (status >= 300 && status < 400) {
        await discard(response);
        const location = response.headers.get('location');
        const target = location === null ? null : safeUrl(location, current);
        if (target !== null && target.origin === origin && hop < MAX_REDIRECTS) {
          current = target;
          continue;
        }
        const why =
          target === null
            ? 'a redirect without a usable location'
            : target.origin === origin
              ? 'too many redirects'
              : `a redirect to another host (${target.host})`;
        throw new FoliokitError('PROVIDER_ERROR', `${provider}: refused ${why}`, {
          provider,
          path,
          status,
          ...(target !== null && target.origin !== origin ? { redirectHost: target.host } : {}),
        });
      }
      if (status === 429) {
        await discard(response);
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
        throw new FoliokitError('PROVIDER_RATE_LIMITED', `${provider}: rate limited (HTTP 429)`, {
          provider,
          path,
          status,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      }
      if (status >= 500) {
        await discard(response);
        throw new FoliokitError('PROVIDER_UNAVAILABLE', `${provider}: server error (HTTP ${status})`, {
          provider,
          path,
          status,
        });
      }
      const accepted = (status >= 200 && status < 300) || (options.accept ?? []).includes(status);
      if (!accepted) {
        await discard(response);
        throw new FoliokitError('PROVIDER_ERROR', `${provider}: request refused (HTTP ${status})`, {
          provider,
          path,
          status,
        });
      }
      const text = await readBody(response, signal, provider, path);
      try {
        return { status, body: JSON.parse(text) as unknown };
      } catch (error) {
        if (status < 200 || status >= 300) {
          throw new FoliokitError('PROVIDER_ERROR', `${provider}: request refused (HTTP ${status})`, {
            provider,
            path,
            status,
          });
        }
        throw new FoliokitError(
          'PROVIDER_INVALID_RESPONSE',
          `${provider}: the body is not valid JSON`,
          { provider, path, status },
          { cause: error },
        );
      }
    }
  } finally {
    clock.clearTimeout(timer);
  }
}

async function readBody(response: Response, signal: AbortSignal, provider: string, path: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    await discard(response);
    throw new FoliokitError('PROVIDER_INVALID_RESPONSE', `${provider}: the body is too large`, { provider, path });
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel().catch(() => {});
        throw new FoliokitError('PROVIDER_INVALID_RESPONSE', `${provider}: the body is too large`, { provider, path });
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof FoliokitError) throw error;
    if (signal.aborted) throw abortError(signal);
    throw new FoliokitError(
      'PROVIDER_UNAVAILABLE',
      `${provider}: the connection failed while reading the body${describeCause(error)}`,
      { provider, path },
      { cause: error },
    );
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to do: the body is not needed.
  }
}

function safeUrl(location: string, base: URL): URL | null {
  try {
    return new URL(location, base);
  } catch {
    return null;
  }
}

/** ` (ECONNREFUSED)`-style suffix from an error's cause code, never its text (which may hold a URL). */
function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = cause?.code ?? (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : '';
}

/** Builds a URL from a base and a path with query parameters. */
export function buildUrl(baseUrl: string, path: string, params: Record<string, string>): URL {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url;
}

/** Checks and normalises a base URL option. */
export function checkBaseUrl(value: string, field = 'baseUrl'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FoliokitError('INVALID_CONFIGURATION', `${field} must be an absolute http(s) URL`, { field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new FoliokitError('INVALID_CONFIGURATION', `${field} must be an absolute http(s) URL`, { field });
  }
  return url.href;
}
