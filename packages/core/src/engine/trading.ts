/**
 * Cash movements, trades and voids: the engine's ledger changes. Each validates its input once,
 * takes its price before the transaction (a fill price from the price book, the post-trade
 * snapshot's prices), then runs one `applyLedgerChange` whose planner is the pure ledger rules — so
 * nothing but the store's own I/O happens inside the transaction — and emits its events after the
 * commit. An entry dated before the portfolio's latest one re-plans the ledger in date order (the
 * planner asks for the whole ledger, and the change runs again with it); a change dated in the past
 * then brings recorded history in line (`jobs/history-correction.ts`).
 */
import { FoliokitError, portfolioNotFound } from '../errors.js';
import { newId } from '../ids.js';
import { correctHistory } from '../jobs/history-correction.js';
import { LedgerReloadRequired, lotIdOf, type Planned, planEntry, planVoid } from '../ledger/index.js';
import { type Dec, fmt, parseDecimal, ZERO } from '../money/decimal.js';
import type { CostBasisMethod, LedgerChangeRequest, LedgerState, LedgerWrite } from '../ports/index.js';
import type { PriceBook } from '../prices/price-book.js';
import { normalizeSymbol } from '../prices/symbols.js';
import type { Snapshot } from '../snapshots/history.js';
import type { SnapshotHost } from '../snapshots/host.js';
import type { ResolvedSnapshotOptions } from '../snapshots/options.js';
import { planTradeSnapshot, prefetchTradePrices, tradeSnapshotLedger } from '../snapshots/trade.js';
import { parseInstant, toIso } from '../time.js';
import { checkId, validate } from '../validation.js';
import type { HoldingPrice } from '../valuation/kernel.js';
import { type CashInput, cashSchema, type TradeInput, tradeSchema, type VoidInput, voidSchema } from './inputs.js';
import { hashRequest, markReplay, publicTransaction } from './results.js';
import type { Transaction } from './types.js';

/** What trading needs from the engine (the engine satisfies it). */
export interface TradingHost extends SnapshotHost {
  readonly priceBook: PriceBook;
}

/** The engine's ledger changes; the engine owns one and forwards `deposit`, `withdraw` and `trade`. */
export class Trading {
  readonly #host: TradingHost;
  readonly #snapshots: ResolvedSnapshotOptions;
  /** The cost basis method per portfolio (it never changes after creation). */
  readonly #methods = new Map<string, CostBasisMethod>();

  constructor(host: TradingHost, snapshots: ResolvedSnapshotOptions) {
    this.#host = host;
    this.#snapshots = snapshots;
  }

