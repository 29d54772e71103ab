/**
 * Incremental technical indicators for strategies: each is a small factory whose `push` takes the
 * next value (or bar) and answers the indicator's current value, or `null` until it has seen enough
 * values to be defined (its warm-up). Every push is O(1) in time and each indicator keeps O(period)
 * memory at most.
 *
 * `sma` is exact: it reads decimal strings or numbers as exact decimals and returns a {@link Dec},
 * so two moving averages compare without float drift (the `sma-cross` rule). The others are
 * statistics and use JavaScript numbers.
 */
import { FoliokitError } from '../errors.js';
import { DECIMAL_RE, Dec, type DecimalInput, divide, fmt, parseDecimal } from '../money/decimal.js';
import { formatScaled, parseScaled, parseScaledNumber, pow10 } from '../money/fixed.js';

/** A value an indicator accepts: a finite number, a decimal string (`"101.25"`) or a {@link Dec}. */
export type IndicatorInput = DecimalInput | Dec;

/** The largest period any indicator accepts. */
export const MAX_PERIOD = 1_000_000;

/**
 * Decimal places of an {@link sma} value. Means are rounded half-even to this many places (an exact
 * mean such as 4/3 has no finite decimal form). Every SMA uses the same places, so two exactly equal
 * means give equal values; and since rounding to one grid keeps order, an SMA is never above another
 * unless its exact mean is. Two different means of inputs with at most 18 decimal places and periods
 * of at most {@link MAX_PERIOD} differ by more than 10^-30, so they never round to the same value.
 */
export const SMA_SCALE = 40;

/** A numeric indicator fed one value at a time. */
export interface Indicator<In, Out> {
  /** Adds the next input; answers the current value, `null` during the warm-up. O(1). */
  push(input: In): Out | null;
  /** The current value (what the last `push` answered), `null` during the warm-up. */
  readonly value: Out | null;
}

/** An exact simple moving average; see {@link sma}. */
export interface Sma extends Indicator<IndicatorInput, Dec> {
  /** The window length. */
  readonly period: number;
  /** True once `period` values have been added. */
  readonly ready: boolean;
  /**
   * Adds the next value without building the {@link Dec} result (read `value` when needed; it is
   * built once and cached). For hot loops that only {@link Sma.compare} averages. O(1).
   */
  add(input: IndicatorInput): void;
  /**
   * Compares this average with another exactly (cross-multiplied sums, no rounding at all):
   * `1` when this one is above, `-1` below, `0` equal; `null` while either is warming up.
   */
  compare(other: Sma): -1 | 0 | 1 | null;
}

/** The three MACD lines; see {@link macd}. */
export interface MacdValue {
  /** EMA(fast) − EMA(slow). */
  macd: number;
  /** EMA(signal) of the MACD line. */
  signal: number;
  /** MACD line − signal line. */
  histogram: number;
}

/** The three Bollinger bands; see {@link bollinger}. */
export interface BollingerValue {
  /** The simple moving average. */
  middle: number;
  /** middle + k · σ. */
  upper: number;
  /** middle − k · σ. */
  lower: number;
}

/** One bar as {@link atr} reads it. */
export interface HighLowClose {
  high: IndicatorInput;
  low: IndicatorInput;
  close: IndicatorInput;
}

// ---------------------------------------------------------------------------------------------
// Input checks

function invalid(field: string, message: string): FoliokitError {
  return new FoliokitError('VALIDATION_FAILED', message, { field });
}

/** A period: a whole number from 1 to {@link MAX_PERIOD}. */
function checkPeriod(value: unknown, field = 'period'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PERIOD) {
    throw invalid(field, `${field} must be a whole number from 1 to ${MAX_PERIOD}, got ${String(value)}`);
  }
  return value;
}

/** Fixed scale of the sums inside {@link sma}: the most decimal places `parseDecimal` accepts. */
const SUM_SCALE = 18;
/** 10^18 at {@link SUM_SCALE}: the largest absolute value `parseDecimal` accepts. */
const MAX_SCALED = pow10(2 * SUM_SCALE);

