/**
 * The PortfolioEngine: the only writer of portfolio state. Every public method validates its input
 * once, runs each change in one store transaction, and emits its event after the commit.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Dec, dec, divideToString, fmt, parseDecimal, ZERO } from './decimal.js';
import { ERROR_CODES, FoliokitError, isFoliokitError } from './errors.js';
import { EventBus, type FoliokitEvent, type FoliokitEventName, type Listener } from './events.js';
import { newId } from './ids.js';
import { planCash, planTrade } from './ledger.js';
import {
  type Clock,
  COST_BASIS_METHODS,
  consoleLogger,
  type Logger,
  type MarketDataProvider,
  type PositionRow,
  type Store,
  TRANSACTION_KINDS,
  type TransactionRow,
} from './ports.js';
import { parseInstant, systemClock, toIso } from './time.js';
import { type KnownPrice, valuePortfolio } from './valuation.js';
import type { Page, Portfolio, Position, Transaction, Valuation, ValuedPosition, WatchlistItem } from './types.js';
import {
  checkId,
  decimalInput,
  decodeCursor,
  encodeCursor,
  idempotencyKeyInput,
  instantInput,
  normalizeSymbol,
  validate,
} from './validation.js';

/** Options of {@link createPortfolioEngine}. */
export interface CreatePortfolioEngineOptions {
  /** Where portfolios live: `createSqliteStore(...)`, `createPostgresStore(...)` or your own. */
  store: Store;
  /** Where prices come from: `createSimulatedProvider(...)`, a real provider, or your own. */
  marketData: MarketDataProvider;
  /** Time source. @default systemClock */
  clock?: Clock;
  /** Where the engine logs (listener errors, provider fallbacks). @default consoleLogger (warnings and errors) */
  logger?: Logger;
}

/** Input of {@link PortfolioEngine.createPortfolio}. */
export interface CreatePortfolioInput {
  name: string;
  description?: string;
  /** The user or account the portfolio belongs to. */
  ownerId?: string;
  /** ISO 4217 code. @default 'USD' */
  baseCurrency?: string;
  /** @default 'average' */
  costBasisMethod?: 'average' | 'fifo';
  /** Opening cash, recorded as a deposit. @default 0 */
  initialCash?: string | number;
}

/** Input of {@link PortfolioEngine.deposit} and {@link PortfolioEngine.withdraw}. */
export interface CashInput {
  amount: string | number;
  /** When it happened. @default now; never in the future */
  at?: string | Date;
  /** The same key returns the first result; another request under it is `IDEMPOTENCY_CONFLICT`. */
  idempotencyKey?: string;
}

/** Input of {@link PortfolioEngine.trade}. */
export interface TradeInput {
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string | number;
  /** The fill price. @default the provider's latest price */
  price?: string | number;
  /** @default 0 */
  fee?: string | number;
  /** When it happened. @default now; never in the future */
  at?: string | Date;
  idempotencyKey?: string;
}

/** Input of {@link PortfolioEngine.listTransactions}. */
export interface ListTransactionsInput {
  /** @default 50, at most 500 */
  limit?: number;
  cursor?: string;
  kinds?: Array<'deposit' | 'withdrawal' | 'buy' | 'sell'>;
}

/** Input of {@link PortfolioEngine.listPortfolios}. */
export interface ListPortfoliosInput {
  ownerId?: string;
  /** @default 100, at most 1000 */
  limit?: number;
  cursor?: string;
}

const createPortfolioSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  ownerId: z.string().min(1).max(200).optional(),
  baseCurrency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO 4217 code such as USD')
    .default('USD'),
  costBasisMethod: z.enum(COST_BASIS_METHODS).default('average'),
  initialCash: decimalInput.optional(),
});

const updatePortfolioSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).nullable().optional(),
});

const cashSchema = z.strictObject({
  amount: decimalInput,
  at: instantInput.optional(),
  idempotencyKey: idempotencyKeyInput.optional(),
});

