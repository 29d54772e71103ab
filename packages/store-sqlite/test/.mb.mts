// Micro-bench: store.applyLedgerChange (buy, with and without all positions + snapshot) on :memory:,
// current tree vs HEAD copy, rounds alternating in one process.
import { createSqliteStore as current } from '/work/main/packages/store-sqlite/src/index.ts';
import { createSqliteStore as base } from '/tmp/base/packages/store-sqlite/src/index.ts';

const AT = '2026-03-02T15:00:00.000Z';
async function setup(create: typeof current) {
  const store = await create({ filename: ':memory:' });
  const id = `pf_${Math.random().toString(36).slice(2)}`;
  await store.createPortfolio({ id, ownerId: null, name: 'b', description: null, baseCurrency: 'USD', costBasisMethod: 'average', cash: '1000000000', netDeposits: '1000000000', realizedPnl: '0', createdAt: AT, updatedAt: AT } as never, null as never);
  for (let i = 0; i < 10; i++) await store.applyLedgerChange({ portfolioId: id, symbol: `S${i}` }, (s) => write(s, id, `S${i}`, false));
  return { store, id };
}
let n = 0;
function write(state: any, id: string, symbol: string, snap: boolean) {
  n++;
  const q = state.position ? String(Number(state.position.quantity) + 1) : '1';
  return {
    portfolio: { cash: state.portfolio.cash, netDeposits: state.portfolio.netDeposits, realizedPnl: '0', updatedAt: AT },
    position: { portfolioId: id, symbol, quantity: q, costBasis: q, realizedPnl: '0', openedAt: AT, updatedAt: AT },
    transaction: { id: `tx_${n}`, portfolioId: id, kind: 'buy', symbol, quantity: '1', price: '1', fee: '0', amount: '-1', realizedPnl: null, cashAfter: state.portfolio.cash, quantityAfter: q, idempotencyKey: null, requestHash: null, executedAt: AT, createdAt: AT },
    ...(snap ? { snapshot: { portfolioId: id, at: AT, day: '2026-03-02', kind: 'trade', cash: '1', marketValue: '1', totalValue: '2', costBasis: '1', unrealizedPnl: '0', realizedPnl: '0', netDeposits: '1', flags: [] } } : {}),
  };
}
async function round(create: typeof current, snap: boolean, ms = 600) {
  const { store, id } = await setup(create);
  const t0 = performance.now();
  let k = 0;
  while (performance.now() - t0 < ms) {
    for (let j = 0; j < 100; j++, k++) {
      await store.applyLedgerChange({ portfolioId: id, symbol: 'AAPL', loadAllPositions: snap, idempotencyKey: `k${k}` }, (s) => write(s, id, 'AAPL', snap));
    }
  }
  const rate = (k / (performance.now() - t0)) * 1000;
  const r0 = performance.now(); let reads = 0;
  while (performance.now() - r0 < ms / 2) { for (let j = 0; j < 100; j++, reads++) { await store.getPortfolio(id); await store.listPositions(id); } }
  const readRate = (reads / (performance.now() - r0)) * 1000;
  await store.close();
  return [rate, readRate];
}
const res: Record<string, number[][]> = { current: [], base: [], currentSnap: [], baseSnap: [] };
for (let r = 0; r < 15; r++) {
  res.current.push(await round(current, false)); res.base.push(await round(base, false));

}
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(12), 'changes/s', Math.round(med(v.map((x) => x[0]))), ' getPortfolio+listPositions/s', Math.round(med(v.map((x) => x[1]))));
