/**
 * Quotes stamped in the future (a provider whose clock runs ahead, a failover between sources)
 * must not freeze the price book: such a quote is recorded at the engine's clock instead, so the
 * next real quote still counts as newer — in memory and in the store, across a restart. A quote
 * stamped earlier than the one the book holds still never replaces it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Logger, type MarketDataProvider, type Store, silentLogger } from '../index.js';
import { createManualClock } from '../testing/clock.js';
import { createTestEngine, type TestEngine } from '../testing/harness.js';
import { createTestProvider, type TestProvider } from '../testing/provider.js';
import { FUTURE_QUOTE_TOLERANCE_MS } from './price-book.js';

const START = '2026-05-04T14:00:00.000Z';
const HOUR = 3_600_000;

const open: TestEngine[] = [];
afterEach(async () => {
  for (const t of open.splice(0).reverse()) await t.close();
});

/** Two sources behind one provider, as a failover provider presents them; `use` switches source. */
function failover(first: TestProvider): MarketDataProvider & { use(p: TestProvider): void } {
  let active = first;
  return {
    name: 'failover',
    use: (p) => {
      active = p;
    },
    getQuotes: (symbols) => active.getQuotes(symbols),
    getDailyHistory: (symbol, range) => active.getDailyHistory(symbol, range),
  };
}

/** An engine at START, and two sources: one whose clock runs `aheadMs` ahead of the engine's, one on time. */
function setup(aheadMs: number, store?: Store, logger: Logger = silentLogger) {
  const engineClock = createManualClock(START);
  const skewed = {
    now: () => engineClock.now() + aheadMs,
    setTimeout: engineClock.setTimeout,
    clearTimeout: engineClock.clearTimeout,
  };
  const ahead = createTestProvider({ prices: { AAPL: '100' }, clock: skewed, name: 'ahead' });
  const onTime = createTestProvider({ prices: { AAPL: '110' }, clock: engineClock, name: 'on-time' });
  const market = failover(ahead);
  const t = createTestEngine({
    clock: engineClock,
    marketData: market,
    engine: { logger },
    ...(store ? { store } : {}),
  });
  open.push(t);
  return { ...t, ahead, onTime, market };
}

describe('quotes stamped in the future', () => {
  it('do not block later real quotes: fills and valuations move on', async () => {
    const { engine, clock, onTime, market } = setup(HOUR);
    const p = await engine.createPortfolio({ name: 'f', initialCash: 10_000 });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
    // The source fails over to one whose clock is right, and the price moves.
    market.use(onTime);
    await clock.advance(16_000);
    const v = await engine.getValuation(p.id);
    expect(v.positions[0]).toMatchObject({ symbol: 'AAPL', price: '110', stale: false });
    const t = await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
    expect(t.price).toBe('110');
  });

  it('are recorded at the clock, never later: the store keeps no future instant', async () => {
    const { engine, store, clock, onTime, market } = setup(HOUR);
    await engine.refreshPrices(['AAPL']);
    const [row] = await store.getPrices(['AAPL']);
    expect(row).toMatchObject({ price: '100', at: START });
    expect((await engine.latestPrices(['AAPL'])).get('AAPL')?.at).toBe(START);
    market.use(onTime);
    await clock.advance(1_000);
    await engine.refreshPrices(['AAPL']);
    expect(await store.getPrices(['AAPL'])).toEqual([
      expect.objectContaining({ price: '110', at: '2026-05-04T14:00:01.000Z', source: 'on-time' }),
    ]);
  });

  it('do not survive a restart: a new engine on the same store sees the real price', async () => {
    const first = setup(HOUR);
    await first.engine.refreshPrices(['AAPL']);
    first.market.use(first.onTime);
    await first.clock.advance(30_000);
    await first.engine.refreshPrices(['AAPL']);
    await first.engine.close();

    // Another instance on the same store, its provider down: it falls back to the store's price.
    const second = setup(0, first.store);
    second.clock.set(first.clock.now() + 60_000);
    second.ahead.failing = true;
    const prices = await second.engine.latestPrices(['AAPL']);
    expect(prices.get('AAPL')).toMatchObject({ text: '110', stale: true });
  });

  it('are logged as a skewed clock beyond the tolerance, and recorded at now either way', async () => {
    for (const [aheadMs, logged] of [
      [FUTURE_QUOTE_TOLERANCE_MS, false],
      [FUTURE_QUOTE_TOLERANCE_MS + 1, true],
    ] as const) {
      const warnings: string[] = [];
      const logger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
      const { engine, store } = setup(aheadMs, undefined, logger);
      await engine.refreshPrices(['AAPL']);
      expect((await store.getPrices(['AAPL']))[0]).toMatchObject({ price: '100', at: START });
      expect(warnings.some((w) => w.includes('in the future'))).toBe(logged);
    }
  });

  it('a stale quote still never replaces a newer one, even in a book that starts empty', async () => {
    const behind = createTestProvider({
      prices: { AAPL: '90' },
      name: 'behind',
      clock: { now: () => Date.parse(START) - HOUR, setTimeout, clearTimeout },
    });
    const first = setup(0);
    first.market.use(first.onTime);
    await first.engine.refreshPrices(['AAPL']);
    // A source an hour behind answers next: the newer 110 stays, in memory and in the store.
    first.market.use(behind);
    await first.clock.advance(16_000);
    await first.engine.refreshPrices(['AAPL']);
    expect((await first.engine.latestPrices(['AAPL'])).get('AAPL')?.text).toBe('110');
    expect((await first.store.getPrices(['AAPL']))[0]?.price).toBe('110');
    await first.engine.close();

    // A new instance whose first answer is the stale one: the store's newer price stands.
    const second = setup(0, first.store);
    second.clock.set(first.clock.now());
    second.market.use(behind);
    const prices = await second.engine.latestPrices(['AAPL']);
    expect(prices.get('AAPL')?.text).toBe('110');
  });
});
