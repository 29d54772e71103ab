/**
 * Options of the SSE streams (`options.streams` of the router), validated once at start with a clear
 * error naming the field at fault.
 */
import { FoliokitError } from '@foliokit/core';
import { z } from 'zod';

/** What a host may set; every field has a documented default. */
export interface SseOptions {
  /** Recent events kept per stream for `Last-Event-ID` resumption. @default 1000 */
  bufferSize?: number;
  /** The `retry:` hint (ms) sent at connect: how long a browser waits before reconnecting. @default 3000 */
  retryMs?: number;
  /** A comment line is sent to a client after this long (ms) without anything else, so proxies keep the connection. @default 15000 */
  heartbeatMs?: number;
  /** Events a client may have waiting to be written; one more and it is dropped. @default 256 */
  clientQueueEvents?: number;
  /** Bytes a client may have waiting to be written; more and it is dropped. @default 1048576 (1 MiB) */
  clientQueueBytes?: number;
  /** Symbols one `GET /stream/prices` may ask for. @default 100 */
  maxSymbols?: number;
  /**
   * How long (ms) a portfolio's valuation waits for more changes before it is computed: a burst of
   * prices or trades sends one `valuation` event. @default 100
   */
  valuationDelayMs?: number;
  /**
   * How long (ms) a stream keeps its engine subscription and its buffer after its last client left,
   * so a client reconnecting within that time resumes without a `reset`. 0 frees them at once.
   * @default 30000
   */
  lingerMs?: number;
}

/** The options with every default applied. */
export type ResolvedSseOptions = Required<SseOptions>;

/** The defaults of {@link SseOptions}. */
export const SSE_DEFAULTS: ResolvedSseOptions = Object.freeze({
  bufferSize: 1000,
  retryMs: 3000,
  heartbeatMs: 15_000,
  clientQueueEvents: 256,
  clientQueueBytes: 1024 * 1024,
  maxSymbols: 100,
  valuationDelayMs: 100,
  lingerMs: 30_000,
});

const positive = (max: number) => z.number().int().positive().max(max);
const nonNegative = (max: number) => z.number().int().nonnegative().max(max);

/** The zod schema of {@link SseOptions}. */
export const sseOptionsSchema = z
  .object({
    bufferSize: positive(1_000_000).optional(),
    retryMs: nonNegative(3_600_000).optional(),
    heartbeatMs: positive(3_600_000).optional(),
    clientQueueEvents: positive(1_000_000).optional(),
    clientQueueBytes: positive(1024 * 1024 * 1024).optional(),
    maxSymbols: positive(10_000).optional(),
    valuationDelayMs: nonNegative(60_000).optional(),
    lingerMs: nonNegative(24 * 3_600_000).optional(),
  })
  .strict();

/**
 * Validates the options (the router's `options.streams`) and applies the defaults.
 *
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the field (`options.streams.heartbeatMs`).
 */
export function resolveSseOptions(input: unknown = {}): ResolvedSseOptions {
  const parsed = sseOptionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['options', 'streams', ...(issue?.path ?? []).map(String)].join('.');
    throw new FoliokitError('INVALID_CONFIGURATION', `Invalid router option ${field}: ${issue?.message ?? 'invalid'}`, {
      field,
    });
  }
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return { ...SSE_DEFAULTS, ...defined };
}
