/**
 * The WebSocket protocol: JSON text frames. What a client sends (`subscribe`, `unsubscribe`), the
 * channels it may name, and the messages the server sends (`subscribed`, `unsubscribed`, events in
 * the stream envelope with their `channel`, `reset`, `error`). Parsing never throws: a bad message
 * becomes an `error` message and the connection stays open.
 */
import { FoliokitError } from '@foliokit/core';
import { z } from 'zod';
import { ERROR_STATUS, HttpError } from '../problem.js';
import { symbolInput } from '../schemas.js';
import type { StreamEnvelope } from '../sse/frame.js';

/** A channel a client subscribes to, parsed from its name. */
export type WebSocketChannel =
  /** `prices`: `price.updated`, of the listed symbols when any. */
  | { kind: 'prices'; name: 'prices' }
  /** `signals`: `signal.generated`. */
  | { kind: 'signals'; name: 'signals' }
  /** `alerts`: `alert.triggered` of the caller's own alerts. */
  | { kind: 'alerts'; name: 'alerts' }
  /** `portfolio:<id>`: the events of one of the caller's portfolios (those of the SSE portfolio stream). */
  | { kind: 'portfolio'; name: string; id: string }
  /** `backtest:<id>`: progress and completion of one of the caller's backtest runs. */
  | { kind: 'backtest'; name: string; id: string };

/** A message a client sends, once validated. */
export type ClientMessage =
  | { op: 'subscribe'; channel: WebSocketChannel; symbols: string[] | null }
  | { op: 'unsubscribe'; channel: WebSocketChannel };

/** An event as a WebSocket client receives it: the stream envelope plus the channel it came on. */
export interface WebSocketEnvelope<T = unknown> extends StreamEnvelope<T> {
  /** The channel name the client subscribed with (`prices`, `portfolio:<id>`, ...). */
  channel: string;
}

/** An error message (the connection stays open). `code` is the one REST would answer. */
export interface WebSocketErrorMessage {
  type: 'error';
  code: string;
  message: string;
  /** The channel the failed request named, when it named one. */
  channel?: string;
  /** The field at fault, when one is. */
  field?: string;
}

/** The longest channel name (`portfolio:` and an id of up to 100 characters). */
const MAX_CHANNEL_LENGTH = 120;
const ID = /^[^\s:]{1,100}$/;

/** Parses a channel name; null when it is not one of the channels. */
export function parseChannel(name: string): WebSocketChannel | null {
  if (name === 'prices') return { kind: 'prices', name };
  if (name === 'signals') return { kind: 'signals', name };
  if (name === 'alerts') return { kind: 'alerts', name };
  const colon = name.indexOf(':');
  if (colon < 0) return null;
  const prefix = name.slice(0, colon);
  const id = name.slice(colon + 1);
  if (!ID.test(id)) return null;
  if (prefix === 'portfolio') return { kind: 'portfolio', name, id };
  if (prefix === 'backtest') return { kind: 'backtest', name, id };
  return null;
}

const channelName = z.string().min(1).max(MAX_CHANNEL_LENGTH);

function messageSchema(maxSymbols: number) {
  return z.discriminatedUnion('op', [
    z.strictObject({
      op: z.literal('subscribe'),
      channel: channelName,
      symbols: z.array(symbolInput).min(1).max(maxSymbols).optional(),
    }),
    z.strictObject({ op: z.literal('unsubscribe'), channel: channelName }),
  ]);
}

/** A message parser for one attachment's limits. */
export type MessageParser = (text: string) => ClientMessage | WebSocketErrorMessage;

/**
 * Creates the parser of client messages. Unparsable JSON answers `MALFORMED_JSON` (as REST does);
 * a message of the wrong shape, an unknown channel, or `symbols` on another channel than `prices`
 * answers `VALIDATION_FAILED` naming the field.
 */
export function createMessageParser(maxSymbols: number): MessageParser {
  const schema = messageSchema(maxSymbols);
  return (text) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { type: 'error', code: 'MALFORMED_JSON', message: 'The message is not valid JSON' };
    }
    const named = channelOfRaw(raw);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
      const field = [...(issue?.path ?? []).map(String), ...unknownKey].join('.') || 'message';
      const why = issue?.code === 'unrecognized_keys' ? 'unknown field' : (issue?.message ?? 'invalid');
      return withChannel({ type: 'error', code: 'VALIDATION_FAILED', message: `${field}: ${why}`, field }, named);
    }
    const message = parsed.data;
    const channel = parseChannel(message.channel);
    if (channel === null) {
      return withChannel(
        {
          type: 'error',
          code: 'VALIDATION_FAILED',
          message: `channel: unknown channel (prices, signals, alerts, portfolio:<id>, backtest:<id>)`,
          field: 'channel',
        },
        named,
      );
    }
    if (message.op === 'unsubscribe') return { op: 'unsubscribe', channel };
    if (message.symbols !== undefined && channel.kind !== 'prices') {
      return withChannel(
        {
          type: 'error',
          code: 'VALIDATION_FAILED',
          message: 'symbols: only the prices channel takes symbols',
          field: 'symbols',
        },
        named,
      );
    }
    return { op: 'subscribe', channel, symbols: message.symbols ? [...new Set(message.symbols)] : null };
  };
}

/** The channel a raw message names (for error messages), when it names a short string. */
function channelOfRaw(raw: unknown): string | undefined {
  const channel = (raw as { channel?: unknown } | null)?.channel;
  return typeof channel === 'string' && channel.length <= MAX_CHANNEL_LENGTH ? channel : undefined;
}

function withChannel(error: WebSocketErrorMessage, channel: string | undefined): WebSocketErrorMessage {
  return channel === undefined ? error : { ...error, channel };
}

/**
 * The error message of a thrown error: its code and message when it is one of ours and not a 500,
 * else `INTERNAL_ERROR` with a generic message (as REST answers a 500).
 */
export function errorMessageOf(error: unknown, channel?: string): WebSocketErrorMessage {
  const known =
    (error instanceof FoliokitError || error instanceof HttpError) && (ERROR_STATUS[error.code] ?? 500) !== 500;
  const base: WebSocketErrorMessage = known
    ? { type: 'error', code: error.code, message: error.message }
    : { type: 'error', code: 'INTERNAL_ERROR', message: 'The server could not complete the request.' };
  const field = known ? (error.details as { field?: unknown }).field : undefined;
  if (typeof field === 'string') base.field = field;
  if (channel !== undefined) base.channel = channel;
  return base;
}
