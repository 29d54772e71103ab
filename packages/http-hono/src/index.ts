/**
 * @packageDocumentation
 * `@foliokit/http-hono`: a Hono router over a ready `PortfolioEngine` — REST, SSE and admin routes
 * with auth, validation, rate limits and an OpenAPI 3.1 reference served offline.
 *
 * ```ts
 * const app = new Hono();
 * app.route('/api', createFoliokitRouter(engine, { auth: { jwt: { secret, algorithms: ['HS256'] } } }));
 * ```
 */
export {
  type Authenticator,
  type AuthenticatorDeps,
  type AuthOptions,
  createAuthenticator,
  DEVELOPMENT_AUTH_WARNING,
  HMAC_ALGORITHMS,
  type HmacAlgorithm,
  type JwtAlgorithm,
  type JwtAuthOptions,
  PUBLIC_KEY_ALGORITHMS,
  type PublicKeyAlgorithm,
  type PublicKeyObject,
  type ResolvedUser,
} from './auth.js';
export { DOCS_PATH } from './docs-page.js';
export {
  createMetrics,
  type HistogramSample,
  type Labels,
  type MetricFamily,
  type Metrics,
  type MetricsSnapshot,
  PROMETHEUS_CONTENT_TYPE,
  type ValueSample,
} from './metrics.js';
export { buildOpenApiDocument, OPENAPI_PATH, type OpenApiDocument } from './openapi.js';
export {
  type AlertRouteOptions,
  type CorsOptions,
  DEFAULT_BODY_LIMIT,
  DEFAULT_RATE_LIMITS,
  type FoliokitRouterOptions,
  isBacktestRunner,
  type RateLimit,
  type ResolvedBacktests,
  type ResolvedRouterOptions,
  resolveRouterOptions,
} from './options.js';
export {
  DEFAULT_RETRY_AFTER,
  ERROR_STATUS,
  HTTP_ERROR_CODES,
  HttpError,
  type HttpErrorCode,
  PROBLEM_CONTENT_TYPE,
  type ProblemBody,
  type ProblemCode,
  type ProblemField,
  problem,
  problemBodySchema,
} from './problem.js';
export {
  type AnyRouteSpec,
  type AuthUser,
  defineRoute,
  type RateLimitBucket,
  ROUTE_TAGS,
  type RouteInput,
  type RoutePolicy,
  type RouteResponse,
  type RouteResponseHeader,
  type RouteSpec,
  type RouteTag,
} from './route-table.js';
export { ADMIN_ROLE, createFoliokitRouter, type FoliokitRouter, listRoutes } from './router.js';
export type { MetricsRecorder, RouterDeps } from './router-deps.js';
export type { StreamEnvelope } from './sse/frame.js';
export type { SseOptions } from './sse/options.js';
export {
  attachWebSocket,
  type BacktestLookup,
  type BacktestRunInfo,
  type ClientMessage,
  closeWebSocketsOf,
  type ResolvedWebSocketOptions,
  resolveWebSocketOptions,
  SLOW_CLIENT_CLOSE_CODE,
  WEBSOCKET_DEFAULTS,
  WEBSOCKET_PATH,
  type WebSocketAttachment,
  type WebSocketChannel,
  type WebSocketEnvelope,
  type WebSocketErrorMessage,
  type WebSocketOptions,
  type WebSocketRouter,
  type WebSocketStats,
  websocketRoutes,
} from './ws/index.js';
