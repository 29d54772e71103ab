/**
 * A provider of fixed prices you set yourself: for tests, demos and offline use.
 */
import {
  type CallOptions,
  type Clock,
  normalizeSymbol as coreNormalizeSymbol,
  type DailyBar,
  type DecimalInput,
  FoliokitError,
  fmt,
  isDay,
  type MarketDataProvider,
  normalizeSymbol,
  parseDecimal,
  type Quote,
  type QuoteBatch,
  systemClock,
  toIso,
} from '@foliokit/core';
import { checkRange, uniqueSymbols } from './inputs.js';
import { throwIfAborted } from './signals.js';

/** Options of {@link createStaticProvider}. */
export interface StaticProviderOptions {
  /**
   * Prices by symbol, as decimal strings or finite numbers: `{ AAPL: '190.12', MSFT: 410 }`.
   * Each must be positive, finite and exact.
   */
  prices: Record<string, DecimalInput>;
  /** Daily bars by symbol, served by `getDailyHistory` (any order; sorted on the way in). @default {} */
  history?: Record<string, readonly DailyBar[]>;
  /** The provider's name, used as the quotes' `source`. @default 'static' */
  name?: string;
  /** The clock that stamps quotes' `at`. @default systemClock */
  clock?: Clock;
  /** ISO 4217 currency of every price. @default 'USD' */
  currency?: string;
}

/** A static provider: a {@link MarketDataProvider} whose prices you change by hand. */
export interface StaticProvider extends MarketDataProvider {
  /**
   * Sets (or adds) the price of a symbol.
   * @throws FoliokitError `VALIDATION_FAILED` naming `prices.SYM` when the price is not positive, finite and exact.
   */
  setPrice(symbol: string, price: DecimalInput): void;
  /** Forgets the price of a symbol; returns false when it had none. Its history, if any, stays. */
  removePrice(symbol: string): boolean;
  /**
   * Replaces the daily bars of a symbol.
   * @throws FoliokitError `VALIDATION_FAILED` naming `history.SYM[i].field`.
   */
  setHistory(symbol: string, bars: readonly DailyBar[]): void;
}

/**
 * Creates a provider that serves the prices (and optional history) it is given.
 *
 * A symbol with a price is quoted; a symbol with history but no price is `unknown` to `getQuotes`
 * and served by `getDailyHistory`; a symbol with a price but no history has an empty history; any
 * other symbol is `UNKNOWN_SYMBOL`.
 *
 * @example
 * ```ts
 * const market = createStaticProvider({ prices: { AAPL: '190.12' } });
 * market.setPrice('AAPL', '191');
 * ```
 * @throws FoliokitError `VALIDATION_FAILED` naming the field (`prices.AAPL`, `history.AAPL[3].close`).
 */
export function createStaticProvider(options: StaticProviderOptions): StaticProvider {
  const {
    prices: initial,
    history: initialHistory = {},
    name = 'static',
    clock = systemClock,
    currency = 'USD',
  } = options ?? ({} as StaticProviderOptions);
  if (typeof initial !== 'object' || initial === null) {
    throw new FoliokitError('VALIDATION_FAILED', 'prices must be an object of symbol to price', { field: 'prices' });
  }
  if (!/^[A-Z]{3}$/.test(currency)) {
    throw new FoliokitError('VALIDATION_FAILED', 'currency must be an ISO 4217 code such as USD', {
      field: 'currency',
    });
  }
  const prices = new Map<string, string>();
  const history = new Map<string, DailyBar[]>();

  const setPrice = (symbol: string, price: DecimalInput): void => {
    const key = checkSymbol(symbol, 'prices');
    prices.set(key, readPositive(price, `prices.${symbol}`));
  };
  const setHistory = (symbol: string, bars: readonly DailyBar[]): void => {
    const key = checkSymbol(symbol, 'history');
    history.set(key, readBars(bars, `history.${symbol}`));
  };

  for (const [symbol, price] of Object.entries(initial)) setPrice(symbol, price);
  for (const [symbol, bars] of Object.entries(initialHistory)) setHistory(symbol, bars);

  return {
    name,
    setPrice,
    setHistory,
    removePrice: (symbol: string): boolean => prices.delete(normalizeSymbol(symbol, 'symbol', { check: false })),

    async getQuotes(symbols: readonly string[], callOptions?: CallOptions): Promise<QuoteBatch> {
      throwIfAborted(callOptions?.signal);
      const at = toIso(clock.now());
      const quotes: Record<string, Quote> = {};
      const unknown: string[] = [];
      for (const symbol of uniqueSymbols(symbols)) {
        const price = prices.get(symbol);
        if (price === undefined) unknown.push(symbol);
        else quotes[symbol] = { symbol, price, at, currency, source: name };
      }
      return { quotes, unknown };
    },

    async getDailyHistory(symbol: string, range: { from: string; to: string }, callOptions?: CallOptions) {
      throwIfAborted(callOptions?.signal);
      const nonEmpty = checkRange(range);
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      const bars = history.get(key);
      if (bars === undefined && !prices.has(key)) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `${name}: unknown symbol ${key}`, { symbol: key, provider: name });
      }
      if (!nonEmpty || bars === undefined) return [];
      return bars.filter((bar) => bar.day >= range.from && bar.day <= range.to).map((bar) => ({ ...bar }));
    },
  };
}

function checkSymbol(symbol: string, field: string): string {
  return coreNormalizeSymbol(symbol, `${field}.${String(symbol)}`);
}

function readPositive(input: unknown, field: string): string {
  const value = parseDecimal(input, field);
  if (value.lte(0))
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be positive`, {
      field,
    });
  return fmt(value);
}

function readNonNegative(input: unknown, field: string): string {
  const value = parseDecimal(input, field);
  if (value.isNegative()) throw new FoliokitError('VALIDATION_FAILED', `${field} must not be negative`, { field });
  return fmt(value);
}

function readBars(bars: readonly DailyBar[], field: string): DailyBar[] {
  if (!Array.isArray(bars))
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be an array of bars`, { field });
  const out = bars.map((bar: DailyBar, i): DailyBar => {
    const at = `${field}[${i}]`;
    if (typeof bar !== 'object' || bar === null || !isDay(bar.day)) {
      throw new FoliokitError('VALIDATION_FAILED', `${at}.day must be a calendar day YYYY-MM-DD`, {
        field: `${at}.day`,
      });
    }
    const clean: DailyBar = {
      day: bar.day,
      close: readPositive(bar.close, `${at}.close`),
    };
    if (bar.open !== undefined) clean.open = readPositive(bar.open, `${at}.open`);
    if (bar.high !== undefined) clean.high = readPositive(bar.high, `${at}.high`);
    if (bar.low !== undefined) clean.low = readPositive(bar.low, `${at}.low`);
    if (bar.adjClose !== undefined) clean.adjClose = readPositive(bar.adjClose, `${at}.adjClose`);
    if (bar.volume !== undefined) clean.volume = readNonNegative(bar.volume, `${at}.volume`);
    return clean;
  });
  out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i]?.day === out[i - 1]?.day) {
      throw new FoliokitError('VALIDATION_FAILED', `${field} has two bars for ${out[i]?.day}`, { field });
    }
  }
  return out;
}
