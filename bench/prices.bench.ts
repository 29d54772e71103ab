/**
 * The price book: quotes served per second from memory (the hot read valuation and fills use),
 * beside a plain Map lookup baseline; and the time to refresh 5,000 symbols from an in-process
 * provider (validate, persist to SQLite, update memory, emit events).
 */
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createStaticProvider } from '@foliokit/providers';
import { createSqliteStore } from '@foliokit/store-sqlite';
import type { Report } from './run.js';

const SYMBOLS = Array.from({ length: 5000 }, (_, i) => `S${String(i).padStart(4, '0')}`);

export default async function run(report: Report): Promise<void> {
  const provider = createStaticProvider({ prices: Object.fromEntries(SYMBOLS.map((s, i) => [s, `${1 + i}.25`])) });
  const store = await createSqliteStore({ filename: ':memory:' });
  const engine = createPortfolioEngine({
    store,
    marketData: provider,
    logger: silentLogger,
    prices: { maxAgeMs: 3_600_000 },
  });
  let events = 0;
  engine.on('price.updated', () => void events++);

  const refreshTimes: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const [i, s] of SYMBOLS.entries()) provider.setPrice(s, `${1 + i}.${25 + round}`);
    const t = performance.now();
    await engine.refreshPrices(SYMBOLS);
    refreshTimes.push(performance.now() - t);
  }
  refreshTimes.sort((a, b) => a - b);
  report({
    name: 'refresh 5,000 symbols (static provider → book → SQLite)',
    value: refreshTimes[2] as number,
    unit: 'ms',
    note: `${events} price.updated events over 5 rounds`,
  });

  // Hot read: 1,000-symbol batches served from memory.
  const batch = SYMBOLS.slice(0, 1000);
  const rounds = 300;
  for (let i = 0; i < 20; i++) await engine.latestPrices(batch);
  let t = performance.now();
  for (let i = 0; i < rounds; i++) await engine.latestPrices(batch);
  const bookRate = (rounds * batch.length) / ((performance.now() - t) / 1000);

  const plain = new Map(SYMBOLS.map((s) => [s, { price: s }]));
  t = performance.now();
  for (let i = 0; i < rounds; i++) {
    const out = new Map<string, unknown>();
    for (const s of batch) out.set(s, plain.get(s));
    await Promise.resolve(out);
  }
  const mapRate = (rounds * batch.length) / ((performance.now() - t) / 1000);
  report({ name: 'plain Map lookups (baseline)', value: mapRate, unit: 'quotes/s' });
  report({
    name: 'price book quotes from memory',
    value: bookRate,
    unit: 'quotes/s',
    baseline: 'plain Map',
    ratio: bookRate / mapRate,
  });
  await store.close();
}
