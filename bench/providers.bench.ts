/**
 * The simulated provider: ten years of daily history (open, high, low, close, volume as decimal
 * strings) for 50 symbols from fresh instances, nothing cached, beside a hand-written baseline in
 * the same run: a seeded random walk writing the same number of bars with `toFixed` closes only.
 */
import { createSimulatedProvider } from '@foliokit/providers';
import type { Report } from './run.js';

const RANGE = { from: '2015-06-30', to: '2025-06-29' };
const NOW = Date.parse('2025-06-30T12:00:00Z');
const clock = { now: () => NOW, setTimeout: () => 0, clearTimeout: () => {} };
const ROUNDS = 7;

/** The simulated provider's symbols: its 20 defaults and 30 more. */
const EXTRA = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`SYM${i}`, String(10 + i)]));

export default async function run(report: Report): Promise<void> {
  // Warm up the JIT on another instance, as a running server would be.
  await createSimulatedProvider({ seed: 0, clock }).getDailyHistory('AAPL', RANGE);
  baselineWalk(50, 2609, 0);

  const simulated: number[] = [];
  const baseline: number[] = [];
  let bars = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const provider = createSimulatedProvider({ seed: 100 + round, symbols: EXTRA, clock });
    const symbols = provider.listSymbols();
    if (symbols.length !== 50) throw new Error(`expected 50 symbols, got ${symbols.length}`);
    let t = performance.now();
    bars = 0;
    for (const symbol of symbols) bars += (await provider.getDailyHistory(symbol, RANGE)).length;
    simulated.push(performance.now() - t);

    t = performance.now();
    const written = baselineWalk(50, bars / 50, round);
    baseline.push(performance.now() - t);
    if (written !== bars) throw new Error(`baseline wrote ${written} bars, not ${bars}`);
  }
  const sim = median(simulated);
  const base = median(baseline);
  report({ name: 'seeded random walk, close only, same bar count (baseline)', value: base, unit: 'ms' });
  report({
    name: `simulated history, 50 symbols × 10 years (${bars.toLocaleString('en-US')} bars, median of ${ROUNDS})`,
    value: sim,
    unit: 'ms',
    baseline: 'random walk',
    ratio: sim / base,
    note: `best ${Math.min(...simulated).toFixed(1)} ms`,
  });
}

/** `symbols` × `days` bars of a seeded log-normal random walk, closes as 4-decimal strings. */
function baselineWalk(symbols: number, days: number, seed: number): number {
  let state = (seed + 1) * 0x9e3779b9;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4_294_967_296;
  };
  let written = 0;
  const start = Date.parse(`${RANGE.from}T00:00:00Z`);
  for (let s = 0; s < symbols; s++) {
    const out: Array<{ day: string; close: string }> = [];
    let log = Math.log(10 + s);
    for (let d = 0; d < days; d++) {
      const z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      log += 0.0002 + 0.019 * z;
      out.push({ day: new Date(start + d * 86_400_000).toISOString().slice(0, 10), close: Math.exp(log).toFixed(4) });
    }
    written += out.length;
  }
  return written;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
