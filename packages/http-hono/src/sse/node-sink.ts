/**
 * SSE under `@hono/node-server`: frames written straight to Node's `ServerResponse` (the adapter's
 * `c.env.outgoing`), without a web stream per client. Each frame's bytes are encoded once and
 * written as they are to every client; `write` returning false blocks the client (its frames then
 * wait in its bounded queue) until the response emits `drain`.
 *
 * The route answers with a `Response` carrying `x-hono-already-sent` (what `@hono/node-server`'s
 * `RESPONSE_ALREADY_SENT` carries), so the adapter leaves the connection to us; the head is
 * written once that answer has been through every middleware, with the headers they set on it.
 */
import type { Context } from 'hono';
import { applySecurityHeaders } from '../security.js';
import type { CloseReason, FrameSink, SseClient } from './client.js';

/** The header by which `@hono/node-server` leaves a response's connection alone. */
export const ALREADY_SENT_HEADER = 'x-hono-already-sent';

/** What the streams use of a Node `http.ServerResponse` (or `Http2ServerResponse`). */
export interface NodeResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(): unknown;
  cork?(): void;
  uncork?(): void;
  on(event: 'close' | 'drain' | 'error', listener: () => void): unknown;
}

/** The Node response of a request served by `@hono/node-server`, or undefined on another runtime. */
export function nodeResponseOf(c: Context): NodeResponse | undefined {
  const outgoing = (c.env as { outgoing?: Partial<NodeResponse> } | undefined)?.outgoing;
  if (
    typeof outgoing?.writeHead !== 'function' ||
    typeof outgoing.write !== 'function' ||
    typeof outgoing.on !== 'function' ||
    outgoing.headersSent !== false
  ) {
    return undefined;
  }
  return outgoing as NodeResponse;
}

/**
 * Streams `client` to `res`: returns the answer the route gives (it tells the adapter the
 * connection is ours), and starts writing once that answer has gone through the middlewares.
 */
export function openNodeStream(c: Context, client: SseClient, res: NodeResponse): Response {
  const disconnected = () => client.close('disconnected');
  res.on('close', disconnected);
  res.on('error', disconnected);
  res.on('drain', () => client.drained());
  setImmediate(() => start(c, client, res));
  return new Response(null, {
    headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', [ALREADY_SENT_HEADER]: 'true' },
  });
}

/** Writes the head, then hands the client a sink on the response. */
function start(c: Context, client: SseClient, res: NodeResponse): void {
  if (res.headersSent || res.writableEnded || res.destroyed) {
    // Something else answered (a middleware replaced the answer), or the client is gone.
    client.close('disconnected');
    return;
  }
  res.writeHead(200, headRecord(c));
  client.attach(sinkOf(res));
}

/**
 * The head: every header of the answer as the middlewares left it (CORS, `X-Accel-Buffering`,
 * ...), without the adapter's marker, and the router's security headers in any case.
 */
function headRecord(c: Context): Record<string, string | string[]> {
  const headers = new Headers(c.res.headers);
  headers.delete(ALREADY_SENT_HEADER);
  headers.delete('Content-Length');
  const requestId = headers.get('X-Request-Id') ?? (c.get('requestId' as never) as string | undefined);
  applySecurityHeaders(headers, requestId ?? crypto.randomUUID());
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of headers) if (name !== 'set-cookie') record[name] = value;
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record['set-cookie'] = cookies;
  return record;
}

/** A sink on a Node response: batches go out corked, as one write. */
function sinkOf(res: NodeResponse): FrameSink {
  return {
    write: (bytes) => res.write(bytes),
    writeAll(chunks) {
      res.cork?.();
      let ok = true;
      for (const bytes of chunks) ok = res.write(bytes);
      res.uncork?.();
      return ok;
    },
    close(reason: CloseReason) {
      if (reason === 'disconnected') return;
      // A client that stopped reading holds nothing: its socket goes at once.
      if (reason === 'overflow') res.destroy();
      else res.end();
    },
  };
}
