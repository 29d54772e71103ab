import { describe, expect, it } from 'vitest';
import { isFoliokitError } from '../errors.js';
import type {
  LedgerChangeRequest,
  LedgerWrite,
  LotRow,
  PositionRow,
  SnapshotRow,
  TransactionRow,
} from '../ports/index.js';
import {
  assembleLedgerState,
  COLUMN_KINDS,
  LOT_BALANCE_COLUMNS,
  LOT_COLUMNS,
  ledgerReads,
  lotBalanceValues,
  lotValues,
  PORTFOLIO_BALANCE_COLUMNS,
  PORTFOLIO_COLUMNS,
  POSITION_COLUMNS,
  portfolioBalanceValues,
  positionFromValues,
  positionValues,
  SNAPSHOT_COLUMNS,
  snapshotValues,
  TRANSACTION_COLUMNS,
  transactionValues,
} from './ledger-contract.js';
import { ledgerReadSql, ledgerWriteSql, ledgerWriteStatements, sqlSyntax } from './ledger-sql.js';
import { lotToRow, portfolioToRow, positionToRow, snapshotToRow, transactionToRow } from './rows.js';

const AT = '2026-03-02T15:00:00.000Z';
const position: PositionRow = {
  portfolioId: 'pf_1',
  symbol: 'AAPL',
  quantity: '2.5',
  costBasis: '300.1',
  realizedPnl: '-1',
  openedAt: AT,
  updatedAt: '2026-03-02T16:00:00.000Z',
};
const lot: LotRow = { id: 'lot_1', portfolioId: 'pf_1', symbol: 'AAPL', openedAt: AT, quantity: '1', costBasis: '100' };
const entry: TransactionRow = {
  id: 'tx_1',
  portfolioId: 'pf_1',
  kind: 'buy',
  symbol: 'AAPL',
  quantity: '1',
  price: '100',
  fee: '0.5',
  amount: '-100.5',
  realizedPnl: null,
  cashAfter: '899.5',
  quantityAfter: '1',
  idempotencyKey: 'k1',
  requestHash: 'h1',
  executedAt: AT,
  createdAt: '2026-03-02T15:00:01.000Z',
  voidedAt: null,
  voidKey: null,
};
const snapshot: SnapshotRow = {
  portfolioId: 'pf_1',
  at: AT,
  day: '2026-03-02',
  kind: 'trade',
  cash: '899.5',
  marketValue: '100',
  totalValue: '999.5',
  costBasis: '100.5',
  unrealizedPnl: '-0.5',
  realizedPnl: '0',
  netDeposits: '1000',
  flags: ['stale'],
};
const portfolioRaw = portfolioToRow({
  id: 'pf_1',
  ownerId: null,
  name: 'p',
  description: null,
  baseCurrency: 'USD',
  costBasisMethod: 'fifo',
  cash: '1000',
  netDeposits: '1000',
  realizedPnl: '0',
  ledgerAt: null,
  createdAt: AT,
  updatedAt: AT,
});

/** A row mapper's row, read column by column in a contract's order. */
const inOrder = (columns: readonly string[], row: Record<string, unknown>) => columns.map((c) => row[c]);

