/**
 * Server-sent event streams: `GET /stream/prices?symbols=` (price updates of the listed symbols)
 * and `GET /stream/portfolios/:id` (one portfolio's ledger events, snapshots and valuation
 * changes). Every client goes through one {@link StreamHub}: see `../sse/hub.ts` for ids,
 * `Last-Event-ID` resumption, `reset`, heartbeats and how slow clients are dropped.
 */
import { FoliokitError } from '@foliokit/core';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { type AnyRouteSpec, defineRoute, type RouteResponse } from '../route-table.js';
import type { RouterDeps } from '../router-deps.js';
import { commaList, errorResponses, portfolioParams, symbolInput } from '../schemas.js';
import { portfolioKey } from '../sse/channel.js';
import { type ConnectRequest, createStreamHub, type StreamHub } from '../sse/hub.js';
import { nodeResponseOf, openNodeStream } from '../sse/node-sink.js';

/** `Last-Event-ID` as a query parameter, for EventSource polyfills that cannot set the header. */
const lastEventIdQuery = z.string().min(1).max(100);

const STREAM_EXAMPLE = [
  'retry: 3000',
  '',
  'event: price.updated',
  'id: mjx3k2a1b2c3d-42',
  'data: {"type":"price.updated","id":"mjx3k2a1b2c3d-42","at":"2026-01-05T14:30:00.012Z","data":{"symbol":"AAPL","price":"187.25","previousPrice":"186.9","at":"2026-01-05T14:30:00.000Z","source":"simulated","currency":"USD"}}',
  '',
  ': heartbeat',
  '',
].join('\n');

/** The answers of a stream route. */
function streamResponses(description: string, ...errors: number[]): RouteResponse[] {
  return [
    { status: 200, description, contentType: 'text/event-stream', example: STREAM_EXAMPLE },
    ...errorResponses(...errors),
  ];
}

const RESUME_DOC =
  'Every event is one envelope (the same for every stream): `event: <type>`, `id: <id>`, and `data:` the JSON ' +
  '`{ type, id, at, data }`, where `at` is when the server recorded it (ISO-8601 UTC) and `data` the payload (the ' +
  "engine event's fields, the valuation, or a reset's `{ reason, message }`). " +
  'Each event has an `id`; a client that reconnects with `Last-Event-ID` (header, or `lastEventId` ' +
  'query for polyfills) gets every event it missed while they are still in the stream buffer, else a ' +
  '`reset` event: refetch the state, then keep listening. A `retry:` hint is sent at connect and a ' +
  'heartbeat comment when the stream is quiet. A client that stops reading is dropped (reconnect ' +
  'with `Last-Event-ID`). Amounts are decimal strings.';

/** The hub of each router, by its deps (see {@link streamHubOf}). */
const hubs = new WeakMap<RouterDeps, StreamHub>();

/**
 * The stream hub serving a router's streams (`streamHubOf(router.deps)`): the router closes it at
 * shutdown (`hub.close()` ends every stream), tests read its resource counts (`hub.stats()`).
 */
export function streamHubOf(deps: RouterDeps): StreamHub | undefined {
  return hubs.get(deps);
}

/**
 * The stream routes. By default they get a new hub built from `deps` (`options.streams` is
 * validated there, failing at start with `INVALID_CONFIGURATION` naming the option); pass `hub` to
 * serve several route tables from one.
 */
export function streamRoutes(
  deps: RouterDeps,
  hub: StreamHub = createStreamHub({ engine: deps.engine, options: deps.options.streams, metrics: deps.metrics }),
): AnyRouteSpec[] {
  hubs.set(deps, hub);
  const pricesStreamQuery = z.strictObject({
    symbols: commaList(symbolInput, hub.options.maxSymbols),
    lastEventId: lastEventIdQuery.optional(),
  });
  const portfolioStreamQuery = z.strictObject({ lastEventId: lastEventIdQuery.optional() });
  return [
    defineRoute({
      method: 'get',
      path: '/stream/prices',
      operationId: 'streamPrices',
      tag: 'Streams',
      summary: 'Stream price updates',
      description: `\`price.updated\` events for the listed symbols (at most ${hub.options.maxSymbols}). ${RESUME_DOC}`,
      policy: 'user',
      rateLimit: 'market',
      query: pricesStreamQuery,
      stream: true,
      responses: streamResponses('An event stream of `price.updated` events', 401, 422, 429),
      handler: (c, { query }) => {
        const symbols = new Set(query.symbols);
        return openStream(c, hub, {
          key: 'prices',
          lastEventId: lastEventIdOf(c, query.lastEventId),
          filter: (event) => event.topic !== undefined && symbols.has(event.topic),
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/stream/portfolios/:id',
      operationId: 'streamPortfolio',
      tag: 'Streams',
      summary: "Stream a portfolio's changes",
      description:
        '`trade.executed`, `cash.deposited`, `cash.withdrawn`, `transaction.voided`, `snapshot.recorded`, ' +
        '`history.corrected`, `portfolio.updated`, `portfolio.deleted` (the stream then ends), and ' +
        '`valuation` (the new valuation after trades, cash movements, voids and price changes of held ' +
        `symbols; a burst of changes sends one). ${RESUME_DOC}`,
      policy: 'user',
      owned: true,
      params: portfolioParams,
      query: portfolioStreamQuery,
      stream: true,
      responses: streamResponses("An event stream of the portfolio's events", 401, 404, 422),
      handler: (c, { params, query, portfolio }) =>
        openStream(c, hub, {
          key: portfolioKey(portfolio?.id ?? params.id),
          lastEventId: lastEventIdOf(c, query.lastEventId),
        }),
    }),
  ];
}

/** The id to resume from: the `Last-Event-ID` header (what browsers send), else the query's. */
function lastEventIdOf(c: Context, fromQuery: string | undefined): string | undefined {
  return c.req.header('Last-Event-ID') ?? fromQuery;
}

/**
 * Connects a client to the hub and writes its frames until it closes: straight to the Node
 * response under `@hono/node-server` (see `../sse/node-sink.ts`), else through Hono's `streamSSE`.
 */
function openStream(c: Context, hub: StreamHub, request: ConnectRequest): Response {
  if (hub.closed) throw new FoliokitError('ENGINE_CLOSED', 'The streams are closed: the server is shutting down');
  // Proxies such as nginx must not buffer an event stream.
  c.header('X-Accel-Buffering', 'no');
  const res = nodeResponseOf(c);
  if (res) return openNodeStream(c, hub.connect(request), res);
  return streamSSE(c, async (stream) => {
    const client = hub.connect(request);
    stream.onAbort(() => client.close('disconnected'));
    client.onClose((reason) => {
      // It stopped reading: end the pending write and let its stream go, holding nothing.
      if (reason === 'overflow') stream.abort();
    });
    await client.pump((chunk) => stream.write(chunk));
  });
}
