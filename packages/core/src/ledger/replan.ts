/**
 * The ledger in date order. A new entry dated before the portfolio's latest one, or a void,
 * re-plans the portfolio from scratch: every entry that counts is planned again in `executedAt`
 * order (ties in entry order, which is id order) by the very rules of `plan.ts`, so positions, FIFO
 * lots, realized P&L and cash after each entry are what a replay in date order gives. If any entry
 * becomes impossible at its own time, the change is refused naming it, and nothing is written.
 */

import { FoliokitError, isFoliokitError } from '../errors.js';
import { dec } from '../money/decimal.js';
import type {
  LedgerReplan,
  LedgerState,
  LedgerWrite,
  LotRow,
  PortfolioRow,
  PositionRow,
  TransactionRow,
} from '../ports/index.js';
import {
  type CashCommand,
  type PlanOutcome,
  planCash,
  planTrade,
  replayOrConflict,
  type TradeCommand,
} from './plan.js';

/**
 * Thrown by a planner that meets a backdated entry without the ledger loaded: the caller runs the
 * change again with `loadLedger`. Never reaches a user.
 */
export class LedgerReloadRequired extends Error {
  override readonly name = 'LedgerReloadRequired';
  constructor() {
    super('A backdated entry needs the whole ledger: run the change again with loadLedger');
  }
}

/** A new ledger entry: a cash movement or a trade. */
export type EntryCommand = ({ type: 'cash' } & CashCommand) | ({ type: 'trade' } & TradeCommand);

/** A void of an entry. */
export interface VoidCommand {
  portfolioId: string;
  transactionId: string;
  now: string;
  idempotencyKey?: string;
}

/** A plan: the writes (none for a replay) and the outcome. */
export interface Planned {
  write: LedgerWrite | null;
  outcome: PlanOutcome;
}

/** True when an entry at `executedAt` lands before an entry already in the ledger. */
export function isBackdated(portfolio: PortfolioRow, executedAt: string): boolean {
  return portfolio.ledgerAt !== null && executedAt < portfolio.ledgerAt;
}

/** The id of the FIFO lot a buy opens, derived from the buy's id (so a re-plan finds it again). */
export function lotIdOf(transactionId: string): string {
  return `lot_${transactionId.slice(transactionId.indexOf('_') + 1)}`;
}

/**
 * Plans a new entry in date order: a replay of its idempotency key answers first; an entry at or
 * after the latest one is planned on the state as it stands; a backdated one re-plans the ledger
 * (and asks for it with {@link LedgerReloadRequired} when it was not loaded).
 *
 * @param markStale Mark the snapshots from the entry's instant stale (the caller dated it).
 */
export function planEntry(state: LedgerState, cmd: EntryCommand, markStale: boolean): Planned {
  const replay = replayOrConflict(state, cmd.requestHash, cmd.idempotencyKey);
  if (replay) return { write: null, outcome: replay };
  let planned: Planned;
  if (isBackdated(state.portfolio, cmd.executedAt)) {
    if (state.ledger === null) throw new LedgerReloadRequired();
    planned = replanLedger(state, { insert: cmd }, cmd.now);
  } else {
    planned = planOne(state, cmd);
  }
  if (markStale && planned.write) planned.write.staleFrom = cmd.executedAt;
  return planned;
}

/**
 * Plans a void: the entry stays in the ledger marked void, and the portfolio is re-planned
 * without it. Voiding a void entry answers as the first void did. Needs the ledger loaded.
 *
 * @throws `NOT_FOUND` (no such entry in this portfolio), `IDEMPOTENCY_CONFLICT` (the key voided
 * another entry), `INSUFFICIENT_CASH` / `INSUFFICIENT_QUANTITY` (a later entry would break).
 */
