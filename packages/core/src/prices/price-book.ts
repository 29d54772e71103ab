/**
 * The price book: the one table of latest prices (symbol → price, instant, currency, source) that
 * valuation, fills and snapshots read, kept in memory and persisted in the store's `symbols` table,
 * and the daily bars persisted as price history. Prices enter only here: every quote is validated
 * (a NaN, zero, negative or non-finite price is never stored or used), and an older quote never
 * replaces a newer one. A quote is never recorded later than the clock's now: one stamped in the
 * future (a provider clock running ahead, a failover between sources) is recorded at now, so it
 * cannot make the real quotes that follow count as older, in memory or in the store.
 */

import { FoliokitError, isFoliokitError } from '../errors.js';
import type { PriceChange } from '../events.js';
import { type Dec, dec, fmt, parseDecimal } from '../money/decimal.js';
import type {
  DailyBar,
  DailyBarRow,
  Logger,
  MarketDataProvider,
  Quote,
  Store,
  SymbolPriceRow,
} from '../ports/index.js';
import { type Clock, toIso } from '../time.js';
import type { KnownPrice } from '../valuation/portfolio.js';
import { findBarFault, findQuoteFault } from './validate.js';

/** What a refresh did. */
export interface PriceRefreshReport {
  requested: number;
  /** Symbols whose price changed. */
  updated: string[];
  /** Symbols priced again at the same price. */
  unchanged: number;
  /** Symbols the provider does not know. */
  unknown: string[];
  /** Symbols not refreshed because a batch failed, or whose quote was invalid. */
  failed: Array<{ symbol: string; code: string }>;
  durationMs: number;
}

/** The health of the market-data provider as the engine sees it. */
export interface ProviderStatus {
  name: string;
  /** False after the last call failed. */
  healthy: boolean;
  lastSuccessAt: string | null;
  lastError: { code: string; message: string; at: string } | null;
  calls: number;
  errors: number;
  consecutiveErrors: number;
  /** Whatever the provider reports about itself (a failover provider's per-source circuits). */
  details?: unknown;
}

export interface PriceBookOptions {
  store: Store;
  provider: MarketDataProvider;
  clock: Clock;
  logger: Logger;
  /** A book entry older than this is refreshed from the provider before use. */
  maxAgeMs: number;
  /** Symbols per provider call. */
  batchSize: number;
  onChange: (change: PriceChange) => void;
}

/**
 * How far ahead of the engine's clock a quote may be stamped before the book logs the source's
 * clock as skewed. Either way the quote is recorded at the clock's now, never later.
 */
export const FUTURE_QUOTE_TOLERANCE_MS = 5_000;

interface Entry extends KnownPrice {
  currency: string;
  /** When this process last confirmed the entry (provider answer or store read). */
  checkedAt: number;
}

/** @internal the engine owns one. */
export class PriceBook {
  readonly #o: PriceBookOptions;
  readonly #memory = new Map<string, Entry>();
  readonly #status: ProviderStatus;

