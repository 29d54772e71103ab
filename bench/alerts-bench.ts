/**
 * 1,000 price alerts on one symbol evaluated per `price.updated`: the time from the event to the
 * evaluator being idle again. Two cases on the memory store: a steady price (no alert crosses:
 * the evaluator's in-memory comparisons only) and a price walking up and down through the
 * thresholds (about 10 alerts cross per update and are claimed with the store's compare-and-set).
 * The lead wires `benchAlerts` into a `*.bench.ts` file.
 */
import { createTestEngine } from '@foliokit/core/testing';
// Imported from source until the package build exports them (core/src/index.ts re-exports alerts).
import { createAlert } from '../packages/core/src/alerts/alerts.js';
import { startAlertEvaluator } from '../packages/core/src/alerts/evaluate.js';
import type { Report } from './run.js';

const ALERTS = 1000;
const UPDATES = 2000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Runs the alerts benchmark and reports time per price update (µs). */
export async function benchAlerts(report: Report): Promise<void> {
  const t = createTestEngine();
  const evaluator = startAlertEvaluator(t.engine);
  await evaluator.idle();
  // Thresholds 100.00 … 109.99 (above) and the same (below): half each.
  for (let i = 0; i < ALERTS; i++) {
    const threshold = (100 + (i >> 1) / 50).toFixed(2);
    await createAlert(t.engine, { kind: i % 2 === 0 ? 'above' : 'below', symbol: 'AAA', threshold });
  }
  const update = async (price: string) => {
    const started = performance.now();
    t.engine.emit({
      type: 'price.updated',
      symbol: 'AAA',
      price,
      previousPrice: null,
      at: new Date(t.clock.now()).toISOString(),
      source: 'bench',
      currency: 'USD',
    });
    await evaluator.idle();
    return (performance.now() - started) * 1000;
  };

  const steady: number[] = [];
  for (let i = 0; i < UPDATES; i++) steady.push(await update('104.995'));
  const crossing: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    // A walk of ±0.1 around 105: each step passes about 5 above and 5 below thresholds.
    crossing.push(await update((105 + (i % 2 === 0 ? 0.1 : -0.1) * ((i >> 1) % 3)).toFixed(3)));
  }
  report({
    name: `${ALERTS.toLocaleString('en-US')} price alerts per price.updated, no crossing`,
    value: median(steady),
    unit: 'µs',
    note: `median of ${UPDATES} updates, memory store`,
  });
  report({
    name: `${ALERTS.toLocaleString('en-US')} price alerts per price.updated, ~10 crossings`,
    value: median(crossing),
    unit: 'µs',
    note: `median of ${UPDATES} updates, memory store, fires claimed by compare-and-set`,
  });
  evaluator.stop();
  await t.close();
}
