/**
 * The price book through the engine, on the memory store: one table of latest prices, served from
 * memory while fresh, refreshed through the provider, never storing an invalid price.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MarketDataProvider, Quote, Store } from '../index.js';
import { createTestEngine, type TestEngine } from '../testing/harness.js';
import { createTestProvider } from '../testing/provider.js';

const open: TestEngine[] = [];
afterEach(async () => {
  for (const t of open.splice(0).reverse()) await t.close();
});

function setup(provider: MarketDataProvider, store?: Store): TestEngine {
  const t = createTestEngine({ start: '2026-05-04T14:00:00.000Z', marketData: provider, ...(store ? { store } : {}) });
  open.push(t);
  return t;
}

/** A provider that answers whatever quote objects the test sets, valid or not. */
function scripted(
  answers: Record<string, Partial<Omit<Quote, 'price'>> & { price: unknown }>,
): MarketDataProvider & { calls: number } {
  const p = {
    name: 'scripted',
    calls: 0,
    async getQuotes(symbols: readonly string[]) {
      p.calls++;
      const quotes: Record<string, Quote> = {};
      const unknown: string[] = [];
      for (const s of symbols) {
        const a = answers[s];
        if (!a) unknown.push(s);
        else quotes[s] = { symbol: s, at: '2026-05-04T14:00:00.000Z', source: 'scripted', ...a } as Quote;
      }
      return { quotes, unknown };
    },
    async getDailyHistory() {
      return [];
    },
  };
  return p;
}

