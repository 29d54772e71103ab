/**
 * A deterministic simulated market: seeded geometric Brownian motion, one path per symbol, computed
 * from a counter-based random generator so that the price at any instant is a pure function of
 * (seed, symbol, time step). No network, no files: the first-class provider for demos and tests.
 */
import {
  type CallOptions,
  type Clock,
  type DailyBar,
  type DecimalInput,
  FoliokitError,
  type MarketDataProvider,
  normalizeSymbol,
  parseDay,
  parseDecimal,
  type Quote,
  type QuoteBatch,
  type SymbolMatch,
  systemClock,
  toIso,
} from '@foliokit/core';
import { checkNumberOption, checkRange, uniqueSymbols } from './inputs.js';
import { fmix32, hash4, hashString, normal, toUniform } from './prng.js';
import { throwIfAborted } from './signals.js';

/** A built-in simulated symbol: its name, its price on the anchor day, and its annual volatility. */
export interface SimulatedSymbol {
  /** The ticker (`"AAPL"`). */
  symbol: string;
  /** The company's name, for `searchSymbols`. */
  name: string;
  /** Price at the close of the anchor day (decimal string). */
  price: string;
  /** Annualised volatility of log returns (0.25 = 25 %). */
  volatility: number;
}

/** The symbols every simulated provider knows unless `includeDefaultSymbols: false`. */
export const DEFAULT_SIMULATED_SYMBOLS: readonly SimulatedSymbol[] = Object.freeze([
  { symbol: 'AAPL', name: 'Apple Inc.', price: '243.85', volatility: 0.25 },
  {
    symbol: 'MSFT',
    name: 'Microsoft Corporation',
    price: '418.58',
    volatility: 0.24,
  },
  {
    symbol: 'GOOGL',
    name: 'Alphabet Inc. Class A',
    price: '189.43',
    volatility: 0.3,
  },
  {
    symbol: 'AMZN',
    name: 'Amazon.com Inc.',
    price: '220.22',
    volatility: 0.32,
  },
  {
    symbol: 'NVDA',
    name: 'NVIDIA Corporation',
    price: '138.31',
    volatility: 0.5,
  },
  {
    symbol: 'META',
    name: 'Meta Platforms Inc.',
    price: '599.24',
    volatility: 0.38,
  },
  { symbol: 'TSLA', name: 'Tesla Inc.', price: '379.28', volatility: 0.6 },
  {
    symbol: 'JPM',
    name: 'JPMorgan Chase & Co.',
    price: '241.14',
    volatility: 0.22,
  },
  { symbol: 'V', name: 'Visa Inc.', price: '315.90', volatility: 0.2 },
  {
    symbol: 'JNJ',
    name: 'Johnson & Johnson',
    price: '144.47',
    volatility: 0.16,
  },
  { symbol: 'WMT', name: 'Walmart Inc.', price: '90.30', volatility: 0.18 },
  {
    symbol: 'XOM',
    name: 'Exxon Mobil Corporation',
    price: '106.62',
    volatility: 0.24,
  },
  {
    symbol: 'KO',
    name: 'The Coca-Cola Company',
    price: '61.88',
    volatility: 0.15,
  },
  { symbol: 'PEP', name: 'PepsiCo Inc.', price: '151.45', volatility: 0.17 },
  {
    symbol: 'DIS',
    name: 'The Walt Disney Company',
    price: '110.84',
    volatility: 0.28,
  },
  { symbol: 'NFLX', name: 'Netflix Inc.', price: '886.73', volatility: 0.4 },
  {
    symbol: 'INTC',
    name: 'Intel Corporation',
    price: '20.11',
    volatility: 0.45,
  },
  {
    symbol: 'AMD',
    name: 'Advanced Micro Devices Inc.',
    price: '120.63',
    volatility: 0.5,
  },
  {
    symbol: 'IBM',
    name: 'International Business Machines',
    price: '219.95',
    volatility: 0.22,
  },
  {
    symbol: 'BRK.B',
    name: 'Berkshire Hathaway Inc. Class B',
    price: '453.20',
    volatility: 0.16,
  },
]);

