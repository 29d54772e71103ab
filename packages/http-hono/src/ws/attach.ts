/**
 * `attachWebSocket(router, server, options)`: WebSocket channels beside the SSE streams, on the
 * Node HTTP server that serves the router. A `ws` server in `noServer` mode handles the `upgrade`
 * requests of one path; the connection is authenticated with the router's own `auth` option before
 * the handshake completes, so an unauthenticated client never gets a socket.
 *
 * Several attachments (several routers) share one `upgrade` listener per Node server, which routes
 * by path: two attachments on one path are refused at attach time, and an upgrade to a path no
 * attachment owns is left to the server's other `upgrade` listeners (answered 404 only when there
 * is none, so the client is not left hanging).
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { FoliokitError } from '@foliokit/core';
import { WebSocketServer } from 'ws';
import { type Authenticator, createAuthenticator } from '../auth.js';
import { HttpError, PROBLEM_CONTENT_TYPE, toProblem } from '../problem.js';
import type { RouterDeps } from '../router-deps.js';
import { type BacktestLookup, WebSocketHub, type WebSocketStats } from './hub.js';
import { type ResolvedWebSocketOptions, resolveWebSocketOptions, type WebSocketOptions } from './options.js';

/** What `attachWebSocket` needs of a router: its shared state (`router.deps`). */
export interface WebSocketRouter {
  readonly deps: RouterDeps;
}

/** A running attachment. */
export interface WebSocketAttachment {
  /** The options in force, defaults applied. */
  readonly options: ResolvedWebSocketOptions;
  /**
   * Stops answering upgrades on its path, ends every connection (close code 1001; a client that
   * does not finish the close handshake is terminated) and resolves once every socket is closed.
   * Idempotent.
   */
  close(): Promise<void>;
  /** Resource counts (clients, subscriptions, engine subscriptions, timers, dropped, terminated). */
  stats(): WebSocketStats;
}

/** One path's handler on a server's shared `upgrade` listener. */
type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The shared `upgrade` listener of each Node server, routing by path. */
interface UpgradeRoutes {
  handlers: Map<string, UpgradeHandler>;
  listener: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

const serverRoutes = new WeakMap<Server, UpgradeRoutes>();
/** The attachments of each router (by its deps), which `closeWebSocketsOf` ends. */
const attachments = new WeakMap<RouterDeps, Set<WebSocketAttachment>>();

/**
 * Serves the router's WebSocket channels on `server` at `options.path` (default `/ws`). See
 * `docs/websocket.md` for the protocol.
 *
 * @example
 * ```ts
 * const server = serve({ fetch: app.fetch, port: 3000 });
 * const ws = attachWebSocket(router, server as Server, { path: '/api/ws' });
 * // at shutdown: await ws.close() (router.close() ends the sockets too)
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the bad option (`options.heartbeatMs`), or
 * `options.path` when another attachment already serves that path on this server.
 */
export function attachWebSocket(
  router: WebSocketRouter,
  server: Server,
  options: WebSocketOptions = {},
): WebSocketAttachment {
  const deps = router?.deps;
  if (!deps || typeof deps.engine?.onAny !== 'function') {
    throw new FoliokitError('INVALID_CONFIGURATION', 'attachWebSocket needs a router from createFoliokitRouter', {
      field: 'router',
    });
  }
  if (typeof (server as { on?: unknown } | null)?.on !== 'function') {
    throw new FoliokitError('INVALID_CONFIGURATION', 'attachWebSocket needs a Node HTTP server', { field: 'server' });
  }
  const resolved = resolveWebSocketOptions(options);
  const routes = upgradeRoutesOf(server);
  if (routes.handlers.has(resolved.path)) {
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `Invalid WebSocket option options.path: ${resolved.path} is already served on this server`,
      { field: 'options.path' },
    );
  }
  const authenticate = createAuthenticator(deps.options.auth, { clock: deps.engine.clock, logger: deps.engine.logger });
  const hub = new WebSocketHub({
    engine: deps.engine,
    options: resolved,
    backtests: () => (deps as RouterDeps & { backtests?: BacktestLookup }).backtests,
    metrics: deps.metrics,
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: resolved.maxPayload, clientTracking: false });
  const allowedOrigins = deps.options.cors && deps.options.cors.origins !== '*' ? deps.options.cors.origins : null;

  const handler: UpgradeHandler = (request, socket, head) => {
    // Until `ws` takes the socket over, an error on it (the client went away) must not go unhandled.
    const onEarlyError = () => socket.destroy();
    socket.on('error', onEarlyError);
    const state = { upgraded: false };
    upgrade(request, socket, head, state).then(
      () => socket.off('error', onEarlyError),
      (error: unknown) => {
        socket.off('error', onEarlyError);
        deps.engine.logger.error('WebSocket: upgrade failed', { error: String(error) });
        if (state.upgraded) socket.destroy();
        else refuse(socket, request, error);
      },
    );
  };