/**
 * Reads an exact decimal as a bigint scaled by 10^18. Plain decimal strings and numbers take a
 * fast path; anything else goes through `parseDecimal`, which decides what is valid and throws
 * `VALIDATION_FAILED` naming `value`.
 */
function readScaled(input: IndicatorInput): bigint {
  let text: string | undefined;
  if (typeof input === 'string') text = input;
  else if (typeof input === 'number' && Math.abs(input) <= Number.MAX_SAFE_INTEGER) text = String(input);
  else if (input instanceof Dec) text = fmt(input);
  if (text !== undefined) {
    const v = parseScaled(text, SUM_SCALE);
    if (v !== null && v <= MAX_SCALED && v >= -MAX_SCALED) return v;
  }
  const exact = parseDecimal(input instanceof Dec ? fmt(input) : input, 'value');
  return parseScaled(fmt(exact), SUM_SCALE) as bigint;
}

/** Reads a finite number from a number, a decimal string or a Dec; throws naming `field`. */
function readNumber(input: unknown, field: string): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input)) return input;
  } else if (typeof input === 'string') {
    const n = Number(input);
    // A decimal string as `Number` should read it: no hex, no `Infinity`, not blank.
    if (Number.isFinite(n) && DECIMAL_RE.test(input.trim())) return n;
  } else if (input instanceof Dec) {
    const n = input.toNumber();
    if (Number.isFinite(n)) return n;
  }
  throw invalid(field, `${field} must be a finite number or a decimal string, got ${String(input).slice(0, 40)}`);
}

// ---------------------------------------------------------------------------------------------
// SMA (exact)

/**
 * Simple moving average: the arithmetic mean of the last `period` values,
 * SMA_t = (x_{t−period+1} + … + x_t) / period.
 *
 * Exact: values are read as exact decimals (numbers as the shortest decimal JavaScript prints, so
 * `0.1` is one tenth), summed exactly in a ring buffer (the oldest value leaves the running sum as
 * the newest enters), and divided with core's `divide`, rounded half-even to {@link SMA_SCALE}
 * places. The SMA of 0.1, 0.2, 0.3 is exactly 0.2. `null` until `period` values have been pushed.
 *
 * @param period window length, a whole number from 1 to {@link MAX_PERIOD}.
 * @throws FoliokitError `VALIDATION_FAILED` naming `period`; `push`/`add` naming `value` for a value
 *   that is not a decimal `parseDecimal` accepts.
 */
export function sma(period: number): Sma {
  return new ExactSma(checkPeriod(period));
}

/**
 * Decimal places of the double path of {@link sma}: values with at most this many places (and small
 * enough, see `ExactSma.limit`) are summed as integers in doubles, exactly.
 */
const NUM_SCALE = 8;
/** 10^(18 − 8): a double-path integer times this is the value scaled by 10^18. */
const NUM_TO_SUM = pow10(SUM_SCALE - NUM_SCALE);

/**
 * {@link sma}'s implementation: a ring buffer of the window's values and their exact running sum.
 * While every value has at most {@link NUM_SCALE} places and is below `limit` (× 10^8), the values
 * and the sum are integers in doubles (exact: every partial sum stays below 2^53); the first value
 * that is not moves the window to bigints scaled by 10^18 for good. Either way the sum is the same
 * exact number. Two of them compare by their sums ({@link Sma.compare}); an `Sma` implemented
 * elsewhere is compared by its rounded value instead.
 */
class ExactSma implements Sma {
  readonly period: number;
  /** The period as a bigint (cross-multiplication in `compare`). */
  private readonly periodBig: bigint;
  /** The largest |value × 10^8| the double path takes: (period + 1) of them stay below 2^53. */
  private readonly limit: number;
  /** The window × 10^8 (double path), or null once on bigints. */
  private nums: Float64Array | null;
  private numSum = 0;
  /** The window × 10^18 (bigint path), or null while on doubles. */
  private bigs: bigint[] | null = null;
  private bigSum = 0n;
  private next = 0;
  private count = 0;
  /** The rounded mean; undefined: not built yet since the last add. */
  private cached: Dec | null | undefined = null;