/** Options of {@link createSimulatedProvider}. */
export interface SimulatedProviderOptions {
  /** The seed: the same seed and instant always give the same prices. */
  seed: number | string;
  /**
   * Extra symbols with their price at the close of the anchor day, added to (or overriding) the
   * built-in ones: `{ ACME: '12.50' }`.
   * @default {}
   */
  symbols?: Record<string, DecimalInput>;
  /** Whether the built-in {@link DEFAULT_SIMULATED_SYMBOLS} are known. @default true */
  includeDefaultSymbols?: boolean;
  /** The clock quotes are taken at, and that bounds history (no bar after now). @default systemClock */
  clock?: Clock;
  /**
   * Annualised volatility for every symbol (0.3 = 30 %), over calendar time.
   * @default each built-in symbol's own (0.15–0.6); 0.3 for custom symbols
   */
  volatility?: number;
  /** Annualised drift of the price (0.07 = 7 % a year). @default 0.07 */
  drift?: number;
  /** Quote granularity: the price changes once per step. @default 1000 (one second) */
  stepMs?: number;
  /**
   * The day at whose simulated close (21:00Z) every symbol has its start price; the path runs
   * forward and backward from there.
   * @default '2025-01-02'
   */
  anchor?: string;
  /** The provider's name, used as the quotes' `source`. @default 'simulated' */
  name?: string;
}

/** The simulated provider: a {@link MarketDataProvider} that also lists its symbols. */
export interface SimulatedProvider extends MarketDataProvider {
  searchSymbols(query: string, options?: CallOptions): Promise<SymbolMatch[]>;
  /** The symbols this provider knows, sorted. */
  listSymbols(): string[];
}

const DAY_MS = 86_400_000;
/** The simulated daily close, at 21:00Z (16:00 in New York in winter). */
const CLOSE_OFFSET_MS = 21 * 3_600_000;
/** The simulated open, 6.5 hours before the close (14:30Z). */
const OPEN_FRACTION = 1 - 6.5 / 24;
const YEAR_DAYS = 365.25;
/** Paths are simulated up to this many days either side of the anchor (about 400 years). */
const MAX_DAYS = 146_000;
const MIN_PRICE = 0.0001;
const MAX_PRICE = 1e9;

const STREAM_DAY = 1;
const STREAM_BRIDGE = 2;
const STREAM_BAR = 3;
/** Standard deviation of the open inside the day's bridge, in daily sigmas. */
const OPEN_SD = Math.sqrt(OPEN_FRACTION * (1 - OPEN_FRACTION));

interface SymbolModel {
  symbol: string;
  name: string | undefined;
  key: number;
  logStart: number;
  sigma: number;
  /** Log drift per day, with the Itô correction: (mu - sigma^2 / 2) dt. */
  driftPerDay: number;
  sigmaPerDay: number;
  /** Typical daily volume, in thousands of shares. */
  baseVolume: number;
  /** Log price at close(i) for i = 0, 1, 2, ... */
  forward: number[];
  /** Log price at close(-j) for j = 0, 1, 2, ... */
  backward: number[];
}

/**
 * Creates a deterministic simulated market-data provider.
 *
 * Model: each symbol follows a geometric Brownian motion in calendar time (it trades 24/7; daily
 * history skips Saturdays and Sundays). The log price at each day's close (21:00Z) is a random walk
 * from the anchor day; inside a day, prices follow an exact Brownian bridge between two closes,
 * drawn with a dyadic construction so a quote at any step costs about log2(steps per day) draws.
 * So the quote at `${day}T21:00:00Z` equals that day's bar close. Open, high and low of a bar are
 * synthesised consistently (low ≤ open, close ≤ high). Prices are rounded to 4 decimals and kept
 * within [0.0001, 1e9].
 *
 * @example
 * ```ts
 * const market = createSimulatedProvider({ seed: 42, symbols: { ACME: '12.50' } });
 * const { quotes } = await market.getQuotes(['AAPL', 'ACME']);
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` or `VALIDATION_FAILED` (naming `symbols.SYM`) for bad options.
 */
