/**
 * The demo: a persistent paper-trading portfolio on the embedded default (a SQLite file and
 * simulated prices). Run it with `pnpm demo`; run it again and the same portfolio is still there.
 */
import { createPortfolioEngine } from '@foliokit/core';
import { createSimulatedProvider } from '@foliokit/providers';
import { createSqliteStore } from '@foliokit/store-sqlite';

const filename = process.env.FOLIOKIT_DEMO_DB ?? 'foliokit-demo.db';
const store = await createSqliteStore({ filename });
const engine = createPortfolioEngine({ store, marketData: createSimulatedProvider({ seed: 42 }) });

engine.on('trade.executed', ({ transaction: t }) => {
  console.log(`  ${t.kind.padEnd(4)} ${t.quantity} ${t.symbol} @ ${t.price}  cash after ${t.cashAfter}`);
});

const existing = await engine.listPortfolios({ ownerId: 'demo' });
const portfolio =
  existing.items[0] ?? (await engine.createPortfolio({ name: 'Demo', ownerId: 'demo', initialCash: '100000' }));
console.log(`Portfolio ${portfolio.name} (${portfolio.id}) in ${filename}`);

await engine.trade(portfolio.id, { symbol: 'AAPL', side: 'buy', quantity: 10, idempotencyKey: 'demo-aapl' });
await engine.trade(portfolio.id, { symbol: 'MSFT', side: 'buy', quantity: '5.5', fee: '1.00' });
await engine.trade(portfolio.id, { symbol: 'NVDA', side: 'buy', quantity: 20 });
await engine.trade(portfolio.id, { symbol: 'MSFT', side: 'sell', quantity: 2 });

const v = await engine.getValuation(portfolio.id);
console.log('\nValuation');
console.table(
  v.positions.map((p) => ({
    symbol: p.symbol,
    quantity: p.quantity,
    averageCost: p.averageCost,
    price: p.price,
    marketValue: p.marketValue,
    unrealizedPnl: p.unrealizedPnl,
    weight: p.weight,
  })),
);
console.log(`cash ${v.cash}  market value ${v.totals.marketValue}  total ${v.totals.totalValue}`);
console.log(
  `unrealized ${v.totals.unrealizedPnl}  realized ${v.totals.realizedPnl}  net deposits ${v.totals.netDeposits}`,
);
await store.close();