export function planVoid(state: LedgerState, cmd: VoidCommand): Planned {
  const ledger = state.ledger;
  if (ledger === null) throw new LedgerReloadRequired();
  const key = cmd.idempotencyKey;
  if (key !== undefined) {
    const keyed = ledger.find((e) => e.voidKey === key);
    if (keyed && keyed.id !== cmd.transactionId) {
      throw new FoliokitError(
        'IDEMPOTENCY_CONFLICT',
        `Idempotency key "${key}" was already used to void another entry`,
        {
          field: 'idempotencyKey',
          transactionId: keyed.id,
        },
      );
    }
  }
  const target = ledger.find((e) => e.id === cmd.transactionId);
  if (!target) {
    throw new FoliokitError('NOT_FOUND', `No ledger entry ${cmd.transactionId} in portfolio ${cmd.portfolioId}`, {
      field: 'transactionId',
      transactionId: cmd.transactionId,
    });
  }
  if (target.voidedAt !== null) return { write: null, outcome: { transaction: target, replayed: true } };
  const planned = replanLedger(state, { void: target.id }, cmd.now);
  const v = { id: target.id, voidedAt: cmd.now, voidKey: key ?? null };
  const write = planned.write as LedgerWrite;
  (write.replan as LedgerReplan).void = v;
  write.staleFrom = target.executedAt;
  return { write, outcome: { transaction: { ...target, voidedAt: v.voidedAt, voidKey: v.voidKey }, replayed: false } };
}

/** One entry on the state as it stands (the rules of `plan.ts`). */
function planOne(state: LedgerState, cmd: EntryCommand): Planned {
  return cmd.type === 'cash' ? planCash(state, cmd) : planTrade(state, cmd);
}

/** The command that plans a recorded entry again. */
function commandOf(t: TransactionRow, now: string): EntryCommand {
  const base = {
    portfolioId: t.portfolioId,
    executedAt: t.executedAt,
    now,
    transactionId: t.id,
    requestHash: t.requestHash ?? '',
  };
  if (t.kind === 'deposit' || t.kind === 'withdrawal') {
    return { type: 'cash', kind: t.kind, amount: dec(t.amount).abs(), ...base };
  }
  return {
    type: 'trade',
    side: t.kind,
    symbol: t.symbol as string,
    quantity: dec(t.quantity as string),
    price: dec(t.price as string),
    fee: dec(t.fee),
    lotId: lotIdOf(t.id),
    ...base,
  };
}

/** What a recorded entry is, for a message: `sell 5 AAPL on 2010-02-01T00:00:00.000Z`. */
function describe(t: TransactionRow): string {
  const what =
    t.symbol === null ? `${t.kind} of ${dec(t.amount).abs().toFixed()}` : `${t.kind} ${t.quantity} ${t.symbol}`;
  return `${what} on ${t.executedAt} (${t.id})`;
}

/**
 * Re-plans the whole ledger in date order with `change` applied: the new entry inserted after
 * every entry at or before its instant, or the voided entry left out.
 */