export function createSimulatedProvider(options: SimulatedProviderOptions): SimulatedProvider {
  const {
    seed,
    symbols: custom = {},
    includeDefaultSymbols = true,
    clock = systemClock,
    volatility,
    drift = 0.07,
    stepMs = 1000,
    anchor = '2025-01-02',
    name = 'simulated',
  } = options;
  if (typeof seed !== 'number' && typeof seed !== 'string') {
    throw new FoliokitError('INVALID_CONFIGURATION', 'seed must be a number or a string', { field: 'seed' });
  }
  if (volatility !== undefined) checkNumberOption(volatility, 'volatility', 0, 5);
  checkNumberOption(drift, 'drift', -5, 5);
  checkNumberOption(stepMs, 'stepMs', 1, DAY_MS);
  parseDay(anchor, 'anchor');

  const seedKey = hashString(`seed:${typeof seed}:${String(seed)}`);
  const anchorCloseMs = Date.parse(`${anchor}T00:00:00Z`) + CLOSE_OFFSET_MS;
  const stepsPerDay = Math.ceil(DAY_MS / stepMs);
  const models = new Map<string, SymbolModel>();

  const addModel = (symbol: string, price: string, sigma: number, label: string | undefined): void => {
    const start = Number(price);
    models.set(symbol, {
      symbol,
      name: label,
      key: hashString(`${symbol}\u0000`) ^ seedKey,
      logStart: Math.log(start),
      sigma,
      driftPerDay: (drift - (sigma * sigma) / 2) / YEAR_DAYS,
      sigmaPerDay: sigma / Math.sqrt(YEAR_DAYS),
      baseVolume: 2_000 + (hashString(`volume:${symbol}`) % 58) * 1_000,
      forward: [Math.log(start)],
      backward: [Math.log(start)],
    });
  };
  if (includeDefaultSymbols) {
    for (const s of DEFAULT_SIMULATED_SYMBOLS) addModel(s.symbol, s.price, volatility ?? s.volatility, s.name);
  }
  for (const [raw, input] of Object.entries(custom)) {
    const symbol = normalizeSymbol(raw, 'symbol', { check: false });
    const field = `symbols.${raw}`;
    const price = parseDecimal(input, field);
    if (price.lte(0)) {
      throw new FoliokitError('VALIDATION_FAILED', `${field} must be a positive price`, { field });
    }
    if (symbol === '') throw new FoliokitError('VALIDATION_FAILED', 'symbols has an empty symbol', { field });
    addModel(symbol, price.toString(), volatility ?? 0.3, models.get(symbol)?.name);
  }

  /** Log price at the close of day index `i` (days from the anchor). */
  const logClose = (m: SymbolModel, i: number): number => {
    if (i > MAX_DAYS || i < -MAX_DAYS) {
      throw new FoliokitError('PROVIDER_ERROR', `${name}: instant is outside the simulated range`, { provider: name });
    }
    if (i >= 0) {
      const path = m.forward;
      for (let k = path.length; k <= i; k++) {
        path.push((path[k - 1] as number) + m.driftPerDay + m.sigmaPerDay * normal(m.key, STREAM_DAY, k, 0));
      }
      return path[i] as number;
    }
    const path = m.backward;
    for (let j = path.length; j <= -i; j++) {
      // close(-j) = close(-j + 1) - increment(-j + 1)
      const k = -j + 1;
      path.push((path[j - 1] as number) - m.driftPerDay - m.sigmaPerDay * normal(m.key, STREAM_DAY, k, 0));
    }
    return path[-i] as number;
  };

  /** Log price at instant `ms`: a dyadic Brownian bridge between two daily closes. */
  const logPriceAt = (m: SymbolModel, ms: number): number => {
    const i = Math.floor((ms - anchorCloseMs) / DAY_MS);
    const step = Math.floor((ms - anchorCloseMs - i * DAY_MS) / stepMs);
    let lo = 0;
    let hi = stepsPerDay;
    let vLo = logClose(m, i);
    if (step === 0) return vLo;
    let vHi = logClose(m, i + 1);
    const variancePerStep = (m.sigmaPerDay * m.sigmaPerDay) / stepsPerDay;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const mean = vLo + ((vHi - vLo) * (mid - lo)) / (hi - lo);
      const sd = Math.sqrt((variancePerStep * (mid - lo) * (hi - mid)) / (hi - lo));
      const vMid = mean + sd * normal(m.key, STREAM_BRIDGE, i, mid);
      if (step === mid) return vMid;
      if (step < mid) {
        hi = mid;
        vHi = vMid;
      } else {
        lo = mid;
        vLo = vMid;
      }
    }
    return step === lo ? vLo : vHi;
  };

  const bar = (m: SymbolModel, i: number, day: string): DailyBar => {
    const prev = logClose(m, i - 1);
    const last = logClose(m, i);
    const sd = m.sigmaPerDay;
    // Cheap normals for the synthetic open/high/low: Irwin–Hall sums of four 16-bit uniforms
    // (unit variance, tails cut at ±3.5), from hashes chained off one keyed hash.
    const h1 = hash4(m.key, STREAM_BAR, i, 0);
    const h2 = fmix32(h1 ^ 0x68e31da4);
    const h3 = fmix32(h2 ^ 0xb5297a4d);
    const h4 = fmix32(h3 ^ 0x1b56c4e9);
    const h5 = fmix32(h4 ^ 0x7f4a7c15);
    const h6 = fmix32(h5 ^ 0x2545f491);
    const h7 = fmix32(h6 ^ 0x9e3779b9);
    const zOpen = irwinHall(h1, h2);
    const zHigh = irwinHall(h3, h4);
    const zLow = irwinHall(h5, h6);
    const close = Math.exp(last);
    const open = Math.exp(prev + (last - prev) * OPEN_FRACTION + OPEN_SD * sd * zOpen);
    // exp(x) ≈ 1 + x + x²/2 for the small intraday excursions (|x| < 0.1).
    const up = Math.min(Math.abs(zHigh) * sd * 0.5, 0.1);
    const down = Math.min(Math.abs(zLow) * sd * 0.5, 0.1);
    const high = Math.max(open, close) * (1 + up + (up * up) / 2);
    const low = Math.min(open, close) * (1 - down + (down * down) / 2);
    const volumeThousands = Math.round(m.baseVolume * (0.7 + 0.6 * toUniform(h7)));
    return {
      day,
      open: formatPrice(open),
      high: formatPrice(high),
      low: formatPrice(low),
      close: formatPrice(close),
      volume: volumeThousands === 0 ? '0' : `${intString(volumeThousands)}000`,
    };
  };

  return {
    name,
    // Prices move every step: the engine's poller may refresh often, and it costs nothing.
    suggestedPollIntervalMs: Math.max(1_000, stepMs * 5),

    async getQuotes(symbols: readonly string[], callOptions?: CallOptions): Promise<QuoteBatch> {
      throwIfAborted(callOptions?.signal);
      const now = clock.now();
      const at = toIso(now);
      const quotes: Record<string, Quote> = {};
      const unknown: string[] = [];
      for (const symbol of uniqueSymbols(symbols)) {
        const m = models.get(symbol);
        if (!m) {
          unknown.push(symbol);
          continue;
        }
        quotes[symbol] = {
          symbol,
          price: formatPrice(Math.exp(logPriceAt(m, now))),
          at,
          currency: 'USD',
          source: name,
        };
      }
      return { quotes, unknown };
    },

    async getDailyHistory(symbol: string, range: { from: string; to: string }, callOptions?: CallOptions) {
      throwIfAborted(callOptions?.signal);
      const nonEmpty = checkRange(range);
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      const m = models.get(key);
      if (!m) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `${name}: unknown symbol ${key}`, { symbol: key, provider: name });
      }
      if (!nonEmpty) return [];
      const firstMs = Date.parse(`${range.from}T00:00:00Z`) + CLOSE_OFFSET_MS;
      const lastMs = Math.min(Date.parse(`${range.to}T00:00:00Z`) + CLOSE_OFFSET_MS, clock.now());
      const bars: DailyBar[] = [];
      const anchorEpochDay = Math.floor(anchorCloseMs / DAY_MS);
      for (let ms = firstMs; ms <= lastMs; ms += DAY_MS) {
        const epochDay = Math.floor(ms / DAY_MS);
        const weekday = (((epochDay + 4) % 7) + 7) % 7; // 0 = Sunday; 1970-01-01 was a Thursday
        if (weekday === 0 || weekday === 6) continue;
        bars.push(bar(m, epochDay - anchorEpochDay, dayString(epochDay)));
      }
      return bars;
    },

    async searchSymbols(query: string): Promise<SymbolMatch[]> {
      const q = query.trim().toUpperCase();
      if (q === '') return [];
      const hits: SymbolMatch[] = [];
      for (const m of models.values()) {
        if (m.symbol.startsWith(q) || m.name?.toUpperCase().includes(q)) {
          hits.push(
            m.name === undefined
              ? { symbol: m.symbol, currency: 'USD' }
              : { symbol: m.symbol, name: m.name, currency: 'USD' },
          );
        }
      }
      return hits.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
    },

    listSymbols(): string[] {
      return [...models.keys()].sort();
    },
  };
}