const tradeSchema = z.strictObject({
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  quantity: decimalInput,
  price: decimalInput.optional(),
  fee: decimalInput.optional(),
  at: instantInput.optional(),
  idempotencyKey: idempotencyKeyInput.optional(),
});

const listTransactionsSchema = z.strictObject({
  limit: z.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
  kinds: z.array(z.enum(TRANSACTION_KINDS)).max(TRANSACTION_KINDS.length).optional(),
});

const listPortfoliosSchema = z.strictObject({
  ownerId: z.string().min(1).max(200).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(500).optional(),
});

const REQUIRED_STORE_METHODS = [
  'createPortfolio',
  'getPortfolio',
  'listPortfolios',
  'updatePortfolio',
  'deletePortfolio',
  'applyLedgerChange',
  'listPositions',
  'listLots',
  'listTransactions',
  'addWatch',
  'removeWatch',
  'listWatch',
  'insertSnapshots',
  'listSnapshots',
  'upsertPrices',
  'getPrices',
  'listActiveSymbols',
] as const;

const REQUIRED_PROVIDER_METHODS = ['getQuotes', 'getDailyHistory'] as const;

function publicTransaction(row: TransactionRow): Transaction {
  const { requestHash: _omit, ...rest } = row;
  return rest;
}

function publicPosition(row: PositionRow): Position {
  return {
    symbol: row.symbol,
    quantity: row.quantity,
    costBasis: row.costBasis,
    averageCost: row.quantity === '0' ? '0' : divideToString(row.costBasis, row.quantity),
    realizedPnl: row.realizedPnl,
    openedAt: row.openedAt,
  };
}

function hashRequest(parts: Record<string, string | undefined>): string {
  const canonical = JSON.stringify(Object.entries(parts).filter(([, v]) => v !== undefined));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 32);
}

/**
 * The portfolio engine. Create it with {@link createPortfolioEngine}.
 */
export class PortfolioEngine {
  readonly store: Store;
  readonly marketData: MarketDataProvider;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly #events: EventBus;
  #closed = false;

  /** @internal use {@link createPortfolioEngine} */
  constructor(options: Required<CreatePortfolioEngineOptions>) {
    this.store = options.store;
    this.marketData = options.marketData;
    this.clock = options.clock;
    this.logger = options.logger;
    this.#events = new EventBus(this.logger);
  }

  // ----- events --------------------------------------------------------------------------------

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends FoliokitEventName>(name: K, listener: Listener<K>): () => void {
    return this.#events.on(name, listener);
  }

  /** Subscribes to the next occurrence of an event. */
  once<K extends FoliokitEventName>(name: K, listener: Listener<K>): () => void {
    return this.#events.once(name, listener);
  }

  off<K extends FoliokitEventName>(name: K, listener: Listener<K>): void {
    this.#events.off(name, listener);
  }

  /** Subscribes to every event (an SSE bridge does this). */
  onAny(listener: (event: FoliokitEvent) => void | Promise<void>): () => void {
    return this.#events.onAny(listener);
  }

  /** @internal emits after commit; listener failures are isolated and logged. */
  emit(event: FoliokitEvent): void {
    this.#events.emit(event);
  }

  // ----- portfolios ----------------------------------------------------------------------------

