/**
 * A snapshot of a portfolio state: the base it carries over (who, when, which kind, cash, net
 * deposits, realized P&L) and the kernel's totals of its holdings at prices. Post-trade and manual
 * snapshots and the interval and daily jobs build their rows here; backfill's walk builds its own
 * (see `jobs/backfill-walk.ts`).
 */
import type { PortfolioRow, SnapshotKind, SnapshotRow } from '../ports/index.js';
import { type Holding, type HoldingPrice, valueHoldings } from './kernel.js';

/** The portfolio-level figures a snapshot carries over unchanged. */
export interface SnapshotBase {
  portfolioId: string;
  at: string;
  day: string;
  kind: SnapshotKind;
  cash: string;
  netDeposits: string;
  realizedPnl: string;
}

/**
 * The base of a snapshot of `portfolioId` with the given cash, net deposits and realized P&L
 * (a portfolio row, or a planned write's), taken at `at`. `day` defaults to `at`'s UTC day.
 */
export function snapshotBase(
  portfolioId: string,
  figures: Pick<PortfolioRow, 'cash' | 'netDeposits' | 'realizedPnl'>,
  kind: SnapshotKind,
  at: string,
  day: string = at.slice(0, 10),
): SnapshotBase {
  return {
    portfolioId,
    at,
    day,
    kind,
    cash: figures.cash,
    netDeposits: figures.netDeposits,
    realizedPnl: figures.realizedPnl,
  };
}

/** A computed snapshot with the symbols it could not price at a current price. */
export interface ComputedSnapshot {
  row: SnapshotRow;
  /** Symbols held but priced nowhere: left out of the totals. */
  unpriced: string[];
  /** Symbols valued at a last known price. */
  stale: string[];
}

/** A snapshot of holdings at prices: the base, the kernel's totals and its flags. */
export function computeSnapshot(
  base: SnapshotBase,
  holdings: Iterable<Holding>,
  prices: ReadonlyMap<string, HoldingPrice>,
): ComputedSnapshot {
  const { totals, unpriced, stale, flags } = valueHoldings(base.cash, holdings, prices);
  const row: SnapshotRow = {
    portfolioId: base.portfolioId,
    at: base.at,
    day: base.day,
    kind: base.kind,
    cash: base.cash,
    marketValue: totals.marketValue,
    totalValue: totals.totalValue,
    costBasis: totals.costBasis,
    unrealizedPnl: totals.unrealizedPnl,
    realizedPnl: base.realizedPnl,
    netDeposits: base.netDeposits,
    flags,
  };
  return { row, unpriced, stale };
}