/** A standard-ish normal from two 32-bit hashes: the sum of four 16-bit uniforms, centred and scaled. */
function irwinHall(a: number, b: number): number {
  const sum = (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) + 2;
  return (sum / 65536 - 2) * 1.7320508075688772;
}

/** Strings of small integers and of 4-digit fractions, built once: formatting dominates history's cost. */
const SMALL_INTS = 100_000;
let intStrings: string[] | undefined;
let fracStrings: string[] | undefined;

function intString(value: number): string {
  if (value >= SMALL_INTS) return String(value);
  if (intStrings === undefined) intStrings = Array.from({ length: SMALL_INTS }, (_, i) => String(i));
  return intStrings[value] as string;
}

/** `''`, `'.0001'`, ..., `'.5'`, ..., `'.9999'`: the fraction part of 0..9999 ten-thousandths. */
function fracString(units: number): string {
  if (fracStrings === undefined) {
    fracStrings = Array.from({ length: 10_000 }, (_, i) =>
      i === 0 ? '' : `.${String(i).padStart(4, '0')}`.replace(/0+$/, ''),
    );
  }
  return fracStrings[units] as string;
}

/** A price rounded to 4 decimals, clamped to [0.0001, 1e9], without trailing zeros. */
function formatPrice(value: number): string {
  const clamped = Math.min(Math.max(value, MIN_PRICE), MAX_PRICE);
  const units = Math.round(clamped * 10_000);
  const whole = Math.floor(units / 10_000);
  return intString(whole) + fracString(units - whole * 10_000);
}

const dayStrings = new Map<number, string>();

/** `YYYY-MM-DD` of a count of days since 1970-01-01, memoised (every symbol's history shares its days). */
function dayString(epochDay: number): string {
  let text = dayStrings.get(epochDay);
  if (text === undefined) {
    if (dayStrings.size >= 200_000) dayStrings.clear();
    text = civilDay(epochDay);
    dayStrings.set(epochDay, text);
  }
  return text;
}

/** `YYYY-MM-DD` of a count of days since 1970-01-01 (the civil-from-days algorithm, proleptic Gregorian). */
function civilDay(epochDay: number): string {
  const z = epochDay + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}
