import { test, expect } from 'vitest';
import { createPortfolioEngine } from '@foliokit/core';
import { createSqliteStore } from '@foliokit/store-sqlite';

test('smoke', async () => {
  const store = await createSqliteStore({ filename: ':memory:' });
  const prices: Record<string, string> = { AAPL: '150.25' };
  const engine = createPortfolioEngine({ store, marketData: { name: 't', async getQuotes(s) { const quotes: any = {}; const unknown: string[] = []; for (const x of s) prices[x] ? (quotes[x] = { symbol: x, price: prices[x], at: new Date().toISOString(), source: 't' }) : unknown.push(x); return { quotes, unknown }; }, async getDailyHistory() { return []; } } });
  const p = await engine.createPortfolio({ name: 'Main', initialCash: 10000, costBasisMethod: 'fifo' });
  await engine.trade(p.id, { symbol: 'aapl', side: 'buy', quantity: 10 });
  await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '0.1', price: '100', fee: 1 });
  const t = await engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 5, idempotencyKey: 'k1' });
  const t2 = await engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 5, idempotencyKey: 'k1' });
  expect(t2).toEqual(t);
  console.log(await engine.getValuation(p.id));
  console.log(await engine.listTransactions(p.id, { limit: 2 }));
  await expect(engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 50 })).rejects.toMatchObject({ code: 'INSUFFICIENT_QUANTITY' });
  await expect(engine.trade(p.id, { symbol: 'ZZZ', side: 'buy', quantity: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
  await engine.deletePortfolio(p.id);
  await store.close();
});