  constructor(period: number) {
    this.period = period;
    this.periodBig = BigInt(period);
    this.limit = Math.floor(Number.MAX_SAFE_INTEGER / (period + 1));
    this.nums = new Float64Array(period);
  }

  get ready(): boolean {
    return this.count === this.period;
  }

  get value(): Dec | null {
    if (this.cached === undefined) {
      this.cached = divide(formatScaled(this.exactSum(), SUM_SCALE), String(this.period), SMA_SCALE);
    }
    return this.cached;
  }

  /** The window's exact sum scaled by 10^18. */
  private exactSum(): bigint {
    return this.nums !== null ? BigInt(this.numSum) * NUM_TO_SUM : this.bigSum;
  }

  add(input: IndicatorInput): void {
    const i = this.next;
    const nums = this.nums;
    if (nums !== null) {
      // A number reads as the text JavaScript prints for it, as `readScaled` reads it.
      let x =
        typeof input === 'string'
          ? parseScaledNumber(input, NUM_SCALE)
          : typeof input === 'number'
            ? parseScaledNumber(String(input), NUM_SCALE)
            : Number.NaN;
      if (!(Math.abs(x) <= this.limit)) {
        // Not read, or too large: read exactly (this validates), then see whether it fits after all.
        const v = readScaled(input);
        x = v % NUM_TO_SUM === 0n ? Number(v / NUM_TO_SUM) : Number.NaN;
        if (Math.abs(x) <= this.limit) {
          this.addNum(nums, i, x);
        } else {
          this.toBigints();
          this.addBig(i, v);
        }
      } else {
        this.addNum(nums, i, x);
      }
    } else {
      this.addBig(i, readScaled(input));
    }
    this.next = i + 1 === this.period ? 0 : i + 1;
    if (this.count < this.period) this.count++;
    this.cached = this.count < this.period ? null : undefined;
  }

  private addNum(nums: Float64Array, i: number, x: number): void {
    // Both terms are integers of at most `limit`: x − old and the new sum are exact.
    this.numSum += x - (nums[i] as number);
    nums[i] = x;
  }

  private addBig(i: number, v: bigint): void {
    const bigs = this.bigs as bigint[];
    this.bigSum += v - (bigs[i] as bigint);
    bigs[i] = v;
  }

  /** Leaves the double path: the window and the sum as bigints × 10^18, the same values. */
  private toBigints(): void {
    const nums = this.nums as Float64Array;
    this.bigs = Array.from(nums, (x) => BigInt(x) * NUM_TO_SUM);
    this.bigSum = BigInt(this.numSum) * NUM_TO_SUM;
    this.nums = null;
  }

  push(input: IndicatorInput): Dec | null {
    this.add(input);
    return this.value;
  }

