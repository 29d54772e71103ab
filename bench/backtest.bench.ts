/**
 * Backtest throughput (#13): `sma-cross` (10/30) on 50 symbols × 2,520 daily bars (ten years)
 * generated in memory (a seeded random walk, prices with two decimals), `equal-sleeves`,
 * `next-open` fills, the equity curve recorded: bars per second over the whole `runBacktest` call
 * (loading from an in-memory provider, validation, replay, metrics). Goal: at least 380,000 bars/s
 * (20 × backtrader's ~19,000 bars/s measured on this machine).
 */
import { type DailyBar, type MarketDataProvider, runBacktest } from '@foliokit/core';
import type { Report } from './run.js';

const SYMBOLS = 50;
const BARS = 2520;
const REPEATS = 7;
const GOAL = 380_000;
const START = Date.parse('2015-01-05T00:00:00Z');
const DAY_MS = 86_400_000;

/** Weekdays from START: 2,520 of them. */
function tradingDays(n: number): string[] {
  const out: string[] = [];
  for (let t = START; out.length < n; t += DAY_MS) {
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** A seeded random walk per symbol (xorshift), prices in cents printed as decimals. */
function history(seed: number, days: string[]): DailyBar[] {
  let s = seed || 1;
  let cents = 10_000;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0xffffffff;
  };
  const print = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
  return days.map((day) => {
    const open = cents;
    cents = Math.max(100, Math.round(cents * (1 + (rand() * 2 - 1) * 0.02)));
    const high = Math.max(open, cents) + 5;
    const low = Math.max(1, Math.min(open, cents) - 5);
    return { day, open: print(open), high: print(high), low: print(low), close: print(cents) };
  });
}

export default async function run(report: Report): Promise<void> {
  const days = tradingDays(BARS);
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `S${String(i).padStart(2, '0')}`);
  const data = new Map(symbols.map((s, i) => [s, history(0x9e3779b9 ^ (i * 7919), days)]));
  const marketData: MarketDataProvider = {
    name: 'memory',
    async getQuotes() {
      return { quotes: {}, unknown: [] };
    },
    async getDailyHistory(symbol, { from, to }) {
      return (data.get(symbol) ?? []).filter((b) => b.day >= from && b.day <= to);
    },
  };
  const options = {
    strategy: 'sma-cross',
    params: { fast: 10, slow: 30 },
    symbols,
    from: days[0] as string,
    to: days.at(-1) as string,
    marketData,
    initialCash: '1000000',
    commission: { fixed: '1', rate: '0.0005' },
  } as const;
  // Warm-up (JIT), then the median of REPEATS runs.
  const first = await runBacktest({ ...options, symbols: [...symbols] });
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await runBacktest({ ...options, symbols: [...symbols] });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)] as number;
  const rate = (SYMBOLS * BARS) / (ms / 1000);
  report({
    name: `backtest sma-cross 10/30, ${SYMBOLS} × ${BARS} bars, equal-sleeves, next-open`,
    value: rate,
    unit: 'bars/s',
    baseline: 'backtrader ~19,000 bars/s',
    ratio: rate / 19_000,
    goal: `≥ ${GOAL.toLocaleString('en-US')} bars/s`,
    pass: rate >= GOAL,
    note: `median ${ms.toFixed(0)} ms per run, ${first.fills.length} fills, ${first.equity.length} equity points`,
  });
}
