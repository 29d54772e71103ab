/**
 * Cash movements and trades: the engine's ledger changes. Each validates its input once, takes its
 * price before the transaction (a fill price from the price book, the post-trade snapshot's prices),
 * then runs one `applyLedgerChange` whose planner is the pure ledger rules — so nothing but the
 * store's own I/O happens inside the transaction — and emits its events after the commit.
 */
import { FoliokitError, portfolioNotFound } from '../errors.js';
import { newId } from '../ids.js';
import { planCash, planTrade } from '../ledger/index.js';
import { type Dec, fmt, parseDecimal, ZERO } from '../money/decimal.js';
import type { CostBasisMethod } from '../ports/index.js';
import type { PriceBook } from '../prices/price-book.js';
import { normalizeSymbol } from '../prices/symbols.js';
import type { Snapshot } from '../snapshots/history.js';
import type { SnapshotHost } from '../snapshots/host.js';
import type { ResolvedSnapshotOptions } from '../snapshots/options.js';
import { planTradeSnapshot, prefetchTradePrices } from '../snapshots/trade.js';
import { parseInstant, toIso } from '../time.js';
import { checkId, validate } from '../validation.js';
import { type CashInput, cashSchema, type TradeInput, tradeSchema } from './inputs.js';
import { hashRequest, publicTransaction } from './results.js';
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
    let outcome: ReturnType<typeof planCash>['outcome'] | undefined;
    await host.store.applyLedgerChange(
      { portfolioId: id, ...(key !== undefined ? { idempotencyKey: key } : {}) },
      (state) => {
        const planned = planCash(state, {
          kind,
          portfolioId: id,
          amount,
          executedAt,
          now: toIso(nowMs),
          transactionId: newId('tx', nowMs),
          requestHash,
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        });
        outcome = planned.outcome;
        return planned.write;
      },
    );
    const done = outcome as NonNullable<typeof outcome>;
    const transaction = publicTransaction(done.transaction);
    if (!done.replayed) {
      host.emit(
        kind === 'deposit'
          ? { type: 'cash.deposited', portfolioId: id, transaction }
          : { type: 'cash.withdrawn', portfolioId: id, transaction },
      );
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
    if (price === undefined) {
      // A replay must not depend on the market: answer it before asking for a price.
      if (key !== undefined) {
        const replay = await this.#findReplay(id, key, requestHash);
        if (replay) return replay;
      }
      price = await host.priceBook.fillPrice(symbol);
    }
    const fillPrice = price;
    const method = await this.#costBasisMethod(id);
    // The post-trade snapshot: prices fetched before the transaction, the snapshot planned inside it.
    const snapPrices = this.#snapshots.onTrade ? await prefetchTradePrices(host, id, symbol, v.at !== undefined) : null;
    const nowMs = host.clock.now();
    let outcome: ReturnType<typeof planTrade>['outcome'] | undefined;
    let snapshot: Snapshot | undefined;
    await host.store.applyLedgerChange(
      {
        portfolioId: id,
        symbol,
        loadLots: method === 'fifo' && v.side === 'sell',
        ...(snapPrices ? { loadAllPositions: true } : {}),
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      },
      (state) => {
        const planned = planTrade(state, {
          side: v.side,
          portfolioId: id,
          symbol,
          quantity,
          price: fillPrice,
          fee,
          executedAt,
          now: toIso(nowMs),
          transactionId: newId('tx', nowMs),
          lotId: newId('lot', nowMs),
          requestHash,
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        });
        outcome = planned.outcome;
        if (planned.write && snapPrices) {
          const fill = { symbol, price: fillPrice, stale: v.at !== undefined };
          snapshot = planTradeSnapshot(host, state, planned.write, snapPrices, fill, nowMs);
          planned.write.snapshot = snapshot;
        }
        return planned.write;
      },
    );
    const done = outcome as NonNullable<typeof outcome>;
    const transaction = publicTransaction(done.transaction);
    if (!done.replayed) {
      host.emit({ type: 'trade.executed', portfolioId: id, transaction });
      const recorded = snapshot as Snapshot | undefined;
      if (recorded) host.emit({ type: 'snapshot.recorded', portfolioId: id, snapshot: recorded });
    }
    return transaction;
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
        found = publicTransaction(state.existing);
      }
      return null;
    });
    return found;
  }
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
function executedAtOf(at: string | Date | undefined, nowMs: number): string {
  if (at === undefined) return toIso(nowMs);
  const ms = parseInstant(at, 'at');
  if (ms > nowMs) {
    throw new FoliokitError('VALIDATION_FAILED', 'at must not be in the future', { field: 'at' });
  }
  return toIso(ms);
}
