/**
 * Return measures on a daily history: true time-weighted return (TTWROR, as Portfolio Performance
 * chains it), annualisation, the Modified Dietz series and the simple return on net deposits.
 *
 * Pure functions on JS numbers (IEEE-754 doubles, about 15–16 significant digits): statistics, not
 * amounts. A figure that cannot be computed is `null` with a `reason`, never a silent 0 % or −100 %.
 */

/**
 * One calendar day of a portfolio's history.
 * - `value`: total value at the END of the day (positions plus cash, so a sale moves value to cash and does not lose it);
 * - `inflow`: external money in that day (deposits, transfers in), ≥ 0, counted at the START of the day;
 * - `outflow`: external money out that day (withdrawals, transfers out), ≥ 0, counted at the END of the day.
 *
 * Income (dividends, interest) and fees are not external flows: they are part of the return.
 */
export interface FlowDay {
  day: string;
  value: number;
  inflow: number;
  outflow: number;
}

/** Options shared by {@link ttwror} and {@link modifiedDietz}. */
export interface ReturnOptions {
  /**
   * Value at the end of the day before `days[0]` (V₀). Default 0: the portfolio held nothing before
   * the first listed day, so a history that starts with its first deposit is chained from that deposit.
   * For a sub-range, pass the previous day's value.
   */
  startValue?: number;
  /**
   * Start-of-day capital (V_{t−1} + In_t) at or below which a day cannot be chained. Default 1e-9,
   * which absorbs float residue of a full withdrawal without hiding any real capital.
   */
  minCapital?: number;
}

/** A day that was left out of the chain, and why. */
export interface ReturnGap {
  day: string;
  reason: string;
}

/** The result of {@link ttwror}. */
export interface TwrResult {
  /** Π(1 + r_t) − 1 over the chained days, or null (see `reason`). */
  cumulative: number | null;
  /** Every input day in order; `r` is null for a day that could not be chained (it is listed in `gaps`). */
  daily: Array<{ day: string; r: number | null }>;
  /** Days left out of the chain, with the reason. */
  gaps: ReturnGap[];
  /** Number of days whose return entered the chain. */
  chainedDays: number;
  method: 'ttwror';
  /** Why `cumulative` is null. */
  reason?: string;
}

/** One point of the {@link modifiedDietz} series. */
export interface DietzPoint {
  day: string;
  /** That day's Modified Dietz return (null when its start-of-day capital is ≤ 0; see `reason`). */
  r: number | null;
  /** Modified Dietz return from the start of the range to the end of this day (null: see `reason`). */
  cumulative: number | null;
  reason?: string;
  method: 'modified-dietz';
}

const DEFAULT_MIN_CAPITAL = 1e-9;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Why a list of days cannot be used at all (unordered, bad numbers, negative flows), or null. */
function invalidDays(days: FlowDay[]): string | null {
  let previous = '';
  for (const d of days) {
    if (!DAY_RE.test(d.day) || Number.isNaN(Date.parse(`${d.day}T00:00:00Z`))) return `invalid day '${d.day}'`;
    if (d.day <= previous) return `days must be strictly ascending (${previous}, ${d.day})`;
    if (![d.value, d.inflow, d.outflow].every(Number.isFinite)) return `non-finite value or flow on ${d.day}`;
    if (d.inflow < 0 || d.outflow < 0) return `inflow and outflow must be ≥ 0 (${d.day})`;
    previous = d.day;
  }
  return null;
}

/**
 * One day's return with inflows at the start and outflows at the end of the day:
 * `r = (V_t + Out_t) / (V_{t−1} + In_t) − 1`. Returns the reason instead when the day cannot be chained:
 * no capital at the start of the day (denominator ≤ `minCapital`), or an end value plus outflow below 0.
 */
