/**
 * `getRisk` with Monte Carlo VaR: 50 positions, a year of daily closes each (300 days, seeded random
 * walks with a common market factor), 10,000 correlated paths through the Cholesky factor. On the
 * memory store, so the figure is the analytics' own cost (reading positions, prices and history,
 * aligning returns, the covariance, the factor and the simulation). Goal: under 500 ms.
 * Also reported: `method: 'all'` (historical + parametric + Monte Carlo) and the simulation alone.
 */
import type { DailyBar } from '@foliokit/core';
import { createTestEngine } from '@foliokit/core/testing';
// Imported from source until the lead re-exports them from `@foliokit/core` (analytics/index.ts).
import { covariance } from '../packages/core/src/analytics/matrix.js';
import { createRng } from '../packages/core/src/analytics/random.js';
import { getRisk, monteCarloVar } from '../packages/core/src/analytics/risk.js';
import type { Report } from './run.js';

const POSITIONS = 50;
const DAYS = 300;
const PATHS = 10_000;
const REPEATS = 10;
const START = Date.parse('2025-03-01T00:00:00Z');
const GOAL_MS = 500;

/** Seeded price histories: each symbol's daily return = 0.8 % market factor + its own 1–2 %. */
function histories(): Record<string, DailyBar[]> {
  const rng = createRng(2026);
  const market = Array.from({ length: DAYS }, () => 0.008 * rng.normal());
  const out: Record<string, DailyBar[]> = {};
  for (let s = 0; s < POSITIONS; s++) {
    const sd = 0.01 + (s % 5) * 0.0025;
    let close = 50 + s;
    out[`S${String(s).padStart(2, '0')}`] = market.map((m, i) => {
      if (i > 0) close *= 1 + m + sd * rng.normal();
      return { day: new Date(START + i * 86_400_000).toISOString().slice(0, 10), close: close.toFixed(4) };
    });
  }
  return out;
}

async function median(run: () => Promise<unknown> | unknown): Promise<number> {
  await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** The risk section of `bench/analytics.bench.ts`. */
export async function benchRisk(report: Report): Promise<void> {
  const history = histories();
  const prices = Object.fromEntries(Object.entries(history).map(([s, bars]) => [s, (bars.at(-1) as DailyBar).close]));
  const t = createTestEngine({ start: '2026-01-05T10:00:00.000Z', prices, history });
  try {
    const p = await t.engine.createPortfolio({ name: 'Risk bench', initialCash: '100000000' });
    for (const symbol of Object.keys(history)) await t.engine.trade(p.id, { symbol, side: 'buy', quantity: 100 });

    const mc = await median(() => getRisk(t.engine, p.id, { method: 'monte-carlo', paths: PATHS }));
    report({
      name: `getRisk Monte Carlo (${POSITIONS} positions, ${PATHS.toLocaleString('en-US')} paths)`,
      value: mc,
      unit: 'ms',
      goal: `< ${GOAL_MS} ms`,
      pass: mc < GOAL_MS,
      note: `median of ${REPEATS}, memory store, ${DAYS} days of history`,
    });

    const all = await median(() => getRisk(t.engine, p.id, { method: 'all', paths: PATHS }));
    report({
      name: `getRisk all methods (${POSITIONS} positions)`,
      value: all,
      unit: 'ms',
      note: `median of ${REPEATS}`,
    });

    const returns = Object.values(history).map((bars) => {
      const closes = bars.map((b) => Number(b.close));
      return closes.slice(1).map((c, i) => c / (closes[i] as number) - 1);
    });
    const cov = covariance(returns);
    const values = returns.map(() => 10_000);
    const sim = await median(() =>
      monteCarloVar(values, cov, { confidence: 0.99, horizonDays: 1, paths: PATHS, seed: 1 }),
    );
    report({
      name: 'monteCarloVar alone (Cholesky + simulation)',
      value: sim,
      unit: 'ms',
      note: `median of ${REPEATS}`,
    });
  } finally {
    await t.close();
  }
}
