/**
 * The PortfolioEngine: the only writer of portfolio state. Every public method validates its input
 * once, runs each change in one store transaction, and emits its event after the commit.
 */
import {
  createRiskCache,
  type Drift,
  getDrift,
  getPerformance,
  getRisk,
  getTargets,
  type OptimizeInput,
  type OptimizeResult,
  optimizeWeights,
  type Performance,
  type PerformanceInput,
  type PlanRebalanceInput,
  planRebalance,
  type RebalanceInput,
  type RebalancePlan,
  type RebalanceResult,
  type ResolvedTarget,
  type RiskInput,
  type RiskReport,
  rebalance,
  setTargets,
  type TargetInput,
} from '../analytics/index.js';
import { FoliokitError, portfolioNotFound, wrapError } from '../errors.js';
import {
  type BackfillAllReport,
  type BackfillReport,
  EventBus,
  type FoliokitEvent,
  type FoliokitEventName,
  type Listener,
} from '../events.js';
import { newId } from '../ids.js';
import { type BackfillInput, backfillEveryPortfolio, backfillPortfolio, checkBackfillRange } from '../jobs/backfill.js';
import { runDailyNow, type StartSchedulerOptions, startScheduler, stopScheduler } from '../jobs/built-in.js';
import { checkDailyInput, type DailySnapshotReport, type RunDailySnapshotsInput } from '../jobs/daily.js';
import { type JobDefinition, Scheduler, type SchedulerStatus, type TickOutcome } from '../jobs/scheduler.js';
import { fmt, parseDecimal, ZERO } from '../money/decimal.js';
import type { Clock, DailyBar, Logger, MarketDataProvider, Portfolio, Store, TransactionRow } from '../ports/index.js';
import { PriceBook, type PriceRefreshReport, type ProviderStatus } from '../prices/price-book.js';
import { normalizeSymbol } from '../prices/symbols.js';
import { type GetHistoryInput, getHistory, type History, type Snapshot } from '../snapshots/history.js';
import { type ResolvedSnapshotOptions, resolveSnapshotOptions } from '../snapshots/options.js';
import { recordSnapshot } from '../snapshots/record.js';
import { toIso } from '../time.js';
import { checkId, decodeCursor, encodeCursor, validate } from '../validation.js';
import { type KnownPrice, positionOf, valuePortfolio } from '../valuation/portfolio.js';
import {
  type CashInput,
  type CreatePortfolioInput,
  createPortfolioSchema,
  type ListPortfoliosInput,
  type ListTransactionsInput,
  listPortfoliosSchema,
  listTransactionsSchema,
  type TradeInput,
  type UpdatePortfolioInput,
  updatePortfolioSchema,
  type VoidInput,
} from './inputs.js';
import type { CreatePortfolioEngineOptions } from './options.js';
import { publicTransaction } from './results.js';
import { executedAtOf, Trading } from './trading.js';
import type { Page, Position, Transaction, Valuation, WatchlistItem } from './types.js';

/** What `engine.checkHealth()` reports (the HTTP layer's `/health`). */
export interface EngineHealth {
  /** The store answers and the engine is open. */
  ok: boolean;
  closed: boolean;
  store: { ok: boolean; name: string; error?: string };
  scheduler: SchedulerStatus;
  provider: ProviderStatus;
}

/** Events that change what a portfolio's risk is computed from (its positions). */
const RISK_CHANGING_EVENTS: ReadonlySet<string> = new Set([
  'trade.executed',
  'cash.deposited',
  'cash.withdrawn',
  'transaction.voided',
  'history.corrected',
  'portfolio.deleted',
]);

/**
 * The portfolio engine. Create it with `createPortfolioEngine`.
 */
