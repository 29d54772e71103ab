/**
 * The price poller under the engine's scheduler, driven by a manual clock on the memory store:
 * held and watched symbols are refreshed on schedule, `price.updated` is emitted per change, and a
 * failing provider fails a tick without stopping the poller.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PRICE_POLLER_JOB, type PriceUpdatedEvent } from '../index.js';
import { createTestEngine, type TestEngine } from '../testing/harness.js';

const open: TestEngine[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function setup() {
  const t = createTestEngine({
    start: '2026-06-01T12:00:00.000Z',
    prices: { AAPL: '100', MSFT: '200', NVDA: '50', IBM: '150' },
  });
  open.push(t);
  const { store, clock, provider, engine } = t;
  const updates: PriceUpdatedEvent[] = [];
  engine.on('price.updated', (e) => void updates.push(e));
  const p = await engine.createPortfolio({ name: 'poll', initialCash: 10_000 });
  await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1, price: '99' });
  await engine.addToWatchlist(p.id, 'NVDA');
  return { store, clock, provider, engine, updates, p };
}

const pollerStatus = (engine: Awaited<ReturnType<typeof setup>>['engine']) =>
  engine.getSchedulerStatus().jobs.find((j) => j.name === PRICE_POLLER_JOB);

describe('price poller', () => {
  it('refreshes held and watched symbols every period and emits price.updated per change', async () => {
    const { clock, provider, engine, updates } = await setup();
    engine.startScheduler({ interval: false, daily: false, prices: { everyMs: 60_000 } });
    const requested: string[][] = [];
    const original = provider.getQuotes.bind(provider);
    provider.getQuotes = async (symbols) => {
      requested.push([...symbols]);
      return original(symbols);
    };
    await clock.advance(60_000);
    expect(requested).toEqual([['AAPL', 'NVDA']]);
    expect(updates.map((u) => [u.symbol, u.price, u.previousPrice])).toEqual([
      ['AAPL', '100', null],
      ['NVDA', '50', null],
    ]);
    provider.setPrice('NVDA', '51.5');
    await clock.advance(60_000);
    expect(requested).toHaveLength(2);
    expect(updates.slice(2).map((u) => [u.symbol, u.price, u.previousPrice])).toEqual([['NVDA', '51.5', '50']]);
    expect(pollerStatus(engine)).toMatchObject({ runCount: 2, failureCount: 0, lastResult: 'completed' });
    await engine.stopScheduler();
    expect(clock.pending()).toBe(0);
  });

  it('keeps polling after the provider fails', async () => {
    const { clock, provider, engine, updates } = await setup();
    engine.startScheduler({ interval: false, daily: false, prices: { everyMs: 30_000 } });
    provider.failing = true;
    await clock.advance(30_000);
    expect(pollerStatus(engine)).toMatchObject({ failureCount: 1, consecutiveFailures: 1, lastResult: 'failed' });
    expect(pollerStatus(engine)?.lastError?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(engine.getProviderStatus()).toMatchObject({ healthy: false });
    provider.failing = false;
    await clock.advance(30_000);
    expect(pollerStatus(engine)).toMatchObject({ consecutiveFailures: 0, lastResult: 'completed' });
    expect(updates.map((u) => u.symbol).sort()).toEqual(['AAPL', 'NVDA']);
    await engine.stopScheduler();
  });

  it("defaults to the provider's suggested period, else 15 minutes, and can be turned off", async () => {
    const { engine } = await setup();
    engine.startScheduler({ interval: false, daily: false });
    expect(pollerStatus(engine)?.schedule).toBe('every 900000 ms');
    await engine.stopScheduler();
    engine.startScheduler({ interval: false, daily: false, prices: false });
    expect(pollerStatus(engine)).toBeUndefined();
    await engine.stopScheduler();
  });
});
