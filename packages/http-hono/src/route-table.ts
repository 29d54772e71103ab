/**
 * The route table: every route the router serves, declared once with its policy, its zod schemas
 * and its answers. The router registers routes from it (validation, auth, ownership, rate limits
 * applied the same way for all), and the OpenAPI document is generated from it, so the document
 * lists exactly what is served.
 */
import type { Portfolio, PortfolioEngine } from '@foliokit/core';
import type { Context } from 'hono';
import type { z } from 'zod';

/** Who may call a route. */
export type RoutePolicy =
  /** Anyone, no credentials (health, the OpenAPI document, the docs page). */
  | 'public'
  /** Any authenticated user. */
  | 'user'
  /** Users with the `admin` role (403 for others). */
  | 'admin';

/**
 * OpenAPI tags, one per area, named and ordered as HTTP.md lists them (the areas this router
 * serves), then `Docs`: the OpenAPI document and its reference page, an area of the router's own.
 */
export const ROUTE_TAGS = [
  'Portfolios',
  'Trading',
  'Cash',
  'History',
  'Prices',
  'Watchlist',
  'Analytics',
  'Backtests',
  'Strategies',
  'Alerts',
  'Streams',
  'Admin',
  'Health',
  'Docs',
] as const;
/** One of {@link ROUTE_TAGS}. */
export type RouteTag = (typeof ROUTE_TAGS)[number];

/** Rate-limit buckets (configured per bucket; per user and per IP). */
export type RateLimitBucket = 'trades' | 'market' | 'admin';

/** The caller, as the `auth` option resolved it (null on public routes without credentials). */
export interface AuthUser {
  userId: string;
  roles: readonly string[];
}

/** A response header, as the OpenAPI document shows it. */
export interface RouteResponseHeader {
  description: string;
  /** Its JSON Schema. @default { type: 'string' } */
  schema?: Readonly<Record<string, unknown>>;
}

/** One documented answer of a route. */
export interface RouteResponse {
  /** The HTTP status. */
  status: number;
  /** What the answer means. */
  description: string;
  /** An example body (JSON), shown in the OpenAPI document. */
  example?: unknown;
  /** Body content type. @default 'application/json' */
  contentType?: string;
  /** Headers this answer may carry, by name (`Idempotent-Replayed`). */
  headers?: Readonly<Record<string, RouteResponseHeader>>;
}

/** What a handler receives: the validated inputs, the caller, and (for owned routes) the portfolio. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  user: AuthUser | null;
  /**
   * The `:id` portfolio when the router read it to check ownership (routes with `owned: true`);
   * null when its owner was already known (read it with `engine.getPortfolio` when needed).
   */
  portfolio: Portfolio | null;
  engine: PortfolioEngine;
  /** The `Idempotency-Key` header, when sent (validated like the engine's keys). */
  idempotencyKey: string | undefined;
}

/** One route. `P`, `Q`, `B`: the parsed params, query and body. */
export interface RouteSpec<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Hono path relative to the router's mount point: `/portfolios/:id/trades`. */
  path: string;
  /** A stable operation id for the OpenAPI document (`createTrade`). */
  operationId: string;
  tag: RouteTag;
  summary: string;
  description?: string;
  policy: RoutePolicy;
  /**
   * The route's `:id` is a portfolio that must belong to the caller: another user's portfolio (or
   * a missing one) answers 404, never 403, on every method.
   */
  owned?: boolean;
  rateLimit?: RateLimitBucket;
  /** Path parameters (strings), validated. */
  params?: z.ZodType<P>;
  /** Query parameters, validated (unknown ones rejected). */
  query?: z.ZodType<Q>;
  /** JSON body, validated (unknown fields rejected). */
  body?: z.ZodType<B>;
  /** Reads the `Idempotency-Key` header. */
  idempotent?: boolean;
  /** A streaming route (SSE): documented as `text/event-stream`. */
  stream?: boolean;
  responses: readonly RouteResponse[];
  handler: (c: Context, input: RouteInput<P, Q, B>) => Response | Promise<Response>;
}

/** A route of any input types (the table holds many). */
// biome-ignore lint/suspicious/noExplicitAny: the table is heterogeneous; each spec is typed where defined
export type AnyRouteSpec = RouteSpec<any, any, any>;

/** Declares a route with its types inferred from its schemas. */
export function defineRoute<P = Record<string, string>, Q = Record<string, unknown>, B = unknown>(
  spec: RouteSpec<P, Q, B>,
): RouteSpec<P, Q, B> {
  return spec;
}
