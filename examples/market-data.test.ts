/**
 * A user points the engine at a real source with one option: here a local server speaking Yahoo
 * Finance's chart API (there is no internet in CI, and tests never call public hosts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPortfolioEngine, silentLogger } from '@foliokit/core';
import { createMarketData } from '@foliokit/providers';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, beforeAll, expect, it } from 'vitest';

const server = createServer((req, res) => {
  const symbol = decodeURIComponent((req.url ?? '').split('?')[0]?.split('/').pop() ?? '');
  res.setHeader('content-type', 'application/json');
  if (symbol !== 'MSFT') {
    res.statusCode = 404;
    res.end(JSON.stringify({ chart: { result: null, error: { code: 'Not Found', description: 'No data found' } } }));
    return;
  }
  res.end(
    JSON.stringify({
      chart: {
        result: [{ meta: { currency: 'USD', symbol, regularMarketPrice: 401.12, regularMarketTime: 1741636800 } }],
        error: null,
      },
    }),
  );
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it('engine on Yahoo with one option: fills, valuation, unknown symbols, provider status', async () => {
  const store = await createSqliteStore({ filename: ':memory:' });
  const engine = createPortfolioEngine({
    store,
    marketData: createMarketData({ source: { source: 'yahoo', baseUrl: url } }),
    logger: silentLogger,
  });
  const p = await engine.createPortfolio({ name: 'real', initialCash: 5000 });
  const t = await engine.trade(p.id, { symbol: 'msft', side: 'buy', quantity: 3 });
  expect(t).toMatchObject({ symbol: 'MSFT', price: '401.12', amount: '-1203.36' });
  await expect(engine.trade(p.id, { symbol: 'ZZZZ', side: 'buy', quantity: 1 })).rejects.toMatchObject({
    code: 'UNKNOWN_SYMBOL',
  });
  const v = await engine.getValuation(p.id);
  expect(v.totals).toMatchObject({ marketValue: '1203.36', totalValue: '5000' });
  const status = engine.getProviderStatus();
  expect(status.healthy).toBe(true);
  expect(Array.isArray(status.details)).toBe(true);
  await store.close();
});
