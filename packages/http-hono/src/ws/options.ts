/**
 * Options of `attachWebSocket`, validated once at attach time with an error naming the field at
 * fault (`INVALID_CONFIGURATION`, `details.field` such as `options.heartbeatMs`).
 */
import { FoliokitError } from '@foliokit/core';
import { z } from 'zod';

/** What a host may set when attaching WebSocket channels; every field has a documented default. */
export interface WebSocketOptions {
  /**
   * The path of the upgrade requests this attachment answers (query string ignored). A host that
   * mounts the router under `/api` passes `'/api/ws'`. Upgrades to other paths are left to other
   * listeners. @default '/ws'
   */
  path?: string;
  /**
   * How often (ms) every client is pinged; a client that has not answered the previous ping with a
   * pong is terminated. @default 15000
   */
  heartbeatMs?: number;
  /**
   * Bytes a client may have waiting in its socket's write buffer; past this it is a slow client and
   * is dropped (close code 1013, reason `slow client`). @default 1048576 (1 MiB)
   */
  maxBufferedBytes?: number;
  /** Channels one connection may subscribe to at once. @default 100 */
  maxSubscriptions?: number;
  /**
   * Largest incoming message, in bytes; a bigger one closes the connection (code 1009).
   * @default 65536 (64 KiB)
   */
  maxPayload?: number;
  /** Symbols one `prices` subscription may list. @default 100 */
  maxSymbols?: number;
  /**
   * How long (ms) a portfolio's valuation waits for more changes before it is computed: a burst of
   * prices or trades sends one `valuation` event on its `portfolio:<id>` channel (0 to 60,000).
   * @default 100
   */
  valuationDelayMs?: number;
}

/** The options with every default applied. */
export type ResolvedWebSocketOptions = Required<WebSocketOptions>;

/** The defaults of {@link WebSocketOptions}. */
export const WEBSOCKET_DEFAULTS: ResolvedWebSocketOptions = Object.freeze({
  path: '/ws',
  heartbeatMs: 15_000,
  maxBufferedBytes: 1024 * 1024,
  maxSubscriptions: 100,
  maxPayload: 64 * 1024,
  maxSymbols: 100,
  valuationDelayMs: 100,
});

const positive = (max: number) => z.number().int().positive().max(max);

const optionsSchema = z.strictObject({
  path: z
    .string()
    .max(2000)
    .regex(/^\/[^?#\s]*$/, 'must be an absolute path such as /ws or /api/ws (no query, no spaces)')
    .optional(),
  heartbeatMs: positive(3_600_000).optional(),
  maxBufferedBytes: positive(1024 * 1024 * 1024).optional(),
  maxSubscriptions: positive(100_000).optional(),
  maxPayload: positive(64 * 1024 * 1024).optional(),
  maxSymbols: positive(10_000).optional(),
  valuationDelayMs: z.number().int().min(0).max(60_000).optional(),
});

/**
 * Validates the options and applies the defaults.
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the field (`options.heartbeatMs`).
 */
export function resolveWebSocketOptions(input: unknown = {}): ResolvedWebSocketOptions {
  if (input !== undefined && (typeof input !== 'object' || input === null)) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'attachWebSocket: options must be an object', {
      field: 'options',
    });
  }
  const parsed = optionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
    const field = ['options', ...(issue?.path ?? []).map(String), ...unknownKey].join('.');
    const message = issue?.code === 'unrecognized_keys' ? 'is not an option of attachWebSocket' : issue?.message;
    throw new FoliokitError('INVALID_CONFIGURATION', `Invalid WebSocket option ${field}: ${message ?? 'invalid'}`, {
      field,
    });
  }
  const v = parsed.data;
  return {
    path: v.path ?? WEBSOCKET_DEFAULTS.path,
    heartbeatMs: v.heartbeatMs ?? WEBSOCKET_DEFAULTS.heartbeatMs,
    maxBufferedBytes: v.maxBufferedBytes ?? WEBSOCKET_DEFAULTS.maxBufferedBytes,
    maxSubscriptions: v.maxSubscriptions ?? WEBSOCKET_DEFAULTS.maxSubscriptions,
    maxPayload: v.maxPayload ?? WEBSOCKET_DEFAULTS.maxPayload,
    maxSymbols: v.maxSymbols ?? WEBSOCKET_DEFAULTS.maxSymbols,
    valuationDelayMs: v.valuationDelayMs ?? WEBSOCKET_DEFAULTS.valuationDelayMs,
  };
}
