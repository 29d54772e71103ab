/**
 * Daily closes for backfill and the daily catch-up: fetched once per symbol per call (concurrent
 * requests share the fetch), from the provider, or from the store's price history when the
 * provider is down; each close parsed once, on first use, and never guessed.
 */
import { FoliokitError, isFoliokitError } from '../errors.js';
import { fmt, parseDecimal } from '../money/decimal.js';
import { parseScaled, pow10 } from '../money/fixed.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { QUANTITY_SCALE } from '../valuation/kernel.js';

/** One symbol's closes, ascending by day; closes parsed on first use. */
export interface SymbolHistory {
  days: string[];
  raw: string[];
  /** Closes as bigints scaled by 10^18; null when invalid (then not used); undefined until parsed. */
  parsed: Array<bigint | null | undefined>;
  unknown: boolean;
}

/** Daily closes of every symbol a call needs, fetched once each (concurrent requests share the fetch). */
export class HistoryCache {
  readonly #host: SnapshotHost;
  readonly #range: { from: string; to: string };
  readonly #cache = new Map<string, Promise<SymbolHistory>>();

  constructor(host: SnapshotHost, range: { from: string; to: string }) {
    this.#host = host;
    this.#range = range;
  }

  get(symbol: string): Promise<SymbolHistory> {
    let p = this.#cache.get(symbol);
    if (!p) {
      p = this.#fetch(symbol);
      this.#cache.set(symbol, p);
    }
    return p;
  }

  async #fetch(symbol: string): Promise<SymbolHistory> {
    let bars: Awaited<ReturnType<SnapshotHost['marketData']['getDailyHistory']>>;
    try {
      bars = await this.#host.marketData.getDailyHistory(symbol, this.#range);
    } catch (error) {
      if (isFoliokitError(error) && error.code === 'UNKNOWN_SYMBOL')
        return { days: [], raw: [], parsed: [], unknown: true };
      // The provider is down: the price history the store kept (the price book records it) will do.
      const stored = await this.#host.store.listDailyBars(symbol, this.#range).catch(() => []);
      if (stored.length > 0) {
        this.#host.logger.warn('Daily history from the store: the provider failed', { symbol, error: String(error) });
        return {
          days: stored.map((b) => b.day),
          raw: stored.map((b) => b.close),
          parsed: new Array(stored.length),
          unknown: false,
        };
      }
      const why = error instanceof Error ? error.message : String(error);
      throw new FoliokitError(
        'PRICE_UNAVAILABLE',
        `No daily history for ${symbol}: the market-data provider failed (${why})`,
        { symbol, providerCode: isFoliokitError(error) ? error.code : undefined },
        { cause: error },
      );
    }
    if (!Array.isArray(bars)) {
      throw new FoliokitError('PRICE_UNAVAILABLE', `The provider's daily history for ${symbol} is not a list`, {
        symbol,
      });
    }
    // Trust nothing: keep bars in range with a day, sort, keep the last bar of a repeated day.
    const kept = bars.filter(
      (b) => b && typeof b.day === 'string' && b.day >= this.#range.from && b.day <= this.#range.to,
    );
    let sorted = true;
    for (let i = 1; i < kept.length; i++)
      if ((kept[i] as { day: string }).day < (kept[i - 1] as { day: string }).day) sorted = false;
    if (!sorted) kept.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    const days: string[] = [];
    const raw: string[] = [];
    for (const b of kept) {
      if (days.length > 0 && days[days.length - 1] === b.day) {
        raw[raw.length - 1] = String(b.close);
      } else {
        days.push(b.day);
        raw.push(String(b.close));
      }
    }
    return { days, raw, parsed: new Array(days.length), unknown: false };
  }
}

const MAX_CLOSE = pow10(18) * pow10(QUANTITY_SCALE);

/**
 * The close at index i as a bigint scaled by 10^18, parsed once; null when it is not a positive
 * decimal within the engine's limits (then it is not used, never guessed).
 */
export function closeAt(h: SymbolHistory, i: number): bigint | null {
  let v = h.parsed[i];
  if (v === undefined) {
    const raw = h.raw[i] as string;
    v = parseScaled(raw, QUANTITY_SCALE);
    if (v === null) {
      // Not plain (an exponent, spaces): read it as the API reads any decimal.
      try {
        v = parseScaled(fmt(parseDecimal(raw, 'close')), QUANTITY_SCALE);
      } catch {
        v = null;
      }
    }
    if (v !== null && (v <= 0n || v > MAX_CLOSE)) v = null;
    h.parsed[i] = v;
  }
  return v;
}