describe('price book', () => {
  it('serves fresh prices from memory and asks the provider again once they age', async () => {
    const provider = createTestProvider({ prices: { AAPL: '100', MSFT: '200' } });
    const { engine, clock } = setup(provider);
    const p = await engine.createPortfolio({ name: 'b', initialCash: 10_000 });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
    await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1 });
    const calls = provider.quoteCalls;
    await engine.getValuation(p.id);
    await engine.getValuation(p.id);
    expect(provider.quoteCalls).toBe(calls);
    await clock.advance(16_000);
    provider.setPrice('AAPL', '110');
    const v = await engine.getValuation(p.id);
    expect(provider.quoteCalls).toBe(calls + 1);
    expect(v.positions.find((x) => x.symbol === 'AAPL')?.price).toBe('110');
  });

  it('emits price.updated once per changed symbol, with the previous price', async () => {
    const provider = createTestProvider({ prices: { AAPL: '100', MSFT: '200' } });
    const { engine, events } = setup(provider);
    await engine.refreshPrices(['AAPL', 'MSFT']);
    provider.setPrice('AAPL', '101.5');
    events.length = 0;
    const report = await engine.refreshPrices(['aapl', 'MSFT', 'NOPE']);
    expect(report.updated).toEqual(['AAPL']);
    expect(report.unchanged).toBe(1);
    expect(report.unknown).toEqual(['NOPE']);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'price.updated',
        symbol: 'AAPL',
        price: '101.5',
        previousPrice: '100',
        source: 'test',
      }),
    ]);
  });

  it('never stores or fills at an invalid price', async () => {
    const bad = ['NaN', '0', '-5', 'abc', '1e309', Number.POSITIVE_INFINITY, null];
    const answers: Record<string, Partial<Omit<Quote, 'price'>> & { price: unknown }> = {};
    bad.forEach((price, i) => {
      answers[`BAD${i}`] = { price };
    });
    answers.GOOD = { price: '12.5' };
    answers.NOTIME = { price: '1', at: 'yesterday' } as never;
    const { engine, store } = setup(scripted(answers));
    const symbols = [...Object.keys(answers)];
    const report = await engine.refreshPrices(symbols);
    expect(report.updated).toEqual(['GOOD']);
    expect(report.failed.map((f) => f.code)).toEqual(Array(bad.length + 1).fill('PROVIDER_INVALID_RESPONSE'));
    expect((await store.getPrices()).map((r) => r.symbol)).toEqual(['GOOD']);
    const p = await engine.createPortfolio({ name: 'bad', initialCash: 1000 });
    for (const s of Object.keys(answers).filter((s) => s !== 'GOOD')) {
      await expect(engine.trade(p.id, { symbol: s, side: 'buy', quantity: 1 })).rejects.toMatchObject({
        code: 'PRICE_UNAVAILABLE',
      });
    }
    await engine.trade(p.id, { symbol: 'BAD0', side: 'buy', quantity: 1, price: '3' });
    const v = await engine.getValuation(p.id);
    expect(v.unpriced).toEqual(['BAD0']);
    expect(JSON.stringify(v)).not.toMatch(/NaN|Infinity/);
  });

  it('keeps the newest quote when an older one arrives', async () => {
    const answers = { AAPL: { price: '100', at: '2026-05-04T13:59:00.000Z' } };
    const { engine, store, clock } = setup(scripted(answers));
    await engine.refreshPrices(['AAPL']);
    answers.AAPL = { price: '90', at: '2026-05-04T13:00:00.000Z' };
    await clock.advance(60_000);
    await engine.refreshPrices(['AAPL']);
    expect((await store.getPrices(['AAPL']))[0]?.price).toBe('100');
    expect((await engine.latestPrices(['AAPL'])).get('AAPL')?.text).toBe('100');
  });

  it('tracks provider health and falls back to the last known price after a restart', async () => {
    const provider = createTestProvider({ prices: { AAPL: '100' } });
    const first = setup(provider);
    const p = await first.engine.createPortfolio({ name: 'h', initialCash: 1000 });
    await first.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2 });
    expect(first.engine.getProviderStatus()).toMatchObject({ name: 'test', healthy: true, errors: 0 });
    await first.engine.close();

    // A new engine on the same store, with the provider down: its price book starts empty.
    provider.failing = true;
    const second = setup(provider, first.store);
    const v = await second.engine.getValuation(p.id);
    expect(v.positions[0]).toMatchObject({ price: '100', stale: true });
    expect(v.stale).toEqual(['AAPL']);
    const status = second.engine.getProviderStatus();
    expect(status).toMatchObject({ healthy: false, errors: 1, consecutiveErrors: 1 });
    expect(status.lastError?.code).toBe('PROVIDER_UNAVAILABLE');
    provider.failing = false;
    await second.engine.refreshPrices();
    expect(second.engine.getProviderStatus()).toMatchObject({ healthy: true, consecutiveErrors: 0, errors: 1 });
  });

  it('refreshes held and watched symbols when asked for all', async () => {
    const provider = createTestProvider({ prices: { AAPL: '100', MSFT: '200', NVDA: '50' } });
    const { engine } = setup(provider);
    const p = await engine.createPortfolio({ name: 'w', initialCash: 1000 });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: '99' });
    await engine.addToWatchlist(p.id, 'nvda');
    const report = await engine.refreshPrices();
    expect(report.requested).toBe(2);
    expect(report.updated.sort()).toEqual(['AAPL', 'NVDA']);
  });

  it('persists daily history, drops invalid bars, and serves stored bars when the provider fails', async () => {
    const provider = createTestProvider({
      history: {
        AAPL: [
          { day: '2026-01-02', close: '100', open: '99', volume: '1000' },
          { day: '2026-01-05', close: '-1' },
          { day: '2026-01-06', close: '102.5' },
        ],
      },
    });
    const { engine, store } = setup(provider);
    const bars = await engine.priceBook.history('AAPL', { from: '2026-01-01', to: '2026-01-31' });
    expect(bars.map((b) => [b.day, b.close])).toEqual([
      ['2026-01-02', '100'],
      ['2026-01-06', '102.5'],
    ]);
    expect(await store.listDailyBars('AAPL', { from: '2026-01-01', to: '2026-01-03' })).toEqual([
      expect.objectContaining({ day: '2026-01-02', close: '100', open: '99', volume: '1000', source: 'test' }),
    ]);
    provider.failing = true;
    const fallback = await engine.priceBook.history('AAPL', { from: '2026-01-01', to: '2026-01-31' });
    expect(fallback.map((b) => b.day)).toEqual(['2026-01-02', '2026-01-06']);
    await expect(engine.priceBook.history('MSFT', { from: '2026-01-01', to: '2026-01-31' })).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
    });
  });
});
