/**
 * The ledger rules as pure functions: given the state read under lock and a validated command,
 * plan the writes or throw a typed error. No I/O here, so a store may run a plan inside a
 * synchronous transaction, and the rules are the same on every backend.
 */

import { FoliokitError } from '../errors.js';
import { Dec, dec, divide, fmt, ZERO } from '../money/decimal.js';
import type { LedgerState, LedgerWrite, LotRow, PositionRow, TransactionKind, TransactionRow } from '../ports/index.js';

/** A validated cash movement. */
export interface CashCommand {
  kind: 'deposit' | 'withdrawal';
  portfolioId: string;
  amount: Dec;
  executedAt: string;
  now: string;
  transactionId: string;
  idempotencyKey?: string;
  requestHash: string;
}

/** A validated trade. */
export interface TradeCommand {
  side: 'buy' | 'sell';
  portfolioId: string;
  symbol: string;
  quantity: Dec;
  price: Dec;
  fee: Dec;
  executedAt: string;
  now: string;
  transactionId: string;
  /** Id for the FIFO lot a buy opens. */
  lotId: string;
  idempotencyKey?: string;
  requestHash: string;
  /** The caller gave the price (else it is the market's): a buy over cash then names `price` too. */
  priceGiven?: boolean;
}

/** The outcome of a plan: the ledger entry (new or replayed). */
export interface PlanOutcome {
  transaction: TransactionRow;
  replayed: boolean;
}

/**
 * Checks an idempotency key against the entry already recorded under it: the same request
 * replays the first result, another request under the same key is a conflict.
 */
export function replayOrConflict(state: LedgerState, requestHash: string, key: string | undefined): PlanOutcome | null {
  const existing = state.existing;
  if (!existing) return null;
  if (existing.requestHash !== requestHash) {
    throw new FoliokitError(
      'IDEMPOTENCY_CONFLICT',
      `Idempotency key "${key}" was already used with different parameters`,
      { field: 'idempotencyKey', transactionId: existing.id },
    );
  }
  return { transaction: existing, replayed: true };
}

function entry(
  cmd: {
    portfolioId: string;
    transactionId: string;
    executedAt: string;
    now: string;
    idempotencyKey?: string;
    requestHash: string;
  },
  kind: TransactionKind,
  fields: Partial<TransactionRow> & { amount: string; cashAfter: string },
): TransactionRow {
  return {
    id: cmd.transactionId,
    portfolioId: cmd.portfolioId,
    kind,
    symbol: null,
    quantity: null,
    price: null,
    fee: '0',
    realizedPnl: null,
    quantityAfter: null,
    idempotencyKey: cmd.idempotencyKey ?? null,
    requestHash: cmd.requestHash,
    executedAt: cmd.executedAt,
    createdAt: cmd.now,
    voidedAt: null,
    voidKey: null,
    ...fields,
  };
}

/** The portfolio's `ledgerAt` after an entry at `executedAt` (entries here are never backdated). */
function ledgerAtAfter(current: string | null, executedAt: string): string {
  return current !== null && current > executedAt ? current : executedAt;
}

/** Plans a deposit or a withdrawal. */
export function planCash(state: LedgerState, cmd: CashCommand): { write: LedgerWrite | null; outcome: PlanOutcome } {
  const replay = replayOrConflict(state, cmd.requestHash, cmd.idempotencyKey);
  if (replay) return { write: null, outcome: replay };
  const p = state.portfolio;
  const cash = dec(p.cash);
  let newCash: Dec;
  let netDeposits = dec(p.netDeposits);
  if (cmd.kind === 'deposit') {
    newCash = cash.plus(cmd.amount);
    netDeposits = netDeposits.plus(cmd.amount);
  } else {
    if (cmd.amount.gt(cash)) {
      throw new FoliokitError(
        'INSUFFICIENT_CASH',
        `Cannot withdraw ${fmt(cmd.amount)}: the portfolio holds ${fmt(cash)} in cash`,
        { field: 'amount', available: fmt(cash), requested: fmt(cmd.amount) },
      );
    }
    newCash = cash.minus(cmd.amount);
    netDeposits = netDeposits.minus(cmd.amount);
  }
  const signed = cmd.kind === 'deposit' ? cmd.amount : cmd.amount.neg();
  const transaction = entry(cmd, cmd.kind, { amount: fmt(signed), cashAfter: fmt(newCash) });
  return {
    write: {
      portfolioId: cmd.portfolioId,
      portfolio: {
        cash: fmt(newCash),
        netDeposits: fmt(netDeposits),
        realizedPnl: p.realizedPnl,
        ledgerAt: ledgerAtAfter(p.ledgerAt, cmd.executedAt),
        updatedAt: cmd.now,
      },
      transaction,
    },
    outcome: { transaction, replayed: false },
  };
}