export function replanLedger(
  state: LedgerState,
  change: { insert: EntryCommand } | { void: string },
  now: string,
): Planned {
  const ledger = state.ledger ?? [];
  const voided = 'void' in change ? change.void : null;
  const inserted = 'insert' in change ? change.insert : null;
  const live = ledger.filter((e) => e.voidedAt === null && e.id !== voided);
  const order: Array<TransactionRow | EntryCommand> = live;
  if (inserted) {
    let at = live.length;
    while (at > 0 && (live[at - 1] as TransactionRow).executedAt > inserted.executedAt) at--;
    order.splice(at, 0, inserted);
  }

  const p = state.portfolio;
  const sim: LedgerState = {
    portfolio: { ...p, cash: '0', netDeposits: '0', realizedPnl: '0', ledgerAt: null },
    position: null,
    lots: [],
    positions: [],
    existing: null,
    ledger: null,
  };
  // Every symbol the ledger ever touched gets a row, so a void leaves no stale position behind.
  const positions = new Map<string, PositionRow>();
  for (const e of ledger) {
    if (e.symbol !== null && !positions.has(e.symbol)) positions.set(e.symbol, flat(p.id, e.symbol, now));
  }
  const lots = new Map<string, LotRow[]>();
  const entries: LedgerReplan['entries'] = [];
  let outcome: PlanOutcome | null = null;

  for (const item of order) {
    // Commands carry a `type`; recorded entries do not.
    const recorded = 'type' in item ? null : item;
    const cmd = recorded ? commandOf(recorded, now) : (item as EntryCommand);
    const symbol = cmd.type === 'trade' ? cmd.symbol : null;
    sim.position = symbol === null ? null : (positions.get(symbol) ?? null);
    sim.lots = symbol === null ? [] : (lots.get(symbol) ?? []);
    let planned: Planned;
    try {
      planned = planOne(sim, cmd);
    } catch (error) {
      throw recorded ? laterEntryBroken(error, recorded, inserted !== null) : asOf(error, cmd.executedAt);
    }
    const w = planned.write as LedgerWrite;
    sim.portfolio = { ...sim.portfolio, ...w.portfolio };
    if (symbol !== null && w.position) positions.set(symbol, w.position);
    if (symbol !== null && w.lots) lots.set(symbol, applyLots(sim.lots, w.lots));
    const t = w.transaction as TransactionRow;
    if (recorded) {
      if (
        t.realizedPnl !== recorded.realizedPnl ||
        t.cashAfter !== recorded.cashAfter ||
        t.quantityAfter !== recorded.quantityAfter
      ) {
        entries.push({
          id: recorded.id,
          realizedPnl: t.realizedPnl,
          cashAfter: t.cashAfter,
          quantityAfter: t.quantityAfter,
        });
      }
    } else {
      outcome = planned.outcome;
    }
  }

  const last = order[order.length - 1];
  const write: LedgerWrite = {
    portfolioId: p.id,
    portfolio: {
      cash: sim.portfolio.cash,
      netDeposits: sim.portfolio.netDeposits,
      realizedPnl: sim.portfolio.realizedPnl,
      ledgerAt: last === undefined ? null : last.executedAt,
      updatedAt: now,
    },
    replan: { positions: [...positions.values()], lots: [...lots.values()].flat(), entries },
  };
  if (outcome) write.transaction = outcome.transaction;
  return { write, outcome: outcome ?? { transaction: ledger[0] as TransactionRow, replayed: false } };
}

/** A position with nothing in it. */
function flat(portfolioId: string, symbol: string, now: string): PositionRow {
  return { portfolioId, symbol, quantity: '0', costBasis: '0', realizedPnl: '0', openedAt: null, updatedAt: now };
}

/** A symbol's lots after a planned change (deletes, updates, inserts), oldest first. */
function applyLots(current: readonly LotRow[], change: NonNullable<LedgerWrite['lots']>): LotRow[] {
  const deleted = new Set(change.delete);
  const updated = new Map(change.update.map((u) => [u.id, u]));
  const out: LotRow[] = [];
  for (const lot of current) {
    if (deleted.has(lot.id)) continue;
    const u = updated.get(lot.id);
    out.push(u ? { ...lot, quantity: u.quantity, costBasis: u.costBasis } : lot);
  }
  for (const lot of change.insert) out.push(lot);
  return out;
}

/** The new entry is impossible at its own date: the rule's error, said as of that date. */
function asOf(error: unknown, executedAt: string): unknown {
  if (!isFoliokitError(error)) return error;
  return new FoliokitError(
    error.code,
    `${error.message} as of ${executedAt}`,
    { ...error.details, asOf: executedAt },
    {
      cause: error,
    },
  );
}

/** A later entry would become impossible: the same code, naming that entry. */
function laterEntryBroken(error: unknown, later: TransactionRow, inserting: boolean): unknown {
  if (!isFoliokitError(error)) return error;
  const what = inserting ? 'This entry' : 'Voiding this entry';
  return new FoliokitError(
    error.code,
    `${what} would make a later entry impossible: ${describe(later)}: ${error.message}`,
    {
      field: inserting ? 'at' : 'transactionId',
      transactionId: later.id,
      executedAt: later.executedAt,
      reason: error.details,
    },
    { cause: error },
  );
}