  /** A deposit or a withdrawal (never below zero: `INSUFFICIENT_CASH`). */
  async cash(id: string, input: CashInput, kind: 'deposit' | 'withdrawal'): Promise<Transaction> {
    checkId(id);
    const v = validate(cashSchema, input, 'input');
    const amount = parseDecimal(v.amount, 'amount');
    if (!amount.isPositive() || amount.isZero()) {
      throw new FoliokitError('VALIDATION_FAILED', 'amount must be greater than zero', { field: 'amount' });
    }
    const host = this.#host;
    const nowMs = host.clock.now();
    const executedAt = executedAtOf(v.at, nowMs);
    const requestHash = hashRequest({ kind, amount: fmt(amount), at: v.at === undefined ? undefined : executedAt });
    const key = v.idempotencyKey;
    const transactionId = newId('tx', nowMs);
    const done = await this.#change(
      { portfolioId: id, ...(key !== undefined ? { idempotencyKey: key } : {}) },
      (state) =>
        planEntry(
          state,
          {
            type: 'cash',
            kind,
            portfolioId: id,
            amount,
            executedAt,
            now: toIso(nowMs),
            transactionId,
            requestHash,
            ...(key !== undefined ? { idempotencyKey: key } : {}),
          },
          v.at !== undefined,
        ),
    );
    const transaction = publicTransaction(done.outcome.transaction);
    if (done.outcome.replayed) markReplay(transaction);
    if (!done.outcome.replayed) {
      host.emit(
        kind === 'deposit'
          ? { type: 'cash.deposited', portfolioId: id, transaction }
          : { type: 'cash.withdrawn', portfolioId: id, transaction },
      );
      await this.#correct(id, done.write);
    }
    return transaction;
  }

  /**
   * Voids a ledger entry: it stays in the ledger marked void, and the portfolio is re-planned in
   * date order without it (refused, naming the entry, when a later entry would become impossible).
   * Voiding a void entry answers as the first void did.
   */
  async void(id: string, transactionId: string, input: VoidInput = {}): Promise<Transaction> {
    checkId(id);
    checkId(transactionId, 'transactionId');
    const v = validate(voidSchema, input, 'input');
    const host = this.#host;
    const now = toIso(host.clock.now());
    const done = await this.#change({ portfolioId: id, loadLedger: true }, (state) =>
      planVoid(state, {
        portfolioId: id,
        transactionId,
        now,
        ...(v.idempotencyKey !== undefined ? { idempotencyKey: v.idempotencyKey } : {}),
      }),
    );
    const transaction = publicTransaction(done.outcome.transaction);
    if (done.outcome.replayed) markReplay(transaction);
    if (!done.outcome.replayed) {
      host.emit({ type: 'transaction.voided', portfolioId: id, transaction });
      await this.#correct(id, done.write);
    }
    return transaction;
  }

  /** A buy or a sell; without `price`, at the price book's fill price. */
  async trade(id: string, input: TradeInput): Promise<Transaction> {
    checkId(id);
    const v = validate(tradeSchema, input, 'input');
    const symbol = normalizeSymbol(v.symbol);
    const quantity = positive(v.quantity, 'quantity');
    const fee = v.fee === undefined ? ZERO : parseDecimal(v.fee, 'fee');
    if (fee.isNegative()) {
      throw new FoliokitError('VALIDATION_FAILED', 'fee must not be negative', { field: 'fee' });
    }
    let price = v.price === undefined ? undefined : positive(v.price, 'price');
    const host = this.#host;
    const executedAt = executedAtOf(v.at, host.clock.now());
    const requestHash = hashRequest({
      kind: v.side,
      symbol,
      quantity: fmt(quantity),
      price: price === undefined ? undefined : fmt(price),
      fee: fmt(fee),
      at: v.at === undefined ? undefined : executedAt,
    });
    const key = v.idempotencyKey;
    // A missing portfolio is said as such, before any market call.
    const method = await this.#costBasisMethod(id);
    if (price === undefined) {
      // A replay must not depend on the market: answer it before asking for a price.
      if (key !== undefined) {
        const replay = await this.#findReplay(id, key, requestHash);
        if (replay) return replay;
      }
      price = await host.priceBook.fillPrice(symbol);
    }
    const fillPrice = price;
    const priceGiven = v.price !== undefined;
    // The post-trade snapshot: prices fetched before the transaction, the snapshot planned inside it.
    const snapPrices = this.#snapshots.onTrade ? await prefetchTradePrices(host, id, symbol, v.at !== undefined) : null;
    const nowMs = host.clock.now();
    const transactionId = newId('tx', nowMs);
    let snapshot: Snapshot | undefined;
    const done = await this.#change(
      {
        portfolioId: id,
        symbol,
        loadLots: method === 'fifo' && v.side === 'sell',
        ...(snapPrices ? { loadAllPositions: true } : {}),
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      },
      (state) => {
        snapshot = undefined;
        const planned = planEntry(
          state,
          {
            type: 'trade',
            side: v.side,
            portfolioId: id,
            symbol,
            quantity,
            price: fillPrice,
            fee,
            executedAt,
            now: toIso(nowMs),
            transactionId,
            lotId: lotIdOf(transactionId),
            requestHash,
            priceGiven,
            ...(key !== undefined ? { idempotencyKey: key } : {}),
          },
          v.at !== undefined,
        );
        if (planned.write && snapPrices) {
          const fill = { symbol, price: fillPrice, stale: v.at !== undefined };
          const [after, write] = snapshotInputs(state, planned.write);
          snapshot = planTradeSnapshot(host, after, write, snapPrices, fill, nowMs);
          planned.write.snapshot = snapshot;
        }
        return planned;
      },
      snapPrices,
    );
    const transaction = publicTransaction(done.outcome.transaction);
    if (done.outcome.replayed) markReplay(transaction);
    if (!done.outcome.replayed) {
      host.emit({ type: 'trade.executed', portfolioId: id, transaction });
      const recorded = snapshot as Snapshot | undefined;
      if (recorded) host.emit({ type: 'snapshot.recorded', portfolioId: id, snapshot: recorded });
      await this.#correct(id, done.write);
    }
    return transaction;
  }

  /**
   * Runs one ledger change; when its planner meets a backdated entry without the ledger, runs it
   * again with the ledger loaded (the lock was released in between, so it is planned afresh).
   */
  async #change(
    request: LedgerChangeRequest,
    plan: (state: LedgerState) => Planned,
    snapPrices: Map<string, HoldingPrice> | null = null,
  ): Promise<Planned> {
    let planned: Planned | undefined;
    // Through the post-trade snapshot's ledger: a held symbol its prefetch missed is fetched, then one retry.
    const run = (r: LedgerChangeRequest) =>
      tradeSnapshotLedger(this.#host, snapPrices).applyLedgerChange(r, (state) => {
        planned = plan(state);
        return planned.write;
      });
    try {
      await run(request);
    } catch (error) {
      if (!(error instanceof LedgerReloadRequired)) throw error;
      await run({ ...request, loadLedger: true });
    }
    return planned as Planned;
  }

  /** After a change dated in the past: recompute the daily and backfill history it made stale. */
  async #correct(id: string, write: LedgerWrite | null): Promise<void> {
    if (write?.staleFrom === undefined) return;
    await correctHistory(this.#host, this.#snapshots, id, write.staleFrom);
  }

  async #costBasisMethod(id: string): Promise<CostBasisMethod> {
    const cached = this.#methods.get(id);
    if (cached) return cached;
    const p = await this.#host.store.getPortfolio(id);
    if (!p) throw portfolioNotFound(id);
    if (this.#methods.size > 10_000) this.#methods.clear();
    this.#methods.set(id, p.costBasisMethod);
    return p.costBasisMethod;
  }

  /** The entry recorded under `key`, read through the ledger-change path (consistent with writers). */
  async #findReplay(id: string, key: string, requestHash: string): Promise<Transaction | null> {
    let found: Transaction | null = null;
    await this.#host.store.applyLedgerChange({ portfolioId: id, idempotencyKey: key }, (state) => {
      if (state.existing) {
        if (state.existing.requestHash !== requestHash) {
          throw new FoliokitError(
            'IDEMPOTENCY_CONFLICT',
            `Idempotency key "${key}" was already used with different parameters`,
            { field: 'idempotencyKey', transactionId: state.existing.id },
          );
        }
        found = markReplay(publicTransaction(state.existing));
      }
      return null;
    });
    return found;
  }
}

/**
 * The post-trade snapshot's inputs: the state under lock and the write; after a re-plan, every
 * position comes from the re-plan.
 */
function snapshotInputs(state: LedgerState, write: LedgerWrite): [LedgerState, LedgerWrite] {
  if (!write.replan) return [state, write];
  const { position: _touched, ...rest } = write;
  return [{ ...state, positions: write.replan.positions }, rest];
}

/** A decimal input that must be greater than zero. */
function positive(input: string | number, field: string): Dec {
  const value = parseDecimal(input, field);
  if (value.isNegative() || value.isZero()) {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be greater than zero`, { field });
  }
  return value;
}

/** When an entry happened: now, or the given instant, never in the future. */
export function executedAtOf(at: string | Date | undefined, nowMs: number, field = 'at'): string {
  if (at === undefined) return toIso(nowMs);
  const ms = parseInstant(at, field);
  if (ms > nowMs) {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must not be in the future`, { field });
  }
  return toIso(ms);
}