/** Plans a buy or a sell, with average-cost or FIFO cost basis. */
export function planTrade(state: LedgerState, cmd: TradeCommand): { write: LedgerWrite | null; outcome: PlanOutcome } {
  const replay = replayOrConflict(state, cmd.requestHash, cmd.idempotencyKey);
  if (replay) return { write: null, outcome: replay };
  const p = state.portfolio;
  const fifo = p.costBasisMethod === 'fifo';
  const cash = dec(p.cash);
  const held = state.position ? dec(state.position.quantity) : ZERO;
  const heldCost = state.position ? dec(state.position.costBasis) : ZERO;
  const posRealized = state.position ? dec(state.position.realizedPnl) : ZERO;
  const gross = cmd.quantity.times(cmd.price);

  if (cmd.side === 'buy') {
    const cost = gross.plus(cmd.fee);
    if (cost.gt(cash)) {
      // Name what made it too dear: the fee when the shares alone were affordable.
      const fields = gross.gt(cash) ? (cmd.priceGiven ? ['quantity', 'price'] : ['quantity']) : ['fee'];
      throw new FoliokitError(
        'INSUFFICIENT_CASH',
        `Buying ${fmt(cmd.quantity)} ${cmd.symbol} costs ${fmt(cost)}; the portfolio holds ${fmt(cash)} in cash`,
        { field: fields[0], fields, available: fmt(cash), required: fmt(cost) },
      );
    }
    const newCash = cash.minus(cost);
    const newQty = held.plus(cmd.quantity);
    const position: PositionRow = {
      portfolioId: cmd.portfolioId,
      symbol: cmd.symbol,
      quantity: fmt(newQty),
      costBasis: fmt(heldCost.plus(cost)),
      realizedPnl: fmt(posRealized),
      openedAt: held.isZero() ? cmd.executedAt : (state.position?.openedAt ?? cmd.executedAt),
      updatedAt: cmd.now,
    };
    const transaction = entry(cmd, 'buy', {
      symbol: cmd.symbol,
      quantity: fmt(cmd.quantity),
      price: fmt(cmd.price),
      fee: fmt(cmd.fee),
      amount: fmt(cost.neg()),
      cashAfter: fmt(newCash),
      quantityAfter: fmt(newQty),
    });
    const write: LedgerWrite = {
      portfolioId: cmd.portfolioId,
      portfolio: {
        cash: fmt(newCash),
        netDeposits: p.netDeposits,
        realizedPnl: p.realizedPnl,
        ledgerAt: ledgerAtAfter(p.ledgerAt, cmd.executedAt),
        updatedAt: cmd.now,
      },
      position,
      transaction,
    };
    if (fifo) {
      const lot: LotRow = {
        id: cmd.lotId,
        portfolioId: cmd.portfolioId,
        symbol: cmd.symbol,
        openedAt: cmd.executedAt,
        quantity: fmt(cmd.quantity),
        costBasis: fmt(cost),
      };
      write.lots = { insert: [lot], update: [], delete: [] };
    }
    return { write, outcome: { transaction, replayed: false } };
  }

  // Sell.
  if (cmd.quantity.gt(held)) {
    throw new FoliokitError(
      'INSUFFICIENT_QUANTITY',
      `Cannot sell ${fmt(cmd.quantity)} ${cmd.symbol}: the portfolio holds ${fmt(held)}`,
      { field: 'quantity', available: fmt(held), requested: fmt(cmd.quantity) },
    );
  }
  const proceeds = gross.minus(cmd.fee);
  const newCash = cash.plus(proceeds);
  if (newCash.isNegative()) {
    throw new FoliokitError(
      'INSUFFICIENT_CASH',
      `The fee ${fmt(cmd.fee)} exceeds the sale's proceeds and the cash available`,
      { field: 'fee', available: fmt(cash) },
    );
  }
  const newQty = held.minus(cmd.quantity);
  let removedCost: Dec;
  let lots: LedgerWrite['lots'];
  if (fifo) {
    lots = { insert: [], update: [], delete: [] };
    removedCost = ZERO;
    let left = cmd.quantity;
    for (const lot of state.lots) {
      if (left.isZero()) break;
      const lq = dec(lot.quantity);
      const lc = dec(lot.costBasis);
      if (left.gte(lq)) {
        removedCost = removedCost.plus(lc);
        left = left.minus(lq);
        lots.delete.push(lot.id);
      } else {
        // Rounding never takes more than the lot's cost.
        const part = Dec.min(divide(lc.times(left), lq), lc);
        removedCost = removedCost.plus(part);
        lots.update.push({ id: lot.id, quantity: fmt(lq.minus(left)), costBasis: fmt(lc.minus(part)) });
        left = ZERO;
      }
    }
    if (!left.isZero()) {
      // Lots and position disagree: refuse rather than invent a cost.
      throw new FoliokitError('STORE_ERROR', `FIFO lots of ${cmd.symbol} do not cover the position`, {
        symbol: cmd.symbol,
      });
    }
    if (newQty.isZero()) removedCost = heldCost;
  } else {
    // Selling everything removes exactly the cost held; rounding never removes more than that.
    removedCost = newQty.isZero() ? heldCost : Dec.min(divide(heldCost.times(cmd.quantity), held), heldCost);
  }
  const realized = proceeds.minus(removedCost);
  const position: PositionRow = {
    portfolioId: cmd.portfolioId,
    symbol: cmd.symbol,
    quantity: fmt(newQty),
    costBasis: fmt(heldCost.minus(removedCost)),
    realizedPnl: fmt(posRealized.plus(realized)),
    openedAt: newQty.isZero() ? null : (state.position?.openedAt ?? null),
    updatedAt: cmd.now,
  };
  const transaction = entry(cmd, 'sell', {
    symbol: cmd.symbol,
    quantity: fmt(cmd.quantity),
    price: fmt(cmd.price),
    fee: fmt(cmd.fee),
    amount: fmt(proceeds),
    realizedPnl: fmt(realized),
    cashAfter: fmt(newCash),
    quantityAfter: fmt(newQty),
  });
  const write: LedgerWrite = {
    portfolioId: cmd.portfolioId,
    portfolio: {
      cash: fmt(newCash),
      netDeposits: p.netDeposits,
      realizedPnl: fmt(dec(p.realizedPnl).plus(realized)),
      ledgerAt: ledgerAtAfter(p.ledgerAt, cmd.executedAt),
      updatedAt: cmd.now,
    },
    position,
    transaction,
  };
  if (lots) write.lots = lots;
  return { write, outcome: { transaction, replayed: false } };
}