  /** Creates a portfolio; `initialCash` is recorded as its first deposit. */
  async createPortfolio(input: CreatePortfolioInput): Promise<Portfolio> {
    this.#open();
    const v = validate(createPortfolioSchema, input, 'input');
    const cash = v.initialCash === undefined ? ZERO : parseDecimal(v.initialCash, 'initialCash');
    if (cash.isNegative()) {
      throw new FoliokitError('VALIDATION_FAILED', 'initialCash must not be negative', { field: 'initialCash' });
    }
    const nowMs = this.clock.now();
    const now = toIso(nowMs);
    const portfolio: Portfolio = {
      id: newId('pf', nowMs),
      ownerId: v.ownerId ?? null,
      name: v.name,
      description: v.description ?? null,
      baseCurrency: v.baseCurrency,
      costBasisMethod: v.costBasisMethod,
      cash: fmt(cash),
      netDeposits: fmt(cash),
      realizedPnl: '0',
      createdAt: now,
      updatedAt: now,
    };
    const opening: TransactionRow | undefined = cash.isZero()
      ? undefined
      : {
          id: newId('tx', nowMs),
          portfolioId: portfolio.id,
          kind: 'deposit',
          symbol: null,
          quantity: null,
          price: null,
          fee: '0',
          amount: fmt(cash),
          realizedPnl: null,
          cashAfter: fmt(cash),
          quantityAfter: null,
          idempotencyKey: null,
          requestHash: null,
          executedAt: now,
          createdAt: now,
        };
    await this.store.createPortfolio(portfolio, opening);
    this.emit({ type: 'portfolio.created', portfolio });
    if (opening) {
      this.emit({ type: 'cash.deposited', portfolioId: portfolio.id, transaction: publicTransaction(opening) });
    }
    return portfolio;
  }

  /** A portfolio by id. @throws `PORTFOLIO_NOT_FOUND` */
  async getPortfolio(id: string): Promise<Portfolio> {
    this.#open();
    checkId(id);
    const p = await this.store.getPortfolio(id);
    if (!p) throw notFound(id);
    return p;
  }

  /** Portfolios, optionally of one owner, ordered by id (creation order). */
  async listPortfolios(input: ListPortfoliosInput = {}): Promise<Page<Portfolio>> {
    this.#open();
    const v = validate(listPortfoliosSchema, input, 'input');
    const afterId = v.cursor === undefined ? undefined : decodeCursor(v.cursor, ['id']).id;
    const rows = await this.store.listPortfolios({
      limit: v.limit + 1,
      ...(v.ownerId !== undefined ? { ownerId: v.ownerId } : {}),
      ...(afterId !== undefined ? { afterId } : {}),
    });
    const items = rows.slice(0, v.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > v.limit && last ? encodeCursor({ id: last.id }) : null };
  }

  /** Renames or re-describes a portfolio. */
  async updatePortfolio(id: string, input: { name?: string; description?: string | null }): Promise<Portfolio> {
    this.#open();
    checkId(id);
    const v = validate(updatePortfolioSchema, input, 'input');
    const patch: { name?: string; description?: string | null; updatedAt: string } = {
      updatedAt: toIso(this.clock.now()),
    };
    if (v.name !== undefined) patch.name = v.name;
    if (v.description !== undefined) patch.description = v.description;
    const p = await this.store.updatePortfolio(id, patch);
    if (!p) throw notFound(id);
    this.emit({ type: 'portfolio.updated', portfolio: p });
    return p;
  }

  /** Deletes a portfolio with its ledger, positions, lots, snapshots and watchlist. */
  async deletePortfolio(id: string): Promise<void> {
    this.#open();
    checkId(id);
    const p = await this.store.getPortfolio(id);
    if (!p) throw notFound(id);
    const deleted = await this.store.deletePortfolio(id);
    if (!deleted) throw notFound(id);
    this.emit({ type: 'portfolio.deleted', portfolioId: id, ownerId: p.ownerId });
  }

  // ----- cash and trades -----------------------------------------------------------------------

  /** Adds cash. */
  deposit(id: string, input: CashInput): Promise<Transaction> {
    return this.#cash(id, input, 'deposit');
  }

  /** Takes cash out; never below zero (`INSUFFICIENT_CASH`). */
  withdraw(id: string, input: CashInput): Promise<Transaction> {
    return this.#cash(id, input, 'withdrawal');
  }

