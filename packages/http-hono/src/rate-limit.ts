/**
 * Rate limits per bucket (`trades`, `market`, `admin`), counted per user and, apart, per IP, in
 * fixed windows kept in memory (per router, per process). A request over either count answers 429
 * with `Retry-After` (seconds until its window ends). Time comes from the engine's clock, so tests
 * drive windows without sleeping.
 */
import type { Clock } from '@foliokit/core';
import type { RateLimit } from './options.js';
import { HttpError } from './problem.js';
import type { RateLimitBucket } from './route-table.js';

/** Windows kept at most per limiter; the oldest are forgotten past it (memory stays bounded). */
export const MAX_TRACKED_KEYS = 100_000;

interface Window {
  start: number;
  count: number;
}

/** One bucket's counters. */
export interface RateLimiter {
  /**
   * Counts one request under each key (`user:alice`, `ip:10.0.0.1`).
   * @throws HttpError `RATE_LIMITED` with `Retry-After` when any key is over the limit
   */
  hit(keys: readonly string[]): void;
}

/** Creates the limiter of one bucket. */
export function createRateLimiter(bucket: RateLimitBucket, limit: RateLimit, clock: Pick<Clock, 'now'>): RateLimiter {
  const windows = new Map<string, Window>();

  function windowOf(key: string, now: number): Window {
    let w = windows.get(key);
    if (!w || now - w.start >= limit.windowMs || now < w.start) {
      if (w) windows.delete(key);
      w = { start: now, count: 0 };
      if (windows.size >= MAX_TRACKED_KEYS) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(key, w);
    }
    return w;
  }

  return {
    hit(keys) {
      const now = clock.now();
      const current = keys.map((key) => windowOf(key, now));
      const over = current.find((w) => w.count >= limit.max);
      if (over) {
        const retryAfter = Math.max(1, Math.ceil((over.start + limit.windowMs - now) / 1000));
        throw new HttpError('RATE_LIMITED', `Too many ${bucket} requests; retry in ${retryAfter} s`, {
          details: { bucket, limit: limit.max, windowMs: limit.windowMs, retryAfter },
          headers: { 'Retry-After': String(retryAfter) },
        });
      }
      for (const w of current) w.count++;
    },
  };
}

/** One limiter per bucket. */
export type RateLimiters = Readonly<Record<RateLimitBucket, RateLimiter>>;

/** Creates the limiters of every bucket. */
export function createRateLimiters(
  limits: Readonly<Record<RateLimitBucket, RateLimit>>,
  clock: Pick<Clock, 'now'>,
): RateLimiters {
  return {
    trades: createRateLimiter('trades', limits.trades, clock),
    market: createRateLimiter('market', limits.market, clock),
    admin: createRateLimiter('admin', limits.admin, clock),
  };
}
