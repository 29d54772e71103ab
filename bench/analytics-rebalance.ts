/**
 * `planRebalance` for 500 positions: a portfolio holding 500 symbols at uneven weights, with 500
 * equal-weight targets (250 held, 250 new, so 250 sells or trims and 250 buys). Reported: the pure
 * planner alone (`planOrders`: valuation, differences, rounding, cash sizing — goal under 10 ms), and
 * the whole `planRebalance` on the memory store (one consistent read, the targets, 750 prices from
 * the price book).
 */
import { createTestEngine } from '@foliokit/core/testing';
// Imported from source until the lead re-exports them from `@foliokit/core` (analytics/index.ts).
import { parsePlanOptions, planOrders, planRebalance } from '../packages/core/src/analytics/rebalance.js';
import { loadModel, setTargets } from '../packages/core/src/analytics/targets.js';
import type { Report } from './run.js';

const POSITIONS = 500;
const REPEATS = 30;
const GOAL_MS = 10;

const symbolOf = (i: number) => `S${String(i).padStart(4, '0')}`;

async function median(run: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 10; i++) await run(); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** Runs the section; the lead's bench/analytics.bench.ts calls it. */
export async function benchRebalance(report: Report): Promise<void> {
  // 500 held (S0000..S0499) plus 250 targets not held (S0500..S0749); targets: every other held + the new ones.
  const prices = Object.fromEntries(
    Array.from({ length: POSITIONS + POSITIONS / 2 }, (_, i) => [symbolOf(i), `${10 + (i % 97)}.${i % 100}`]),
  );
  const t = createTestEngine({ prices });
  try {
    const p = await t.engine.createPortfolio({ name: 'Bench', initialCash: '100000000' });
    for (let i = 0; i < POSITIONS; i++) {
      await t.engine.trade(p.id, { symbol: symbolOf(i), side: 'buy', quantity: 10 + (i % 50) });
    }
    const targets = Array.from({ length: POSITIONS }, (_, k) => ({
      symbol: symbolOf(k < 250 ? k * 2 : POSITIONS + k - 250),
    }));
    await setTargets(t.engine, p.id, targets);

    const model = await loadModel(t.engine, p.id);
    const options = parsePlanOptions({ threshold: '0.0001', fractional: false });
    const sample = planOrders(model.state, model.targets, model.prices, options);
    const pure = await median(() => planOrders(model.state, model.targets, model.prices, options));
    report({
      name: `planOrders (pure), ${POSITIONS} positions`,
      value: pure,
      unit: 'ms',
      goal: `< ${GOAL_MS} ms`,
      pass: pure < GOAL_MS,
      note: `${sample.orders.length} orders, median of ${REPEATS}`,
    });

    const whole = await median(() => planRebalance(t.engine, p.id, { threshold: '0.0001', fractional: false }));
    report({
      name: `planRebalance (memory store, price book), ${POSITIONS} positions`,
      value: whole,
      unit: 'ms',
      goal: `< ${GOAL_MS} ms`,
      pass: whole < GOAL_MS,
      note: `median of ${REPEATS}`,
    });
  } finally {
    await t.close();
  }
}