  constructor(options: PriceBookOptions) {
    this.#o = options;
    this.#status = {
      name: options.provider.name,
      healthy: true,
      lastSuccessAt: null,
      lastError: null,
      calls: 0,
      errors: 0,
      consecutiveErrors: 0,
    };
  }

  /**
   * Takes a price another instance fetched (it arrived as a remote `price.updated`; that instance
   * already stored it in the shared store): memory moves to it unless memory holds a newer quote.
   * Quotes are held to this clock as the provider's are.
   */
  learn(change: PriceChange): void {
    const now = this.#o.clock.now();
    const valid = validQuote(
      { symbol: change.symbol, price: change.price, at: change.at, source: change.source },
      change.symbol,
      now,
    );
    if (!valid) return;
    const held = this.#memory.get(change.symbol);
    if (held && held.at > valid.at) return;
    this.#memory.set(change.symbol, {
      price: valid.price,
      text: valid.text,
      at: valid.at,
      source: change.source,
      currency: change.currency,
      stale: false,
      checkedAt: now,
    });
  }

  /** Latest prices from memory only (no I/O): the hot read. */
  peek(symbol: string): KnownPrice | undefined {
    return this.#memory.get(symbol);
  }

  /**
   * Latest prices for `symbols`. Fresh book entries are served from memory; the rest are asked of
   * the provider (and recorded); when the provider cannot answer, the last known price (memory,
   * then the store) is returned flagged `stale`. Symbols with no price at all are absent.
   */
  async get(symbols: readonly string[], options: { maxAgeMs?: number } = {}): Promise<Map<string, KnownPrice>> {
    const maxAge = options.maxAgeMs ?? this.#o.maxAgeMs;
    const now = this.#o.clock.now();
    const out = new Map<string, KnownPrice>();
    const due: string[] = [];
    for (const s of symbols) {
      const e = this.#memory.get(s);
      if (e && now - e.checkedAt <= maxAge) out.set(s, e);
      else due.push(s);
    }
    if (due.length === 0) return out;
    const report = await this.refresh(due);
    const missing: string[] = [];
    const failed = new Set(report.failed.map((f) => f.symbol));
    for (const s of due) {
      const e = this.#memory.get(s);
      if (e && !failed.has(s) && now - e.checkedAt <= maxAge) out.set(s, e);
      else if (e) out.set(s, { ...e, stale: true });
      else missing.push(s);
    }
    if (missing.length > 0) {
      for (const row of await this.#o.store.getPrices(missing)) {
        const entry = this.#fromRow(row, now);
        if (!entry) continue;
        this.#memory.set(row.symbol, entry);
        out.set(row.symbol, { ...entry, stale: true });
      }
    }
    return out;
  }

  /**
   * Asks the provider for `symbols` in batches, records valid quotes (store, then memory) and
   * reports what changed. A failing batch is reported, never thrown: the others still refresh.
   */
  async refresh(symbols: readonly string[]): Promise<PriceRefreshReport> {
    const started = this.#o.clock.now();
    const report: PriceRefreshReport = {
      requested: symbols.length,
      updated: [],
      unchanged: 0,
      unknown: [],
      failed: [],
      durationMs: 0,
    };
    const unique = [...new Set(symbols)];
    for (let i = 0; i < unique.length; i += this.#o.batchSize) {
      const batch = unique.slice(i, i + this.#o.batchSize);
      let quotes: Record<string, Quote>;
      try {
        this.#status.calls++;
        const answer = await this.#o.provider.getQuotes(batch);
        quotes = answer.quotes;
        report.unknown.push(...answer.unknown.filter((s) => batch.includes(s)));
        this.#ok();
      } catch (error) {
        const code = this.#failed(error);
        for (const s of batch) report.failed.push({ symbol: s, code });
        continue;
      }
      const rows: SymbolPriceRow[] = [];
      const changes: PriceChange[] = [];
      const nowMs = this.#o.clock.now();
      const now = toIso(nowMs);
      const skewed: string[] = [];
      const stored = await this.#storedNotInMemory(batch.filter((s) => quotes[s] !== undefined));
      for (const s of batch) {
        const q = quotes[s];
        if (!q) {
          if (!report.unknown.includes(s)) report.failed.push({ symbol: s, code: 'PRICE_UNAVAILABLE' });
          continue;
        }
        const valid = validQuote(q, s, nowMs);
        if (!valid) {
          report.failed.push({ symbol: s, code: 'PROVIDER_INVALID_RESPONSE' });
          this.#o.logger.warn('Ignored an invalid quote', { symbol: s, price: String(q.price), source: q.source });
          continue;
        }
        if (valid.aheadMs > FUTURE_QUOTE_TOLERANCE_MS) skewed.push(s);
        const kept = stored.get(s);
        if (kept && kept.at > valid.at) {
          // The store holds a newer price (this process had none in memory): it stands, confirmed.
          this.#memory.set(s, { ...kept, checkedAt: nowMs });
          report.unchanged++;
          continue;
        }
        const previous = this.#memory.get(s);
        if (previous && previous.at > valid.at) {
          // An older quote never replaces a newer one; the entry is confirmed all the same.
          previous.checkedAt = nowMs;
          report.unchanged++;
          continue;
        }
        rows.push({
          symbol: s,
          price: valid.text,
          at: valid.at,
          currency: q.currency ?? 'USD',
          source: q.source,
          updatedAt: now,
        });
        if (!previous || previous.text !== valid.text) {
          changes.push({
            symbol: s,
            price: valid.text,
            previousPrice: previous?.text ?? null,
            at: valid.at,
            source: q.source,
            currency: q.currency ?? 'USD',
          });
        } else report.unchanged++;
      }
      if (skewed.length > 0) {
        this.#o.logger.warn('Quotes stamped in the future were recorded at the clock instead', {
          provider: this.#o.provider.name,
          symbols: skewed,
          toleranceMs: FUTURE_QUOTE_TOLERANCE_MS,
        });
      }
      if (rows.length > 0) await this.#o.store.upsertPrices(rows);
      const checkedAt = this.#o.clock.now();
      for (const r of rows) {
        this.#memory.set(r.symbol, {
          price: parseDecimal(r.price, 'price'),
          text: r.price,
          at: r.at,
          source: r.source,
          currency: r.currency,
          stale: false,
          checkedAt,
        });
      }
      for (const c of changes) {
        report.updated.push(c.symbol);
        this.#o.onChange(c);
      }
    }
    report.durationMs = this.#o.clock.now() - started;
    return report;
  }

  /**
   * Daily bars for a symbol and range, from the provider, persisted as price history (bars are
   * validated; an invalid bar is dropped and logged). When the provider fails, the stored history
   * is returned instead, or the error is thrown when the store has none.
   */
  async history(symbol: string, range: { from: string; to: string }): Promise<DailyBar[]> {
    let bars: DailyBar[];
    try {
      this.#status.calls++;
      bars = await this.#o.provider.getDailyHistory(symbol, range);
      this.#ok();
    } catch (error) {
      if (isFoliokitError(error) && error.code === 'UNKNOWN_SYMBOL') {
        this.#ok();
        throw error;
      }
      this.#failed(error);
      const stored = await this.#o.store.listDailyBars(symbol, range);
      if (stored.length > 0) return stored.map(dailyBarOf);
      throw error;
    }
    const rows: DailyBarRow[] = [];
    for (const b of bars) {
      const row = validBar(symbol, b, this.#o.provider.name);
      if (row) rows.push(row);
      else this.#o.logger.warn('Ignored an invalid daily bar', { symbol, day: b.day });
    }
    if (rows.length > 0) await this.#o.store.upsertDailyBars(rows);
    return rows.map(dailyBarOf);
  }

  /**
   * The price to fill a market order at: a fresh book entry, else the provider's answer now.
   * Never a stale price. @throws `UNKNOWN_SYMBOL` or `PRICE_UNAVAILABLE`
   */
  async fillPrice(symbol: string): Promise<Dec> {
    const now = this.#o.clock.now();
    const cached = this.#memory.get(symbol);
    if (cached && now - cached.checkedAt <= this.#o.maxAgeMs) return cached.price;
    const report = await this.refresh([symbol]);
    if (report.unknown.includes(symbol)) {
      throw new FoliokitError(
        'UNKNOWN_SYMBOL',
        `The market-data provider does not know ${symbol}; give a price to record the fill`,
        { field: 'symbol', symbol },
      );
    }
    const failure = report.failed.find((f) => f.symbol === symbol);
    const entry = this.#memory.get(symbol);
    if (failure || !entry) {
      const why =
        this.#status.lastError && failure?.code !== 'PROVIDER_INVALID_RESPONSE'
          ? `: ${this.#status.lastError.message}`
          : '';
      throw new FoliokitError('PRICE_UNAVAILABLE', `No usable price for ${symbol}${why}`, {
        field: 'price',
        symbol,
        providerCode: failure?.code,
      });
    }
    return entry.price;
  }

  /** The provider's health. */
  status(): ProviderStatus {
    const provider = this.#o.provider as { getStatus?: () => unknown };
    const details = typeof provider.getStatus === 'function' ? provider.getStatus() : undefined;
    return { ...this.#status, ...(details === undefined ? {} : { details }) };
  }

  #ok(): void {
    this.#status.healthy = true;
    this.#status.consecutiveErrors = 0;
    this.#status.lastSuccessAt = toIso(this.#o.clock.now());
  }

  #failed(error: unknown): string {
    const code = isFoliokitError(error) ? error.code : 'PROVIDER_ERROR';
    const message = error instanceof Error ? error.message : String(error);
    this.#status.healthy = false;
    this.#status.errors++;
    this.#status.consecutiveErrors++;
    this.#status.lastError = { code, message, at: toIso(this.#o.clock.now()) };
    this.#o.logger.warn('Market data provider failed', { provider: this.#o.provider.name, code, message });
    return code;
  }

  /**
   * The stored prices of those `symbols` this process has none of in memory, so that a quote older
   * than the stored one does not replace it (the store keeps the newer row; memory must agree).
   */
  async #storedNotInMemory(symbols: readonly string[]): Promise<Map<string, Entry>> {
    const out = new Map<string, Entry>();
    const unseen = symbols.filter((s) => !this.#memory.has(s));
    if (unseen.length === 0) return out;
    const now = this.#o.clock.now();
    for (const row of await this.#o.store.getPrices(unseen)) {
      const entry = this.#fromRow(row, now);
      if (entry) out.set(row.symbol, entry);
    }
    return out;
  }

  #fromRow(row: SymbolPriceRow, now: number): Entry | null {
    // A row stamped in the future (written before quotes were held to the clock) counts as now.
    const valid = validQuote({ symbol: row.symbol, price: row.price, at: row.at, source: row.source }, row.symbol, now);
    if (!valid) return null;
    // Known, but not confirmed by the provider in this process: due for a refresh.
    return {
      price: valid.price,
      text: valid.text,
      at: valid.at,
      source: row.source,
      currency: row.currency,
      stale: false,
      checkedAt: now - Number.MAX_SAFE_INTEGER / 2,
    };
  }
}

