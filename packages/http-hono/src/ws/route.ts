/**
 * The route-table entry documenting the WebSocket endpoint: `GET /ws` (tag `Streams`, policy
 * `user`). The WebSocket handshake itself never reaches the router (Node hands upgrade requests to
 * `attachWebSocket`'s listener); a plain HTTP `GET` reaches this route and answers
 * `426 Upgrade Required` (problem+json, with `Upgrade: websocket`).
 */

import { PROBLEM_CONTENT_TYPE, problemType, requestIdOf } from '../problem.js';
import { type AnyRouteSpec, defineRoute } from '../route-table.js';
import type { RouterDeps } from '../router-deps.js';

/** The path of the WebSocket endpoint in the route table (relative to the router's mount point). */
export const WEBSOCKET_PATH = '/ws';

const DESCRIPTION =
  'The WebSocket endpoint (served by `attachWebSocket(router, server, { path })`; a router mounted under `/api` ' +
  'serves it at `/api/ws`). Authenticate the upgrade with `Authorization: Bearer <token>`, or, from a browser, ' +
  'the `access_token` query parameter; without a valid caller the upgrade is answered 401 (problem+json). ' +
  'The handshake answers 101; then JSON text frames: send `{ "op": "subscribe", "channel": "prices", "symbols": ' +
  '["AAPL"] }` (channels `prices`, `portfolio:<id>`, `signals`, `alerts`, `backtest:<id>`) or `{ "op": ' +
  '"unsubscribe", "channel": ... }`; receive `{ type: "subscribed", channel }`, events as `{ type, id, at, data, ' +
  'channel }` (the SSE envelope plus its channel), `{ type: "reset", data: { reason } }` after a gap between ' +
  'instances, and `{ type: "error", code, message, channel? }` with the codes REST answers. Pings every 15 s; a ' +
  'client that stops reading is dropped (close code 1013). A plain HTTP request answers 426.';

/** The route documenting the WebSocket endpoint (426 over plain HTTP); the router adds it to its table. */
export function websocketRoutes(_deps: RouterDeps): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: WEBSOCKET_PATH,
      operationId: 'connectWebSocket',
      tag: 'Streams',
      summary: 'WebSocket channels (prices, portfolios, signals, alerts, backtests)',
      description: DESCRIPTION,
      policy: 'user',
      responses: [
        {
          status: 426,
          description: 'A plain HTTP request: connect with a WebSocket client (the handshake answers 101)',
          contentType: PROBLEM_CONTENT_TYPE,
          headers: { Upgrade: { description: 'The protocol to upgrade to: `websocket`' } },
        },
      ],
      handler: (c) => {
        const body = {
          type: problemType('UPGRADE_REQUIRED' as never),
          title: 'Upgrade required',
          status: 426,
          code: 'UPGRADE_REQUIRED',
          detail: 'This endpoint speaks WebSocket: connect with a WebSocket client (see docs/websocket.md).',
          requestId: requestIdOf(c),
        };
        return new Response(JSON.stringify(body), {
          status: 426,
          headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, Upgrade: 'websocket', Connection: 'Upgrade' },
        });
      },
    }),
  ];
}