export class PortfolioEngine {
  readonly store: Store;
  readonly marketData: MarketDataProvider;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly #events: EventBus;
  /** The one table of latest prices; valuation, fills and snapshots read it. */
  readonly priceBook: PriceBook;
  #closed = false;
  readonly #closeHooks: Array<() => Promise<void>> = [];
  /** Risk reports per portfolio and inputs, dropped when the portfolio changes or prices move. */
  readonly #riskCache = createRiskCache();
  readonly #snapshots: ResolvedSnapshotOptions;
  readonly #scheduler: Scheduler;
  readonly #trading: Trading;

  /** @internal use `createPortfolioEngine` */
  constructor(options: Required<CreatePortfolioEngineOptions>) {
    this.store = options.store;
    this.marketData = options.marketData;
    this.clock = options.clock;
    this.logger = options.logger;
    this.#events = new EventBus(this.logger);
    this.#snapshots = resolveSnapshotOptions(options.snapshots);
    this.#scheduler = new Scheduler(this);
    this.priceBook = new PriceBook({
      store: this.store,
      provider: this.marketData,
      clock: this.clock,
      logger: this.logger,
      maxAgeMs: options.prices.maxAgeMs ?? 15_000,
      batchSize: options.prices.batchSize ?? 100,
      onChange: (change) => this.emit({ type: 'price.updated', ...change }),
    });
    this.#trading = new Trading(this, this.#snapshots);
    this.#events.onAny((event) => {
      // Risk reports follow the ledger and the prices: drop what a change makes stale.
      // Risk reads positions and price history, not snapshots: snapshot events leave the cache alone.
      if (event.type === 'price.updated' || event.type === 'events.gap') this.#riskCache.invalidate();
      else if (
        RISK_CHANGING_EVENTS.has(event.type) &&
        'portfolioId' in event &&
        typeof event.portfolioId === 'string'
      ) {
        this.#riskCache.invalidate(event.portfolioId);
      }
    });
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
    const openedAt = executedAtOf(v.initialCashAt, nowMs, 'initialCashAt');
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
      ledgerAt: cash.isZero() ? null : openedAt,
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
          voidedAt: null,
          voidKey: null,
        };
    if (opening) opening.executedAt = openedAt;
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
    if (!p) throw portfolioNotFound(id);
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
  async updatePortfolio(id: string, input: UpdatePortfolioInput): Promise<Portfolio> {
    this.#open();
    checkId(id);
    const v = validate(updatePortfolioSchema, input, 'input');
    const patch: { name?: string; description?: string | null; updatedAt: string } = {
      updatedAt: toIso(this.clock.now()),
    };
    if (v.name !== undefined) patch.name = v.name;
    if (v.description !== undefined) patch.description = v.description;
    const p = await this.store.updatePortfolio(id, patch);
    if (!p) throw portfolioNotFound(id);
    this.emit({ type: 'portfolio.updated', portfolio: p });
    return p;
  }

  /** Deletes a portfolio with its ledger, positions, lots, snapshots and watchlist. */
  async deletePortfolio(id: string): Promise<void> {
    this.#open();
    checkId(id);
    const p = await this.store.getPortfolio(id);
    if (!p) throw portfolioNotFound(id);
    const deleted = await this.store.deletePortfolio(id);
    if (!deleted) throw portfolioNotFound(id);
    this.emit({ type: 'portfolio.deleted', portfolioId: id, ownerId: p.ownerId });
  }

  // ----- cash and trades (trading.ts) -------------------------------------------------------

  /** Adds cash. */
  async deposit(id: string, input: CashInput): Promise<Transaction> {
    this.#open();
    return this.#trading.cash(id, input, 'deposit');
  }

  /** Takes cash out; never below zero (`INSUFFICIENT_CASH`). */
  async withdraw(id: string, input: CashInput): Promise<Transaction> {
    this.#open();
    return this.#trading.cash(id, input, 'withdrawal');
  }

  /**
   * Buys or sells. Without `price`, fills at the provider's latest price. Fees on a buy add to its
   * cost basis; fees on a sell reduce its proceeds.
   */
  async trade(id: string, input: TradeInput): Promise<Transaction> {
    this.#open();
    return this.#trading.trade(id, input);
  }

  // ----- analytics (analytics/) -----------------------------------------------------------------

  /**
   * How a portfolio is doing over a period: time-weighted return (TTWROR), money-weighted return
   * (XIRR, Modified Dietz), simple return, gains, drawdown, volatility, Sharpe/Sortino/Calmar, an
   * optional benchmark, a chart series and per-position figures. What cannot be computed is `null`
   * with a reason (docs/analytics.md).
   */
  async getPerformance(id: string, input: PerformanceInput = {}): Promise<Performance> {
    this.#open();
    return getPerformance(this, id, input);
  }

  /**
   * Value at risk and expected shortfall of the positions held (historical, parametric, Monte Carlo),
   * the covariance and correlation of their returns, and each position's contribution. Cached per
   * portfolio, inputs and day; a trade or a new price drops the cached report.
   */
  async getRisk(id: string, input: RiskInput = {}): Promise<RiskReport> {
    this.#open();
    return getRisk(this, id, input, { cache: this.#riskCache });
  }

  /** Sets a portfolio's target weights (a missing weight shares what the others leave equally); emits `targets.updated`. */
  async setTargets(id: string, targets: TargetInput[]): Promise<ResolvedTarget[]> {
    this.#open();
    return setTargets(this, id, targets);
  }

  /** A portfolio's target weights, resolved. */
  async getTargets(id: string): Promise<ResolvedTarget[]> {
    this.#open();
    return getTargets(this, id);
  }

  /** Current against target weights, in value and percentage points. */
  async getDrift(id: string): Promise<Drift> {
    this.#open();
    return getDrift(this, id);
  }

  /** The orders (sells first) that bring the portfolio to its targets; nothing is traded. */
  async planRebalance(id: string, input: PlanRebalanceInput = {}): Promise<RebalancePlan> {
    this.#open();
    return planRebalance(this, id, input);
  }

  /** Plans and executes a rebalance through `trade`, one idempotency key per order; emits `rebalance.executed`. */
  async rebalance(id: string, input: RebalanceInput = {}): Promise<RebalanceResult> {
    this.#open();
    return rebalance(this, (pid, t) => this.trade(pid, t), id, input);
  }

  /** Long-only minimum-variance or maximum-Sharpe weights from the price history, as targets to apply. */
  async optimize(input: OptimizeInput): Promise<OptimizeResult> {
    this.#open();
    return optimizeWeights(this, input);
  }

  /**
   * Voids a ledger entry: it stays in the ledger, marked void (`voidedAt`), and the portfolio is
   * re-planned in date order without it; history after it is recomputed or flagged stale. Refused
   * (`INSUFFICIENT_CASH` / `INSUFFICIENT_QUANTITY`, naming the entry) when a later entry would
   * become impossible. Voiding a void entry answers as the first void did.
   *
   * @throws `NOT_FOUND` when the portfolio has no such entry.
   */
  async voidTransaction(id: string, transactionId: string, input: VoidInput = {}): Promise<Transaction> {
    this.#open();
    return this.#trading.void(id, transactionId, input);
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
    return rows.filter((r) => r.quantity !== '0').map(positionOf);
  }

  /**
   * Values a portfolio at the latest prices. A position with no price is listed with
   * `price: null`, left out of the totals and named in `unpriced`.
   */
  async getValuation(id: string): Promise<Valuation> {
    this.#open();
    checkId(id);
    // Cash and positions from one consistent read: never cash from before a trade with
    // quantities from after it.
    const [state] = await this.store.readPortfolioStates([id]);
    if (!state) throw portfolioNotFound(id);
    const prices = await this.latestPrices(state.positions.map((r) => r.symbol));
    return valuePortfolio(state.portfolio, state.positions, prices, toIso(this.clock.now()));
  }

  /**
   * The latest price of each symbol from the price book: fresh entries from memory, the rest asked
   * of the provider; when it cannot answer, the last known price flagged `stale`. Symbols with no
   * price at all are absent from the map.
   */
  latestPrices(symbols: readonly string[]): Promise<Map<string, KnownPrice>> {
    return this.priceBook.get(symbols);
  }

  /** Refreshes prices now (all held or watched symbols when omitted); emits `price.updated` per change. */
  async refreshPrices(symbols?: readonly string[]): Promise<PriceRefreshReport> {
    this.#open();
    const list = symbols === undefined ? await this.store.listActiveSymbols() : symbols.map((s) => normalizeSymbol(s));
    return this.priceBook.refresh(list);
  }

  /** The market-data provider's health as the engine has seen it (for admin routes). */
  getProviderStatus(): ProviderStatus {
    return this.priceBook.status();
  }

  /**
   * Daily bars of a symbol, `from <= day <= to` (at most `snapshots.maxBackfillDays` days): the
   * provider's, else what the store keeps when the provider cannot answer (`source: 'store'`).
   *
   * @throws `VALIDATION_FAILED`, `RANGE_TOO_LARGE`, `UNKNOWN_SYMBOL` (neither knows it)
   */
  async getPriceHistory(
    symbol: string,
    input: BackfillInput,
  ): Promise<{ symbol: string; source: string; bars: DailyBar[] }> {
    this.#open();
    const s = normalizeSymbol(symbol);
    const range = checkBackfillRange(input, this.#snapshots.maxBackfillDays, this.clock.now());
    try {
      const bars = await this.marketData.getDailyHistory(s, range);
      return { symbol: s, source: this.marketData.name, bars };
    } catch (error) {
      const stored = await this.store.listDailyBars(s, range);
      if (stored.length === 0)
        throw wrapError(error, 'PROVIDER_UNAVAILABLE', `No price history for ${s}`, { symbol: s });
      return {
        symbol: s,
        source: 'store',
        bars: stored.map((b) => ({
          day: b.day,
          close: b.close,
          ...(b.open !== null ? { open: b.open } : {}),
          ...(b.high !== null ? { high: b.high } : {}),
          ...(b.low !== null ? { low: b.low } : {}),
          ...(b.adjClose !== null ? { adjClose: b.adjClose } : {}),
          ...(b.volume !== null ? { volume: b.volume } : {}),
        })),
      };
    }
  }

  /**
   * Health for load balancers and admin pages: the store answers a read, the scheduler's state,
   * the provider's status. `ok` is false when the store does not answer or the engine is closed.
   */
  async checkHealth(): Promise<EngineHealth> {
    let store: EngineHealth['store'];
    try {
      await this.store.getPortfolio('pf_health_probe');
      store = { ok: true, name: this.store.name };
    } catch (error) {
      store = { ok: false, name: this.store.name, error: error instanceof Error ? error.message : String(error) };
    }
    const closed = this.#closed;
    return {
      ok: store.ok && !closed,
      closed,
      store,
      scheduler: this.getSchedulerStatus(),
      provider: this.getProviderStatus(),
    };
  }

  // ----- snapshots and jobs (snapshots.ts, daily.ts, backfill.ts, jobs.ts, scheduler.ts) -------

  /** Records a snapshot of a portfolio now, at the latest prices (`daily` replaces today's). */
  async recordSnapshot(id: string, kind: 'interval' | 'trade' | 'daily' = 'interval'): Promise<Snapshot> {
    this.#open();
    checkId(id);
    return recordSnapshot(this, id, kind);
  }

  /** A portfolio's value series, oldest first, optionally downsampled to the last snapshot per hour or day. */
  async getHistory(id: string, input: GetHistoryInput = {}): Promise<History> {
    this.#open();
    checkId(id);
    return getHistory(this, id, input);
  }

  /**
   * Records one `daily` snapshot per portfolio for a day (default: yesterday UTC): today or
   * yesterday at the latest prices; an earlier day from the ledger as of its end and that day's
   * closes, as backfill values it. In batches. A rerun replaces that day's rows. Emits `job.started` and one `job.completed`.
   */
  async runDailySnapshots(input: RunDailySnapshotsInput = {}): Promise<DailySnapshotReport> {
    this.#open();
    const day = checkDailyInput(input, this.clock.now());
    return runDailyNow(this, this.#snapshots, day, this.#scheduler.instance);
  }

  /** Writes one `backfill` snapshot per day of the range, valued as of each day from the ledger and daily closes. */
  async backfill(id: string, input: BackfillInput): Promise<BackfillReport> {
    this.#open();
    checkId(id);
    return backfillPortfolio(this, this.#snapshots, id, input);
  }

  /** {@link PortfolioEngine.backfill} for every portfolio; history is fetched once per symbol. */
  async backfillAll(input: BackfillInput): Promise<BackfillAllReport> {
    this.#open();
    return backfillEveryPortfolio(this, this.#snapshots, input);
  }

  /** Starts the interval and daily jobs (and jobs added with {@link PortfolioEngine.addJob}). */
  startScheduler(options: StartSchedulerOptions = {}): SchedulerStatus {
    this.#open();
    return startScheduler(this, this.#scheduler, this.#snapshots, options, {
      listActiveSymbols: () => this.store.listActiveSymbols(),
      refresh: (symbols) => this.priceBook.refresh(symbols),
    });
  }

  /** Stops the scheduler: waits for a running job to finish, and leaves no timer behind. */
  stopScheduler(): Promise<void> {
    return stopScheduler(this.#scheduler);
  }

  /** Each job's schedule, running flag, last run, next run and counters. */
  getSchedulerStatus(): SchedulerStatus {
    return this.#scheduler.status();
  }

  /** Registers a scheduled job (the price poller does). It runs while the scheduler runs. */
  addJob(job: JobDefinition): void {
    this.#open();
    this.#scheduler.add(job);
  }

  /** Unregisters a job, waiting for its running tick. */
  removeJob(name: string): Promise<boolean> {
    return this.#scheduler.remove(name);
  }

  /** Runs a job's tick now, through the same lock and run records as a scheduled tick. */
  runJob(name: string): Promise<TickOutcome> {
    this.#open();
    return this.#scheduler.runNow(name);
  }

  /** Resolves when no scheduled job is running (tests; graceful shutdown). */
  whenJobsIdle(): Promise<void> {
    return this.#scheduler.idle();
  }

  // ----- watchlist -----------------------------------------------------------------------------

  /** Adds a symbol to a portfolio's watchlist. */
  async addToWatchlist(id: string, symbol: string): Promise<WatchlistItem[]> {
    this.#open();
    checkId(id);
    const s = normalizeSymbol(symbol);
    await this.getPortfolio(id);
    return this.store.addWatch(id, s, toIso(this.clock.now()));
  }

  /** Removes a symbol from a portfolio's watchlist (no error when absent). */
  async removeFromWatchlist(id: string, symbol: string): Promise<WatchlistItem[]> {
    this.#open();
    checkId(id);
    const s = normalizeSymbol(symbol);
    await this.getPortfolio(id);
    return this.store.removeWatch(id, s);
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
  /**
   * Runs `hook` first when the engine closes (the event relay stops there).
   * @internal
   */
  onClose(hook: () => Promise<void>): void {
    this.#closeHooks.push(hook);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const hook of this.#closeHooks.splice(0)) await hook();
    await stopScheduler(this.#scheduler);
    this.#events.removeAll();
  }

  #open(): void {
    if (this.#closed) throw new FoliokitError('ENGINE_CLOSED', 'The engine is closed');
  }
}