/** A valid quote as the book records it. */
interface ValidQuote {
  price: Dec;
  text: string;
  /** The quote's instant, held to the clock: never after `nowMs`. */
  at: string;
  source: string;
  /** How far ahead of the clock the quote was stamped (0 when not ahead). */
  aheadMs: number;
}

/**
 * A quote's price and instant, or null when the quote fails the shared validation. An instant after
 * `nowMs` is recorded as `nowMs`: a price cannot be known before it is received.
 */
function validQuote(q: Quote, symbol: string, nowMs: number): ValidQuote | null {
  if (findQuoteFault(q, symbol) !== null) return null;
  const price = dec(q.price);
  const stampedMs = Date.parse(q.at);
  const aheadMs = Math.max(0, stampedMs - nowMs);
  return { price, text: fmt(price), at: toIso(Math.min(stampedMs, nowMs)), source: q.source, aheadMs };
}

const optional = (value: string | undefined): string | null => (value === undefined ? null : fmt(dec(value)));

/** A bar as a price-history row, or null when it fails the shared validation. */
function validBar(symbol: string, b: DailyBar, source: string): DailyBarRow | null {
  if (findBarFault(b, symbol) !== null) return null;
  return {
    symbol,
    day: b.day,
    open: optional(b.open),
    high: optional(b.high),
    low: optional(b.low),
    close: fmt(dec(b.close)),
    adjClose: optional(b.adjClose),
    volume: optional(b.volume),
    source,
  };
}

/** A stored bar as the public `DailyBar`: optional fields present only when stored. */
function dailyBarOf(r: DailyBarRow): DailyBar {
  const bar: DailyBar = { day: r.day, close: r.close };
  if (r.open !== null) bar.open = r.open;
  if (r.high !== null) bar.high = r.high;
  if (r.low !== null) bar.low = r.low;
  if (r.adjClose !== null) bar.adjClose = r.adjClose;
  if (r.volume !== null) bar.volume = r.volume;
  return bar;
}