  async function upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    state: { upgraded: boolean },
  ): Promise<void> {
    if (hub.closed) {
      refuse(socket, request, new FoliokitError('ENGINE_CLOSED', 'The server is shutting down'));
      return;
    }
    const origin = request.headers.origin;
    if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.includes(origin)) {
      refuse(socket, request, new HttpError('FORBIDDEN', `Origin ${origin} is not allowed`));
      return;
    }
    const user = await authenticateUpgrade(authenticate, request);
    if (user === null) {
      const sent = request.headers.authorization !== undefined || tokenOfQuery(request) !== null;
      refuse(
        socket,
        request,
        new HttpError('UNAUTHORIZED', 'Authentication required', {
          headers: {
            'WWW-Authenticate': sent ? 'Bearer realm="foliokit", error="invalid_token"' : 'Bearer realm="foliokit"',
          },
        }),
      );
      return;
    }
    if (socket.destroyed) return;
    if (hub.closed) {
      refuse(socket, request, new FoliokitError('ENGINE_CLOSED', 'The server is shutting down'));
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      state.upgraded = true;
      hub.add(ws, user);
    });
  }

  routes.handlers.set(resolved.path, handler);
  let closing: Promise<void> | undefined;
  const attachment: WebSocketAttachment = {
    options: resolved,
    stats: () => hub.stats(),
    close() {
      closing ??= (async () => {
        if (routes.handlers.get(resolved.path) === handler) routes.handlers.delete(resolved.path);
        if (routes.handlers.size === 0) {
          server.off('upgrade', routes.listener);
          serverRoutes.delete(server);
        }
        attachments.get(deps)?.delete(attachment);
        await hub.close();
        await new Promise<void>((done) => wss.close(() => done()));
      })();
      return closing;
    },
  };
  let set = attachments.get(deps);
  if (!set) {
    set = new Set();
    attachments.set(deps, set);
  }
  set.add(attachment);
  return attachment;
}

/**
 * Ends every WebSocket connection of a router (each of its attachments is closed, as by its own
 * `close()`); the router's `close()` calls it. Resolves once every socket is closed.
 */
export async function closeWebSocketsOf(deps: RouterDeps): Promise<void> {
  const set = attachments.get(deps);
  if (!set) return;
  await Promise.all([...set].map((attachment) => attachment.close()));
}

/** The shared `upgrade` listener of `server`, created on first use. */
function upgradeRoutesOf(server: Server): UpgradeRoutes {
  let routes = serverRoutes.get(server);
  if (routes) return routes;
  const handlers = new Map<string, UpgradeHandler>();
  const listener = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const handler = handlers.get(pathOf(request));
    if (handler) {
      handler(request, socket, head);
      return;
    }
    // Another listener may own this path; with none, answer rather than leave the client hanging.
    if (server.listenerCount('upgrade') === 1) {
      refuse(socket, request, new FoliokitError('NOT_FOUND', `No WebSocket endpoint at ${pathOf(request)}`));
    }
  };
  routes = { handlers, listener };
  server.on('upgrade', listener);
  serverRoutes.set(server, routes);
  return routes;
}

/** The path of a request's URL, without its query. */
function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The `access_token` query parameter, for browsers (they cannot set headers on a WebSocket). */
function tokenOfQuery(request: IncomingMessage): string | null {
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  if (q < 0) return null;
  const token = new URLSearchParams(url.slice(q + 1)).get('access_token');
  return token === null || token === '' ? null : token;
}

/**
 * The caller of an upgrade request, by the router's authenticator: the request is handed to it as
 * a web `Request` with the same headers; an `access_token` query parameter, when there is no
 * `Authorization` header, is passed as `Authorization: Bearer <token>`.
 */
async function authenticateUpgrade(authenticate: Authenticator, request: IncomingMessage) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const token = tokenOfQuery(request);
  if (!headers.has('authorization') && token !== null) headers.set('authorization', `Bearer ${token}`);
  const host = headers.get('host') ?? 'localhost';
  const url = new URL(request.url ?? '/', `http://${host}`);
  return authenticate(new Request(url, { method: 'GET', headers }));
}

/** A request id for the problem body: the client's `X-Request-Id` when sane, else a new one. */
function requestIdOfUpgrade(request: IncomingMessage): string {
  const sent = request.headers['x-request-id'];
  return typeof sent === 'string' && /^[\x21-\x7e]{1,200}$/.test(sent) ? sent : randomUUID();
}

/** Answers an upgrade with a problem (401, 403, 404, 503, 500) and closes the socket. */
function refuse(socket: Duplex, request: IncomingMessage, error: unknown): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const requestId = requestIdOfUpgrade(request);
  const { body, headers } = toProblem(error, requestId);
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? ''}`,
    'Connection: close',
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(text)}`,
    `X-Request-Id: ${requestId}`,
    'X-Content-Type-Options: nosniff',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}
