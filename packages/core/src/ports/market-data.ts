/** The market-data port: what the engine needs from a source of prices. */

/** The latest price of one symbol. */
export interface Quote {
  /** Normalised symbol (trimmed, upper case). */
  symbol: string;
  /** Price as a positive decimal string. */
  price: string;
  /** When the price was observed: UTC ISO-8601 instant. */
  at: string;
  /** ISO 4217 currency of the price. @default 'USD' */
  currency?: string;
  /** Which provider produced it (`"simulated"`, `"yahoo"`, ...). */
  source: string;
}

/** One daily bar. Decimal strings; `close` is required, the rest optional. */
export interface DailyBar {
  /** Calendar day `YYYY-MM-DD`. */
  day: string;
  open?: string;
  high?: string;
  low?: string;
  close: string;
  /** Adjusted close, when the source has one. */
  adjClose?: string;
  volume?: string;
}

/** The answer to a batch quote request: priced symbols, and those the provider does not know. */
export interface QuoteBatch {
  /** Quotes by normalised symbol. */
  quotes: Record<string, Quote>;
  /** Symbols the provider does not know. Not an error for the rest of the batch. */
  unknown: string[];
}

/** A symbol search hit. */
export interface SymbolMatch {
  symbol: string;
  name?: string;
  exchange?: string;
  currency?: string;
}

/** Options every long provider operation accepts last. */
export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
}

/**
 * A source of prices. Implement this to plug any data source into foliokit; wrap it with the
 * resilience wrappers of `@foliokit/providers` (timeout, retry, rate limit, cache, failover).
 *
 * @example
 * ```ts
 * const provider: MarketDataProvider = {
 *   name: 'my-feed',
 *   async getQuotes(symbols) { ... return { quotes, unknown } },
 *   async getDailyHistory(symbol, { from, to }) { ... return bars },
 * };
 * ```
 */
export interface MarketDataProvider {
  /** A short name used in quotes' `source`, logs and status (`"yahoo"`). */
  readonly name: string;
  /**
   * Latest prices for a batch of symbols (already normalised). Symbols the provider does not know
   * go in `unknown`; a failure of the whole source throws.
   */
  getQuotes(symbols: readonly string[], options?: CallOptions): Promise<QuoteBatch>;
  /**
   * Daily bars for `symbol` with `from <= day <= to`, ordered by day ascending. An unknown symbol
   * throws a FoliokitError with code `UNKNOWN_SYMBOL`; a known symbol with no bars in range returns `[]`.
   */
  getDailyHistory(symbol: string, range: { from: string; to: string }, options?: CallOptions): Promise<DailyBar[]>;
  /** Optional symbol search. */
  searchSymbols?(query: string, options?: CallOptions): Promise<SymbolMatch[]>;
  /**
   * How often the engine's price poller should refresh this provider's quotes, in ms. A simulated
   * feed can be polled every few seconds; a rate-limited HTTP source wants minutes.
   * @default 900_000 (15 minutes)
   */
  readonly suggestedPollIntervalMs?: number;
}
