/**
 * Backend-neutral ledger checks shared by the race and crash tests of both SQL stores: stored cash,
 * positions and FIFO lots must equal a replay of the ledger.
 */
import { fmt, type PortfolioRow, replayLedger, type Store, type TransactionRow, ZERO } from '@foliokit/core';
import { expect } from 'vitest';

/** Every ledger entry of a portfolio, oldest first. */
export async function ledgerOf(store: Store, portfolioId: string): Promise<TransactionRow[]> {
  return store.listTransactions(portfolioId, { limit: 1_000_000, order: 'asc' });
}

/**
 * Asserts that the stored portfolio (cash, net deposits, realized P&L), its positions and, for FIFO,
 * its lots equal a replay of its ledger. Replay sums recorded amounts, so the order of entries that
 * share a timestamp does not matter. Returns the portfolio and its ledger for further checks.
 */
export async function expectStateMatchesLedger(
  store: Store,
  portfolioId: string,
): Promise<{ portfolio: PortfolioRow; ledger: TransactionRow[] }> {
  const portfolio = await store.getPortfolio(portfolioId);
  expect(portfolio, `portfolio ${portfolioId}`).not.toBeNull();
  const p = portfolio as PortfolioRow;
  const ledger = await ledgerOf(store, portfolioId);
  const replay = replayLedger(ledger);
  expect({ cash: p.cash, netDeposits: p.netDeposits, realizedPnl: p.realizedPnl }).toEqual({
    cash: fmt(replay.cash),
    netDeposits: fmt(replay.netDeposits),
    realizedPnl: fmt(replay.realizedPnl),
  });
  const positions = await store.listPositions(portfolioId);
  const stored = Object.fromEntries(positions.map((x) => [x.symbol, [x.quantity, x.costBasis, x.realizedPnl]]));
  const replayed = Object.fromEntries(
    [...replay.positions].map(([symbol, x]) => [symbol, [fmt(x.quantity), fmt(x.costBasis), fmt(x.realizedPnl)]]),
  );
  expect(stored).toEqual(replayed);
  // The last committed entry recorded the cash and quantity it left. Entries are listed by
  // executedAt, which concurrent calls fix before they queue for the lock, so it is not commit
  // order: the stored values must be among those recorded.
  expect(
    ledger.map((t) => t.cashAfter),
    'stored cash among the cashAfter values',
  ).toContain(p.cash);
  for (const x of positions) {
    const recorded = ledger.filter((t) => t.symbol === x.symbol).map((t) => t.quantityAfter);
    expect(recorded, `quantity of ${x.symbol} among the quantityAfter values`).toContain(x.quantity);
  }
  if (p.costBasisMethod === 'fifo') {
    const lots = await store.listLots(portfolioId);
    for (const x of positions) {
      const mine = lots.filter((l) => l.symbol === x.symbol);
      expect(fmt(mine.reduce((s, l) => s.plus(l.quantity), ZERO)), `lots of ${x.symbol}`).toBe(x.quantity);
      expect(fmt(mine.reduce((s, l) => s.plus(l.costBasis), ZERO)), `lot cost of ${x.symbol}`).toBe(x.costBasis);
    }
  }
  return { portfolio: p, ledger };
}