  compare(other: Sma): -1 | 0 | 1 | null {
    if (this.count < this.period || !other.ready) return null;
    if (!(other instanceof ExactSma)) return (this.value as Dec).cmp(other.value as Dec) as -1 | 0 | 1;
    // sum / n vs theirs / m  ⇔  sum · m vs theirs · n (both periods positive).
    if (this.nums !== null && other.nums !== null) {
      // Both × 10^8: exact in doubles while the products stay below 2^53.
      const left = this.numSum * other.period;
      const right = other.numSum * this.period;
      if (Math.abs(left) <= Number.MAX_SAFE_INTEGER && Math.abs(right) <= Number.MAX_SAFE_INTEGER) {
        return left > right ? 1 : left < right ? -1 : 0;
      }
    }
    const left = this.exactSum() * other.periodBig;
    const right = other.exactSum() * this.periodBig;
    return left > right ? 1 : left < right ? -1 : 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Exponential smoothing shared by EMA, RSI, MACD and ATR

/**
 * Exponential smoothing seeded with a simple mean: `null` for the first `period − 1` values, the
 * mean of the first `period` values at the `period`-th, then s_t = s_{t−1} + α · (x_t − s_{t−1}),
 * which is α · x_t + (1 − α) · s_{t−1}.
 */
function smoother(period: number, alpha: number): (x: number) => number | null {
  let count = 0;
  let seed = 0;
  let s: number | null = null;
  return (x) => {
    if (s !== null) {
      s += alpha * (x - s);
      return s;
    }
    seed += x;
    count++;
    if (count === period) s = seed / period;
    return s;
  };
}

/** Wraps a step function as an {@link Indicator} that remembers its last answer. */
function indicator<In, Out>(step: (input: In) => Out | null): Indicator<In, Out> {
  let last: Out | null = null;
  return {
    push(input) {
      last = step(input);
      return last;
    },
    get value() {
      return last;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// EMA, RSI, MACD

/**
 * Exponential moving average with smoothing factor α = 2 / (period + 1):
 * EMA_t = α · x_t + (1 − α) · EMA_{t−1}.
 *
 * Seeded with the SMA of the first `period` values (the usual textbook seed): `null` for the first
 * `period − 1` pushes, that SMA at the `period`-th, the recurrence after. Numbers (floats).
 *
 * @throws FoliokitError `VALIDATION_FAILED` naming `period`; `push` naming `value`.
 */
export function ema(period: number): Indicator<IndicatorInput, number> {
  const n = checkPeriod(period);
  const step = smoother(n, 2 / (n + 1));
  return indicator((input: IndicatorInput) => step(readNumber(input, 'value')));
}

/**
 * Relative Strength Index with Wilder's smoothing (J. Welles Wilder, 1978):
 * for each change d_t = x_t − x_{t−1}, gain = max(d, 0) and loss = max(−d, 0); the first average
 * gain and loss are the simple means of the first `period` changes, then
 * avg_t = (avg_{t−1} · (period − 1) + current) / period; RS = avgGain / avgLoss and
 * RSI = 100 − 100 / (1 + RS), which is 100 · avgGain / (avgGain + avgLoss).
 *
 * `null` until `period` changes (`period + 1` values) are seen. With no loss RSI is 100; with no
 * change at all (average gain and loss both 0) it is 50, neither overbought nor oversold.
 *
 * @param period default 14, Wilder's own.
 * @throws FoliokitError `VALIDATION_FAILED` naming `period`; `push` naming `value`.
 */
export function rsi(period = 14): Indicator<IndicatorInput, number> {
  const n = checkPeriod(period);
  const gains = smoother(n, 1 / n);
  const losses = smoother(n, 1 / n);
  let previous: number | null = null;
  return indicator((input: IndicatorInput) => {
    const x = readNumber(input, 'value');
    if (previous === null) {
      previous = x;
      return null;
    }
    const d = x - previous;
    previous = x;
    const gain = gains(Math.max(d, 0));
    const loss = losses(Math.max(-d, 0));
    if (gain === null || loss === null) return null;
    const total = gain + loss;
    return total === 0 ? 50 : (100 * gain) / total;
  });
}

/**
 * Moving Average Convergence/Divergence (Gerald Appel): MACD line = EMA(fast) − EMA(slow); signal
 * line = EMA(signal) of the MACD line; histogram = MACD line − signal line.
 *
 * Each EMA is {@link ema}'s (SMA-seeded, from the first value pushed); the signal EMA starts with
 * the first MACD value (the `slow`-th push), so the result is `null` for the first
 * `slow + signal − 2` pushes.
 *
 * @param fast default 12; must be below `slow`.
 * @param slow default 26.
 * @param signal default 9.
 * @throws FoliokitError `VALIDATION_FAILED` naming `fast`, `slow` or `signal`; `push` naming `value`.
 */
export function macd(fast = 12, slow = 26, signal = 9): Indicator<IndicatorInput, MacdValue> {
  const f = checkPeriod(fast, 'fast');
  const s = checkPeriod(slow, 'slow');
  const g = checkPeriod(signal, 'signal');
  if (f >= s) throw invalid('fast', `fast (${f}) must be below slow (${s})`);
  const fastEma = smoother(f, 2 / (f + 1));
  const slowEma = smoother(s, 2 / (s + 1));
  const signalEma = smoother(g, 2 / (g + 1));
  return indicator((input: IndicatorInput) => {
    const x = readNumber(input, 'value');
    const a = fastEma(x);
    const b = slowEma(x);
    if (a === null || b === null) return null;
    const line = a - b;
    const sig = signalEma(line);
    if (sig === null) return null;
    return { macd: line, signal: sig, histogram: line - sig };
  });
}

// ---------------------------------------------------------------------------------------------
// Bollinger bands

/**
 * Bollinger Bands (John Bollinger): middle = SMA(period); upper/lower = middle ± k · σ, where σ is
 * the POPULATION standard deviation of the same `period` values (divide by `period`, not
 * `period − 1`), as Bollinger defines it: σ = √(Σ (x_i − middle)² / period).
 *
 * Numbers (floats). O(1) per push: the mean and the sum of squared deviations are updated as a value
 * enters and the oldest leaves (Welford's update for a sliding window), and recomputed from the
 * window once every `period` pushes (amortised O(1)) so rounding never accumulates. `null` for the
 * first `period − 1` pushes.
 *
 * @param period default 20.
 * @param k band width in standard deviations, a finite number ≥ 0; default 2.
 * @throws FoliokitError `VALIDATION_FAILED` naming `period` or `k`; `push` naming `value`.
 */
export function bollinger(period = 20, k = 2): Indicator<IndicatorInput, BollingerValue> {
  const n = checkPeriod(period);
  if (typeof k !== 'number' || !Number.isFinite(k) || k < 0) {
    throw invalid('k', `k must be a finite number of at least 0, got ${String(k)}`);
  }
  const ring = new Float64Array(n);
  let next = 0;
  let count = 0;
  let mean = 0;
  let m2 = 0; // Σ (x − mean)² over the window
  let sinceRefresh = 0;

  const refresh = (): void => {
    let total = 0;
    for (let i = 0; i < n; i++) total += ring[i] as number;
    mean = total / n;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const d = (ring[i] as number) - mean;
      squares += d * d;
    }
    m2 = squares;
    sinceRefresh = 0;
  };

  return indicator((input: IndicatorInput) => {
    const x = readNumber(input, 'value');
    if (count < n) {
      count++;
      const delta = x - mean;
      mean += delta / count;
      m2 += delta * (x - mean);
    } else {
      const old = ring[next] as number;
      const nextMean = mean + (x - old) / n;
      m2 += (x - old) * (x - nextMean + old - mean);
      mean = nextMean;
      sinceRefresh++;
    }
    ring[next] = x;
    next = next + 1 === n ? 0 : next + 1;
    if (count < n) return null;
    if (sinceRefresh >= n) refresh();
    const width = k * Math.sqrt(m2 > 0 ? m2 / n : 0);
    return { middle: mean, upper: mean + width, lower: mean - width };
  });
}

// ---------------------------------------------------------------------------------------------
// ATR

/**
 * Average True Range with Wilder's smoothing (J. Welles Wilder, 1978). True range
 * TR_t = max(high_t − low_t, |high_t − close_{t−1}|, |low_t − close_{t−1}|); the first bar has no
 * previous close, so its TR is high − low (Wilder's convention). The first ATR is the simple mean
 * of the first `period` TRs, then ATR_t = (ATR_{t−1} · (period − 1) + TR_t) / period.
 *
 * Numbers (floats). `null` for the first `period − 1` bars.
 *
 * @param period default 14, Wilder's own.
 * @throws FoliokitError `VALIDATION_FAILED` naming `period`; `push` naming `high`, `low` or `close`
 *   (also when high is below low).
 */
export function atr(period = 14): Indicator<HighLowClose, number> {
  const n = checkPeriod(period);
  const average = smoother(n, 1 / n);
  let previousClose: number | null = null;
  return indicator((bar: HighLowClose) => {
    const high = readNumber(bar?.high, 'high');
    const low = readNumber(bar?.low, 'low');
    const close = readNumber(bar?.close, 'close');
    if (high < low) throw invalid('high', `high (${high}) must not be below low (${low})`);
    const range = high - low;
    const tr =
      previousClose === null ? range : Math.max(range, Math.abs(high - previousClose), Math.abs(low - previousClose));
    previousClose = close;
    return average(tr);
  });
}