  async #cash(id: string, input: CashInput, kind: 'deposit' | 'withdrawal'): Promise<Transaction> {
    this.#open();
    checkId(id);
    const v = validate(cashSchema, input, 'input');
    const amount = parseDecimal(v.amount, 'amount');
    if (!amount.isPositive() || amount.isZero()) {
      throw new FoliokitError('VALIDATION_FAILED', 'amount must be greater than zero', { field: 'amount' });
    }
    const nowMs = this.clock.now();
    const executedAt = this.#executedAt(v.at, nowMs);
    const requestHash = hashRequest({
      kind,
      amount: fmt(amount),
      at: v.at === undefined ? undefined : executedAt,
    });
    let outcome: ReturnType<typeof planCash>['outcome'] | undefined;
    await this.store.applyLedgerChange(
      { portfolioId: id, ...(v.idempotencyKey !== undefined ? { idempotencyKey: v.idempotencyKey } : {}) },
      (state) => {
        const planned = planCash(state, {
          kind,
          portfolioId: id,
          amount,
          executedAt,
          now: toIso(nowMs),
          transactionId: newId('tx', nowMs),
          requestHash,
          ...(v.idempotencyKey !== undefined ? { idempotencyKey: v.idempotencyKey } : {}),
        });
        outcome = planned.outcome;
        return planned.write;
      },
    );
    const done = outcome as NonNullable<typeof outcome>;
    const transaction = publicTransaction(done.transaction);
    if (!done.replayed) {
      this.emit(
        kind === 'deposit'
          ? { type: 'cash.deposited', portfolioId: id, transaction }
          : { type: 'cash.withdrawn', portfolioId: id, transaction },
      );
    }
    return transaction;
  }

  /**
   * Buys or sells. Without `price`, fills at the provider's latest price. Fees on a buy add to its
   * cost basis; fees on a sell reduce its proceeds.
   */
  async trade(id: string, input: TradeInput): Promise<Transaction> {
    this.#open();
    checkId(id);
    const v = validate(tradeSchema, input, 'input');
    const symbol = normalizeSymbol(v.symbol);
    const quantity = parseDecimal(v.quantity, 'quantity');
    if (quantity.isNegative() || quantity.isZero()) {
      throw new FoliokitError('VALIDATION_FAILED', 'quantity must be greater than zero', { field: 'quantity' });
    }
    const fee = v.fee === undefined ? ZERO : parseDecimal(v.fee, 'fee');
    if (fee.isNegative()) {
      throw new FoliokitError('VALIDATION_FAILED', 'fee must not be negative', { field: 'fee' });
    }
    let price: Dec | undefined;
    if (v.price !== undefined) {
      price = parseDecimal(v.price, 'price');
      if (price.isNegative() || price.isZero()) {
        throw new FoliokitError('VALIDATION_FAILED', 'price must be greater than zero', { field: 'price' });
      }
    }
    const nowMs0 = this.clock.now();
    const executedAt = this.#executedAt(v.at, nowMs0);
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
      price = await this.#fillPrice(symbol);
    }
    const fillPrice = price;
    const portfolio = await this.#costBasisMethod(id);
    const nowMs = this.clock.now();
    let outcome: ReturnType<typeof planTrade>['outcome'] | undefined;
    await this.store.applyLedgerChange(
      {
        portfolioId: id,
        symbol,
        loadLots: portfolio === 'fifo' && v.side === 'sell',
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
        return planned.write;
      },
    );
    const done = outcome as NonNullable<typeof outcome>;
    const transaction = publicTransaction(done.transaction);
    if (!done.replayed) this.emit({ type: 'trade.executed', portfolioId: id, transaction });
    return transaction;
  }

  /** The cost basis method, cached per portfolio (it never changes after creation). */
  readonly #methods = new Map<string, 'average' | 'fifo'>();
  async #costBasisMethod(id: string): Promise<'average' | 'fifo'> {
    const cached = this.#methods.get(id);
    if (cached) return cached;
    const p = await this.store.getPortfolio(id);
    if (!p) throw notFound(id);
    if (this.#methods.size > 10_000) this.#methods.clear();
    this.#methods.set(id, p.costBasisMethod);
    return p.costBasisMethod;
  }

  async #findReplay(id: string, key: string, requestHash: string): Promise<Transaction | null> {
    let found: Transaction | null = null;
    // Read the keyed entry through the ledger-change path so it is consistent with concurrent writers.
    await this.store.applyLedgerChange({ portfolioId: id, idempotencyKey: key }, (state) => {
      if (state.existing) {
        if (state.existing.requestHash !== requestHash) {
          throw new FoliokitError('IDEMPOTENCY_CONFLICT', `Idempotency key "${key}" was already used with different parameters`, {
            field: 'idempotencyKey',
            transactionId: state.existing.id,
          });
        }
        found = publicTransaction(state.existing);
      }
      return null;
    });
    return found;
  }

  #executedAt(at: string | Date | undefined, nowMs: number): string {
    if (at === undefined) return toIso(nowMs);
    const ms = parseInstant(at, 'at');
    if (ms > nowMs) {
      throw new FoliokitError('VALIDATION_FAILED', 'at must not be in the future', { field: 'at' });
    }
    return toIso(ms);
  }

  async #fillPrice(symbol: string): Promise<Dec> {
    let batch: Awaited<ReturnType<MarketDataProvider['getQuotes']>>;
    try {
      batch = await this.marketData.getQuotes([symbol]);
    } catch (error) {
      if (isFoliokitError(error) && error.code === 'UNKNOWN_SYMBOL') throw error;
      const why = error instanceof Error ? error.message : String(error);
      throw new FoliokitError(
        'PRICE_UNAVAILABLE',
        `No price for ${symbol}: the market-data provider failed (${why})`,
        { field: 'price', symbol, providerCode: isFoliokitError(error) ? error.code : undefined },
        { cause: error },
      );
    }
    const quote = batch.quotes[symbol];
    if (!quote) {
      if (batch.unknown.includes(symbol)) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `The market-data provider does not know ${symbol}; give a price to record the fill`, {
          field: 'symbol',
          symbol,
        });
      }
      throw new FoliokitError('PRICE_UNAVAILABLE', `No price for ${symbol}`, { field: 'price', symbol });
    }
    const price = safePrice(quote.price);
    if (!price) {
      throw new FoliokitError('PRICE_UNAVAILABLE', `The provider's price for ${symbol} is not a positive number`, {
        field: 'price',
        symbol,
      });
    }
    return price;
  }

  // ----- reads ---------------------------------------------------------------------------------

  /** Ledger entries, newest first, cursor-paginated. */
  async listTransactions(id: string, input: ListTransactionsInput = {}): Promise<Page<Transaction>> {
    this.#open();
    checkId(id);
    const v = validate(listTransactionsSchema, input, 'input');
    await this.getPortfolio(id);
    const before = v.cursor === undefined ? undefined : decodeCursor(v.cursor, ['executedAt', 'id']);
    const rows = await this.store.listTransactions(id, {
      limit: v.limit + 1,
      ...(v.kinds ? { kinds: v.kinds } : {}),
      ...(before ? { before: { executedAt: before.executedAt as string, id: before.id as string } } : {}),
    });
    const items = rows.slice(0, v.limit).map(publicTransaction);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > v.limit && last ? encodeCursor({ executedAt: last.executedAt, id: last.id }) : null,
    };
  }

  /** Open positions (quantity > 0), by symbol. */
  async getPositions(id: string): Promise<Position[]> {
    this.#open();
    checkId(id);
    await this.getPortfolio(id);
    const rows = await this.store.listPositions(id);
    return rows.filter((r) => r.quantity !== '0').map(publicPosition);
  }

  /**
   * Values a portfolio at the latest prices. A position with no price is listed with
   * `price: null`, left out of the totals and named in `unpriced`.
   */
  async getValuation(id: string): Promise<Valuation> {
    this.#open();
    checkId(id);
    const [portfolio, rows] = await Promise.all([this.store.getPortfolio(id), this.store.listPositions(id)]);
    if (!portfolio) throw notFound(id);
    const symbols: string[] = [];
    for (const r of rows) if (r.quantity !== '0') symbols.push(r.symbol);
    const prices = await this.latestPrices(symbols);
    return valuePortfolio(portfolio, rows, prices, toIso(this.clock.now()));
  }

  /**
   * The latest price of each symbol: from the provider, or, when it cannot answer, the last
   * price the store knows (flagged stale). Symbols with neither are absent from the map.
   */
  async latestPrices(symbols: readonly string[]): Promise<Map<string, KnownPrice>> {
    const out = new Map<string, KnownPrice>();
    if (symbols.length === 0) return out;
    let missing: string[] = [...symbols];
    try {
      const batch = await this.marketData.getQuotes(symbols);
      missing = [];
      for (const s of symbols) {
        const q = batch.quotes[s];
        const price = q ? safePrice(q.price) : null;
        if (q && price) out.set(s, { price, text: fmt(price), at: q.at, source: q.source, stale: false });
        else missing.push(s);
      }
    } catch (error) {
      this.logger.warn('Market data unavailable; falling back to last known prices', {
        error: isFoliokitError(error) ? error.toJSON() : String(error),
      });
    }
    if (missing.length > 0) {
      for (const row of await this.store.getPrices(missing)) {
        const price = safePrice(row.price);
        if (price) out.set(row.symbol, { price, text: fmt(price), at: row.at, source: row.source, stale: true });
      }
    }
    return out;
  }

  // ----- watchlist -----------------------------------------------------------------------------

  /** Adds a symbol to a portfolio's watchlist. */
  async addToWatchlist(id: string, symbol: string): Promise<WatchlistItem[]> {
    this.#open();
    checkId(id);
    const s = normalizeSymbol(symbol);
    await this.getPortfolio(id);
    await this.store.addWatch(id, s, toIso(this.clock.now()));
    return this.store.listWatch(id);
  }

  /** Removes a symbol from a portfolio's watchlist (no error when absent). */
  async removeFromWatchlist(id: string, symbol: string): Promise<WatchlistItem[]> {
    this.#open();
    checkId(id);
    const s = normalizeSymbol(symbol);
    await this.getPortfolio(id);
    await this.store.removeWatch(id, s);
    return this.store.listWatch(id);
  }

  /** The watchlist of a portfolio. */
  async getWatchlist(id: string): Promise<WatchlistItem[]> {
    this.#open();
    checkId(id);
    await this.getPortfolio(id);
    return this.store.listWatch(id);
  }

  // ----- lifecycle -----------------------------------------------------------------------------

  /** Stops the engine's background work and removes listeners. The store is left open (you own it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.removeAll();
  }

  #open(): void {
    if (this.#closed) throw new FoliokitError('ENGINE_CLOSED', 'The engine is closed');
  }
}

function notFound(id: string): FoliokitError {
  return new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${id}`, { field: 'portfolioId', portfolioId: id });
}

/** A provider's price as a positive decimal, or null when it is not one. */
function safePrice(value: unknown): Dec | null {
  try {
    const d = parseDecimal(value, 'price');
    return d.isPositive() && !d.isZero() ? d : null;
  } catch {
    return null;
  }
}

/**
 * Creates a portfolio engine on a store and a market-data provider.
 *
 * @example
 * ```ts
 * const engine = createPortfolioEngine({
 *   store: await createSqliteStore({ filename: 'folio.db' }),
 *   marketData: createSimulatedProvider({ seed: 42 }),
 * });
 * ```
 */
export function createPortfolioEngine(options: CreatePortfolioEngineOptions): PortfolioEngine {
  if (typeof options !== 'object' || options === null) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'createPortfolioEngine needs an options object');
  }
  const missing: string[] = [];
  if (!options.store) missing.push('store');
  else for (const m of REQUIRED_STORE_METHODS) if (typeof options.store[m] !== 'function') missing.push(`store.${m}`);
  if (!options.marketData) missing.push('marketData');
  else
    for (const m of REQUIRED_PROVIDER_METHODS)
      if (typeof options.marketData[m] !== 'function') missing.push(`marketData.${m}`);
  if (missing.length > 0) {
    throw new FoliokitError('INVALID_CONFIGURATION', `createPortfolioEngine: missing ${missing.join(', ')}`, {
      missing,
    });
  }
  return new PortfolioEngine({
    store: options.store,
    marketData: options.marketData,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? consoleLogger,
  });
}

export { ERROR_CODES };