function dayReturn(prevValue: number, d: FlowDay, minCapital: number): { r: number } | { reason: string } {
  const capital = prevValue + d.inflow;
  const end = d.value + d.outflow;
  if (capital <= minCapital) {
    if (capital < -minCapital) return { reason: 'negative capital at the start of the day: not chainable' };
    if (Math.abs(end) <= minCapital) return { reason: 'no capital invested' };
    return {
      reason:
        'value or outflow on a day that started with no capital (e.g. income after a full sale and withdrawal): not chainable',
    };
  }
  if (end < 0) return { reason: 'end-of-day value plus outflow is negative: not chainable' };
  return { r: end / capital - 1 };
}

/**
 * True time-weighted rate of return (TTWROR), chained daily as Portfolio Performance does:
 * inflows count at the start of the day, outflows at the end.
 *
 * `r_t = (V_t + Out_t) / (V_{t−1} + In_t) − 1`, `cumulative = Π (1 + r_t) − 1`, with V₀ = `options.startValue` (default 0).
 *
 * A day whose start-of-day capital `V_{t−1} + In_t` is ≤ `minCapital` (≈ 0) cannot be chained: its `r` is null,
 * it is listed in `gaps` with the reason, and the chain skips it (factor 1). This is what keeps the −100 %
 * traps out: a dividend landing on a portfolio emptied the day before, or a withdrawal from a zero value,
 * would otherwise divide by zero. A day whose `V_t + Out_t` is negative is skipped the same way. A full sale is
 * not a trap: the proceeds stay in `value` as cash. Only a real total loss (capital > 0, nothing left, nothing
 * withdrawn) gives r = −100 %.
 *
 * `cumulative` is null with a `reason` when the input is unusable (unordered days, non-finite numbers,
 * negative flows) or when no day could be chained (no day had capital).
 *
 * @example ttwror([{ day: '2026-01-01', value: 1100, inflow: 1000, outflow: 0 }]).cumulative // 0.1
 */
export function ttwror(days: FlowDay[], options: ReturnOptions = {}): TwrResult {
  const base = { daily: [], gaps: [], chainedDays: 0, method: 'ttwror' as const };
  const invalid = invalidDays(days) ?? (Number.isFinite(options.startValue ?? 0) ? null : 'non-finite startValue');
  if (invalid) return { ...base, cumulative: null, reason: invalid };
  const minCapital = options.minCapital ?? DEFAULT_MIN_CAPITAL;
  const daily: TwrResult['daily'] = [];
  const gaps: ReturnGap[] = [];
  let growth = 1;
  let prev = options.startValue ?? 0;
  for (const d of days) {
    const out = dayReturn(prev, d, minCapital);
    if ('r' in out) {
      growth *= 1 + out.r;
      daily.push({ day: d.day, r: out.r });
    } else {
      daily.push({ day: d.day, r: null });
      gaps.push({ day: d.day, reason: out.reason });
    }
    prev = d.value;
  }
  const chainedDays = days.length - gaps.length;
  if (chainedDays === 0) {
    const reason = days.length === 0 ? 'no days' : 'no day had capital invested at its start';
    return { cumulative: null, daily, gaps, chainedDays, method: 'ttwror', reason };
  }
  return { cumulative: growth - 1, daily, gaps, chainedDays, method: 'ttwror' };
}

/** The chained daily returns of a {@link TwrResult} (null days dropped), ready for the statistics in stats.ts. */
export function chainedReturns(daily: TwrResult['daily']): number[] {
  const out: number[] = [];
  for (const d of daily) if (d.r !== null) out.push(d.r);
  return out;
}

/**
 * Annualised return from a cumulative return over `days` calendar days: `(1 + c)^(365 / days) − 1`.
 * Null when `days` < 1, when `1 + c` ≤ 0 (no real root) or on non-finite input. Periods under a year are
 * annualised as asked; GIPS advises not to show such figures, which is the caller's choice.
 *
 * @example annualize(0.21, 730) // 0.1 (1.21^(1/2) − 1)
 */
export function annualize(cumulative: number, days: number): number | null {
  if (!Number.isFinite(cumulative) || !Number.isFinite(days) || days < 1 || 1 + cumulative <= 0) return null;
  return (1 + cumulative) ** (365 / days) - 1;
}