describe('the ledger contract', () => {
  it('gives write values in the order of its column lists, as the row mappers name them', () => {
    expect(positionValues(position)).toEqual(inOrder(POSITION_COLUMNS, positionToRow(position)));
    expect(lotValues(lot)).toEqual(inOrder(LOT_COLUMNS, lotToRow(lot)));
    expect(transactionValues(entry)).toEqual(inOrder(TRANSACTION_COLUMNS, transactionToRow(entry)));
    expect(snapshotValues(snapshot)).toEqual(inOrder(SNAPSHOT_COLUMNS, snapshotToRow(snapshot)));
    expect(lotBalanceValues(lot)).toEqual(inOrder(LOT_BALANCE_COLUMNS, lotToRow(lot)));
    const balances = {
      cash: '1',
      netDeposits: '2',
      realizedPnl: '3',
      ledgerAt: '2026-03-01T00:00:00.000Z',
      updatedAt: AT,
    };
    expect(portfolioBalanceValues(balances)).toEqual(['1', '2', '3', '2026-03-01T00:00:00.000Z', AT]);
    expect(PORTFOLIO_BALANCE_COLUMNS.every((c) => (PORTFOLIO_COLUMNS as readonly string[]).includes(c))).toBe(true);
    expect(Object.keys(portfolioRaw)).toEqual([...PORTFOLIO_COLUMNS]);
  });

  it('reads a position back from its values in column order', () => {
    expect(positionFromValues(positionValues(position))).toEqual(position);
    expect(positionFromValues(positionValues({ ...position, openedAt: null, quantity: '0' }))).toMatchObject({
      openedAt: null,
      quantity: '0',
    });
  });

  it('knows the kind of every column it lists', () => {
    for (const column of [
      ...PORTFOLIO_COLUMNS,
      ...POSITION_COLUMNS,
      ...LOT_COLUMNS,
      ...TRANSACTION_COLUMNS,
      ...SNAPSHOT_COLUMNS,
    ]) {
      expect(COLUMN_KINDS[column], column).toMatch(/^(text|decimal|instant|day)$/);
    }
  });

  it('reads the portfolio first, then the keyed entry, the position(s) and the lots', () => {
    const kinds = (r: LedgerChangeRequest) => ledgerReads(r).map((x) => x.kind);
    expect(kinds({ portfolioId: 'pf_1' })).toEqual(['portfolio']);
    expect(kinds({ portfolioId: 'pf_1', symbol: 'AAPL', loadLots: true, idempotencyKey: 'k' })).toEqual([
      'portfolio',
      'existing',
      'position',
      'lots',
    ]);
    expect(kinds({ portfolioId: 'pf_1', symbol: 'AAPL', loadAllPositions: true })).toEqual(['portfolio', 'positions']);
    expect(ledgerReads({ portfolioId: 'pf_1', symbol: 'AAPL', loadLots: true })[2]).toEqual({
      kind: 'lots',
      params: ['pf_1', 'AAPL'],
    });
  });

  it('assembles the state from raw rows, the touched position taken from all positions', () => {
    const request = {
      portfolioId: 'pf_1',
      symbol: 'AAPL',
      loadAllPositions: true,
      loadLots: true,
      idempotencyKey: 'k1',
    };
    const other = { ...positionToRow(position), symbol: 'MSFT' };
    const state = assembleLedgerState(request, ledgerReads(request), [
      [portfolioRaw],
      [transactionToRow(entry)],
      [positionToRow(position), other],
      [lotToRow(lot)],
    ]);
    expect(state.portfolio.costBasisMethod).toBe('fifo');
    expect(state.existing).toEqual(entry);
    expect(state.positions.map((p) => p.symbol)).toEqual(['AAPL', 'MSFT']);
    expect(state.position).toEqual(position);
    expect(state.lots).toEqual([lot]);
    const none = assembleLedgerState(
      { portfolioId: 'pf_1', symbol: 'TSLA' },
      ledgerReads({ portfolioId: 'pf_1', symbol: 'TSLA' }),
      [[portfolioRaw], []],
    );
    expect(none).toMatchObject({ position: null, existing: null, lots: [], positions: [] });
  });

  it('fails with PORTFOLIO_NOT_FOUND when the portfolio read finds nothing', () => {
    const request = { portfolioId: 'pf_gone' };
    let caught: unknown;
    try {
      assembleLedgerState(request, ledgerReads(request), [[]]);
    } catch (error) {
      caught = error;
    }
    expect(isFoliokitError(caught) && caught.code).toBe('PORTFOLIO_NOT_FOUND');
    expect(isFoliokitError(caught) && caught.details).toMatchObject({ field: 'portfolioId', portfolioId: 'pf_gone' });
  });
});

describe('the ledger contract as SQL', () => {
  it('spells the reads per dialect: SQLite `?`, PostgreSQL typed `$n`, schema and row lock', () => {
    const sqlite = ledgerReadSql(sqlSyntax('sqlite'));
    expect(sqlite.lots).toBe(
      'select "id", "portfolio_id", "symbol", "opened_at", "quantity", "cost_basis" from "lots" where "portfolio_id" = ? and "symbol" = ? order by "opened_at", "id"',
    );
    expect(sqlite.portfolio).toMatch(/from "portfolios" where "id" = \?$/);
    const pg = ledgerReadSql(sqlSyntax('postgres', 'tenant'));
    expect(pg.portfolio).toMatch(/from "tenant"\."portfolios" where "id" = \$1::text for no key update$/);
    expect(pg.positions).toMatch(/from "tenant"\."positions" where "portfolio_id" = \$1::text order by "symbol"$/);
  });

  it('writes in order: balances, position, lots (delete, update, insert), ledger row, snapshot', () => {
    const write: LedgerWrite = {
      portfolioId: 'pf_1',
      portfolio: { cash: '899.5', netDeposits: '1000', realizedPnl: '0', ledgerAt: null, updatedAt: AT },
      position,
      lots: { delete: ['lot_0'], update: [{ id: 'lot_1', quantity: '0.5', costBasis: '50' }], insert: [lot] },
      transaction: entry,
      snapshot,
    };
    const statements = ledgerWriteStatements(write, ledgerWriteSql(sqlSyntax('sqlite')));
    expect(statements.map((s) => s.text.split(' (')[0]?.split(' set ')[0])).toEqual([
      'update "portfolios"',
      'insert into "positions"',
      'delete from "lots" where "id" = ?',
      'update "lots"',
      'insert into "lots"',
      'insert into "transactions"',
      'insert into "snapshots"',
    ]);
    expect(statements[0]?.values).toEqual(['899.5', '1000', '0', null, AT, 'pf_1']);
    expect(statements[3]?.values).toEqual(['0.5', '50', 'lot_1']);
    for (const s of statements) expect(s.text.split('?').length - 1, s.text).toBe(s.values.length);
    expect(statements[1]?.text).toContain(
      'on conflict ("portfolio_id", "symbol") do update set "quantity" = excluded."quantity"',
    );
  });
});
