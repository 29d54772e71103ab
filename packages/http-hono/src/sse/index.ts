/** The SSE streams: the hub, its clients and options. */
export { portfolioKey, type StreamKey } from './channel.js';
export type { CloseReason, SseClient, StreamEvent } from './client.js';
export { formatEventId, parseEventId } from './event-id.js';
export { envelopeFrame, type StreamEnvelope } from './frame.js';
export {
  type ConnectRequest,
  createStreamHub,
  GAP_EVENT_TYPES,
  PORTFOLIO_STREAM_EVENTS,
  type ResetReason,
  type SseMetrics,
  StreamHub,
  type StreamHubOptions,
  type StreamHubStats,
} from './hub.js';
export {
  type ResolvedSseOptions,
  resolveSseOptions,
  SSE_DEFAULTS,
  type SseOptions,
  sseOptionsSchema,
} from './options.js';