/**
 * Modified Dietz, daily and cumulative, with the same flow timing as {@link ttwror}.
 *
 * Time runs in calendar days from the end of the day before `days[0]` (value V_s = `options.startValue`,
 * default 0). For the period ending with day t (length T days), a flow's weight is the fraction of the period
 * it is invested: an inflow at the start of day k gets `w = (T − s_k) / T`, an outflow at the end of day k gets
 * `w = (T − s_k − 1) / T`, where s_k is the number of days between the period start and the start of day k.
 *
 * `R = (V_t − V_s − ΣF) / (V_s + Σ w_i F_i)` with F = inflow − outflow.
 *
 * The daily `r` is R over the one-day period (w = 1 for the inflow, 0 for the outflow), which equals the TTWROR
 * day return `(V_t + Out_t) / (V_{t−1} + In_t) − 1`. A denominator ≤ `minCapital` gives null with a reason.
 * Calendar days missing from the list still count in T (flows are weighted by real elapsed days).
 */
export function modifiedDietz(days: FlowDay[], options: ReturnOptions = {}): DietzPoint[] {
  const method = 'modified-dietz' as const;
  const invalid = invalidDays(days) ?? (Number.isFinite(options.startValue ?? 0) ? null : 'non-finite startValue');
  if (invalid) return days.map((d) => ({ day: d.day, r: null, cumulative: null, reason: invalid, method }));
  const minCapital = options.minCapital ?? DEFAULT_MIN_CAPITAL;
  const startValue = options.startValue ?? 0;
  // Calendar days from the first day (days are validated `YYYY-MM-DD`: one parse each).
  const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / 86_400_000;
  const first = dayNumber(days[0]?.day ?? '1970-01-01');
  let prev = startValue;
  // Running sums: ΣIn, ΣOut, Σ In_k·s_k, Σ Out_k·(s_k + 1), so Σ w F = (T·ΣIn − ΣIn·s − T·ΣOut + ΣOut·(s+1)) / T.
  let sumIn = 0;
  let sumOut = 0;
  let sumInS = 0;
  let sumOutS1 = 0;
  return days.map((d) => {
    const s = dayNumber(d.day) - first;
    const T = s + 1;
    sumIn += d.inflow;
    sumOut += d.outflow;
    sumInS += d.inflow * s;
    sumOutS1 += d.outflow * (s + 1);
    const day = dayReturn(prev, d, minCapital);
    prev = d.value;
    const weighted = (T * sumIn - sumInS - (T * sumOut - sumOutS1)) / T;
    const denominator = startValue + weighted;
    const gain = d.value - startValue - (sumIn - sumOut);
    const point: DietzPoint = { day: d.day, r: 'r' in day ? day.r : null, cumulative: null, method };
    if (denominator > minCapital) point.cumulative = gain / denominator;
    const reasons = [
      'reason' in day ? `day: ${day.reason}` : null,
      denominator > minCapital ? null : 'cumulative: average invested capital ≤ 0',
    ].filter((x): x is string => x !== null);
    if (reasons.length > 0) point.reason = reasons.join('; ');
    return point;
  });
}

/**
 * Simple return on net deposits: `endValue / netDeposits − 1` (value over money put in, not time-weighted).
 * Null with a reason when net deposits are ≤ 0 (more was withdrawn than deposited, so there is no base).
 *
 * @example simpleReturn(1200, 1000) // { value: 0.2, method: 'simple' }
 */
export function simpleReturn(
  endValue: number,
  netDeposits: number,
): { value: number | null; reason?: string; method: 'simple' } {
  if (!Number.isFinite(endValue) || !Number.isFinite(netDeposits)) {
    return { value: null, reason: 'non-finite input', method: 'simple' };
  }
  if (netDeposits <= 0) return { value: null, reason: 'net deposits ≤ 0: no base to measure on', method: 'simple' };
  return { value: endValue / netDeposits - 1, method: 'simple' };
}
