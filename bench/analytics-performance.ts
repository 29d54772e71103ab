/**
 * `getPerformance` over 10 years of daily history: 3,650 daily snapshots and 200 external flows
 * (deposits and withdrawals), on the memory store, so the figure is the analytics' own cost (reading
 * the series, the ledger and the prices, and every formula), not a database's. The ledger goes in
 * through the engine (dated entries); the snapshots straight through `store.insertSnapshots`, as a
 * backfill would write them. Goal: under 20 ms for `period: 'max'`.
 */
import type { SnapshotRow } from '@foliokit/core';
import { createTestEngine } from '@foliokit/core/testing';
// Imported from source until the lead re-exports it from `@foliokit/core` (analytics/index.ts).
import { getPerformance } from '../packages/core/src/analytics/performance.js';
import type { Report } from './run.js';

const DAYS = 3650;
const FLOWS = 200;
const REPEATS = 20;
const START = Date.parse('2016-01-04T00:00:00Z');
const DAY_MS = 86_400_000;

const dayAt = (i: number): string => new Date(START + i * DAY_MS).toISOString().slice(0, 10);

/** A seeded pseudo-random walk (xorshift), so every run measures the same series. */
function walk(n: number): number[] {
  let s = 0x9e3779b9;
  const out: number[] = [];
  let level = 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    level *= 1 + (((s >>> 0) / 0xffffffff) * 2 - 1) * 0.02;
    out.push(level);
  }
  return out;
}

/** Median ms of `REPEATS` runs of `fn`. */
async function medianMs(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** Adds the `getPerformance` rows to the analytics bench. */
export async function benchPerformance(report: Report): Promise<void> {
  const t = createTestEngine({ start: `${dayAt(DAYS - 1)}T23:59:59.999Z` });
  try {
    const { engine, store } = t;
    const p = await engine.createPortfolio({
      name: 'Ten years',
      initialCash: '100000',
      initialCashAt: `${dayAt(0)}T09:00:00.000Z`,
    });
    // 200 flows spread over the ten years: deposits, every fourth a withdrawal.
    const flowDays = new Map<number, number>();
    for (let k = 1; k < FLOWS; k++) {
      const i = Math.floor((k * DAYS) / FLOWS);
      const amount = k % 4 === 0 ? -2000 : 5000;
      flowDays.set(i, amount);
      const at = `${dayAt(i)}T12:00:00.000Z`;
      if (amount > 0) await engine.deposit(p.id, { amount, at });
      else await engine.withdraw(p.id, { amount: -amount, at });
    }
    // Daily snapshots: the flows move the value, the walk moves it too.
    const levels = walk(DAYS);
    const rows: SnapshotRow[] = [];
    let net = 100000;
    let value = 100000;
    for (let i = 0; i < DAYS; i++) {
      const flow = i === 0 ? 0 : (flowDays.get(i) ?? 0);
      net += flow;
      value = (value + flow) * ((levels[i] as number) / ((levels[i - 1] as number | undefined) ?? 1));
      const v = value.toFixed(2);
      rows.push({
        portfolioId: p.id,
        at: `${dayAt(i)}T23:59:59.999Z`,
        day: dayAt(i),
        kind: 'backfill',
        cash: v,
        marketValue: '0',
        totalValue: v,
        costBasis: '0',
        unrealizedPnl: '0',
        realizedPnl: '0',
        netDeposits: String(net),
        flags: [],
      });
    }
    await store.insertSnapshots(rows);

    const check = await getPerformance(engine, p.id, {});
    if (check.days !== DAYS || check.gaps.length !== 0) {
      throw new Error(`bench setup: expected ${DAYS} days without gaps, got ${check.days} and ${check.gaps.length}`);
    }
    const max = await medianMs(() => getPerformance(engine, p.id, {}));
    report({
      name: 'getPerformance, 10 years daily (3,650 points, 200 flows), period max',
      value: max,
      unit: 'ms (median)',
      goal: '< 20 ms',
      pass: max < 20,
      note: 'memory store',
    });
    const weekly = await medianMs(() => getPerformance(engine, p.id, { interval: '1w', riskFreeRate: 0.02 }));
    report({
      name: 'getPerformance, 10 years, weekly series and risk-free rate',
      value: weekly,
      unit: 'ms (median)',
      goal: '< 20 ms',
      pass: weekly < 20,
    });
    const ytd = await medianMs(() => getPerformance(engine, p.id, { period: 'ytd' }));
    report({ name: 'getPerformance, 10 years of history, period ytd', value: ytd, unit: 'ms (median)' });
  } finally {
    await t.close();
  }
}
