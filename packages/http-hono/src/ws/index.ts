/** WebSocket channels beside the SSE streams: `attachWebSocket`, its options, hub and route. */
export {
  attachWebSocket,
  closeWebSocketsOf,
  type WebSocketAttachment,
  type WebSocketRouter,
} from './attach.js';
export {
  type BacktestLookup,
  type BacktestRunInfo,
  GOING_AWAY_CLOSE_CODE,
  MAX_PENDING_MESSAGES,
  SLOW_CLIENT_CLOSE_CODE,
  type WebSocketStats,
} from './hub.js';
export {
  type ResolvedWebSocketOptions,
  resolveWebSocketOptions,
  WEBSOCKET_DEFAULTS,
  type WebSocketOptions,
} from './options.js';
export {
  type ClientMessage,
  parseChannel,
  type WebSocketChannel,
  type WebSocketEnvelope,
  type WebSocketErrorMessage,
} from './protocol.js';
export { WEBSOCKET_PATH, websocketRoutes } from './route.js';
