/**
 * Typed engine events. Every payload carries its `type`, so an SSE bridge can forward the object
 * as it is. Events are emitted after the change they describe has committed; a listener that throws
 * (or rejects) is logged and never breaks the engine or the other listeners.
 */
import { EventEmitter } from 'eventemitter3';
import type { Transaction } from './engine/types.js';
import type { ErrorCode } from './errors.js';
import type { AlertRow, Logger, Portfolio, SnapshotRow, TransportGapReason } from './ports/index.js';

// ----- reports and values that events carry (the features import them from here) -----

/** Why a job ran. */
export const JOB_TRIGGERS = ['schedule', 'catch-up', 'retry', 'manual'] as const;
export type JobTrigger = (typeof JOB_TRIGGERS)[number];

/** A changed price, for `price.updated`. */
export interface PriceChange {
  symbol: string;
  price: string;
  previousPrice: string | null;
  at: string;
  source: string;
  currency: string;
}

/** A held symbol that had no close on some days of a backfill: left out of those days and flagged. */
export interface UnpricedSymbol {
  symbol: string;
  /** Days written without a close for it. */
  days: number;
  firstDay: string;
  lastDay: string;
  /** `no-close-yet`: its history starts later; `unknown-symbol`: the provider does not know it. */
  reason: 'no-close-yet' | 'unknown-symbol';
}

/** What `engine.backfill` did. */
export interface BackfillReport {
  portfolioId: string;
  from: string;
  to: string;
  /** First day written: `from`, or the day of the first ledger entry when later; null when nothing was written. */
  firstDay: string | null;
  /** Snapshots written (replacing any earlier backfill of those days). */
  written: number;
  /** Days of the range before the portfolio's first ledger entry. */
  skippedDays: number;
  /** Symbols without a close on some days (flagged `SYM:unpriced` on those days, never guessed). */
  unpriced: UnpricedSymbol[];
  durationMs: number;
}

/** A portfolio a multi-portfolio run could not value. */
export interface PortfolioFailure {
  portfolioId: string;
  code: ErrorCode;
  message: string;
}

/** What `engine.backfillAll` did. */
export interface BackfillAllReport {
  from: string;
  to: string;
  /** Portfolios looked at. */
  processed: number;
  /** Portfolios backfilled (including those with nothing to write). */
  succeeded: number;
  /** Snapshots written across portfolios. */
  written: number;
  /** The first 1,000 failures; `failedCount` has them all. */
  failed: PortfolioFailure[];
  failedCount: number;
  /** Symbols without a close on some days, with how many portfolio-days they left out. */
  unpriced: Array<{ symbol: string; portfolios: number; days: number }>;
  durationMs: number;
}

/** A resolved target holding of a model portfolio, for `targets.updated` and `setTargets`. */
export interface ResolvedTarget {
  symbol: string;
  /** The effective weight, a decimal fraction of total value (`"0.25"`). */
  weight: string;
  /** The weight as given, or null when it was left out (an equal share of the rest). */
  givenWeight: string | null;
}

/** One order of a rebalancing plan. Decimals are strings; `value` is `quantity × price`. */
export interface RebalanceOrder {
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  price: string;
  value: string;
}

// ----- events ------------------------------------------------------------------------

/**
 * Where an event comes from: this engine (`'local'`, the same as no `origin`), or another engine
 * instance sharing the store, re-emitted here by the event relay (`'remote'`: the change was made
 * and committed through that instance). See `Store.events`.
 */
export type EventOrigin = 'local' | 'remote';

/** Fields any event may carry. */
export interface EventBase {
  /** @default 'local' (absent on the events the engine emits for its own changes) */
  origin?: EventOrigin;
}

export interface PortfolioCreatedEvent extends EventBase {
  type: 'portfolio.created';
  portfolio: Portfolio;
}
export interface PortfolioUpdatedEvent extends EventBase {
  type: 'portfolio.updated';
  portfolio: Portfolio;
}
export interface PortfolioDeletedEvent extends EventBase {
  type: 'portfolio.deleted';
  portfolioId: string;
  ownerId: string | null;
}
export interface CashDepositedEvent extends EventBase {
  type: 'cash.deposited';
  portfolioId: string;
  transaction: Transaction;
}
export interface CashWithdrawnEvent extends EventBase {
  type: 'cash.withdrawn';
  portfolioId: string;
  transaction: Transaction;
}
export interface TradeExecutedEvent extends EventBase {
  type: 'trade.executed';
  portfolioId: string;
  transaction: Transaction;
}

/** A ledger entry was voided: it stays in the ledger, marked void, and the portfolio was re-planned without it. */
export interface TransactionVoidedEvent extends EventBase {
  type: 'transaction.voided';
  portfolioId: string;
  /** The entry, with its `voidedAt`. */
  transaction: Transaction;
}

/**
 * The ledger changed under recorded history (a backdated entry or a void): daily and backfill
 * snapshots from `from` on were recomputed from price history where it had every price; the rest
 * (trade and interval snapshots, and days history could not price) stay flagged `ledger:stale`.
 */
export interface HistoryCorrectedEvent extends EventBase {
  type: 'history.corrected';
  portfolioId: string;
  /** The instant from which the ledger changed. */
  from: string;
  /** Daily and backfill snapshots recomputed. */
  recomputed: number;
  /** Daily and backfill snapshots left flagged stale (history could not price them). */
  stale: number;
}

/** A changed price (see the price book). */
export interface PriceUpdatedEvent extends PriceChange, EventBase {
  type: 'price.updated';
}

/**
 * A snapshot was recorded after a trade, by the interval job, or by `recordSnapshot`. The daily
 * job and backfill write many at once and announce their run with one `job.completed` /
 * `backfill.completed` instead.
 */
export interface SnapshotRecordedEvent extends EventBase {
  type: 'snapshot.recorded';
  portfolioId: string;
  snapshot: SnapshotRow;
}

/** Fields every job event carries. */
export interface JobEventBase extends EventBase {
  /** Job name (`"daily-snapshots"`, `"interval-snapshots"`, or one added with `addJob`). */
  job: string;
  /** What the run is for: the valued day for the daily job, the tick instant for interval jobs. */
  runKey: string;
  /** Why it ran: its schedule, a catch-up at start, a retry of a tick another instance held, or a manual call. */
  trigger: JobTrigger;
  /** The engine instance that ran it. */
  instance: string;
  /** When the run started (UTC ISO). */
  at: string;
}
export interface JobStartedEvent extends JobEventBase {
  type: 'job.started';
}
export interface JobCompletedEvent extends JobEventBase {
  type: 'job.completed';
  durationMs: number;
  /** The job's report (for the daily job a `DailySnapshotReport`). */
  report: unknown;
}
export interface JobFailedEvent extends JobEventBase {
  type: 'job.failed';
  durationMs: number;
  error: { code: string; message: string };
}
/** Progress of a backfill: days of one portfolio, or portfolios of `backfillAll`. */
export interface BackfillProgressEvent extends EventBase {
  type: 'backfill.progress';
  /** The portfolio (single backfill), or null for `backfillAll`. */
  portfolioId: string | null;
  unit: 'days' | 'portfolios';
  done: number;
  /** Null when not known in advance (`backfillAll` does not count portfolios first). */
  total: number | null;
}
export interface BackfillCompletedEvent extends EventBase {
  type: 'backfill.completed';
  /** The portfolio (single backfill), or null for `backfillAll`. */
  portfolioId: string | null;
  report: BackfillReport | BackfillAllReport;
}

/**
 * Events from other instances may have been missed: the transport that carries them (see
 * `Store.events`) lost its connection and is back, or could not read an event sent by reference.
 * Emitted on each engine whose store has a transport; a stream tells its clients to refetch.
 */
export interface EventsGapEvent extends EventBase {
  type: 'events.gap';
  reason: TransportGapReason;
}

/** The target holdings of a model portfolio were replaced (see `setTargets`). */
export interface TargetsUpdatedEvent extends EventBase {
  type: 'targets.updated';
  portfolioId: string;
  targets: ResolvedTarget[];
}

/** A rebalancing plan was executed through `trade` (see `rebalance`): its orders and their entries. */
export interface RebalanceExecutedEvent extends EventBase {
  type: 'rebalance.executed';
  portfolioId: string;
  orders: RebalanceOrder[];
  transactions: Transaction[];
}

/**
 * A strategy's decision on a symbol's latest bar changed to a buy or a sell (see
 * `startSignalEvaluator`): emitted once per change, not per price update.
 */
export interface SignalGeneratedEvent extends EventBase {
  type: 'signal.generated';
  strategy: string;
  symbol: string;
  direction: 'buy' | 'sell';
  /** How strong the signal is, when the strategy says (`signalStrength`). */
  strength?: number;
  /** The bar's day, `YYYY-MM-DD`. */
  day: string;
  /** The instant of the price update that produced it. */
  at: string;
}

/**
 * An alert's condition became true (see `startAlertEvaluator`): emitted once per crossing, never
 * within the alert's cool-down, and by one engine only among those sharing a store.
 */
export interface AlertTriggeredEvent extends EventBase {
  type: 'alert.triggered';
  /** The alert, with its new `lastFiredAt` and `coolDownUntil`. */
  alert: AlertRow;
  /** The value that crossed the threshold (a price, a percent, or an amount; decimal string). */
  value: string;
  /** When it fired (UTC ISO). */
  at: string;
}

/**
 * A backtest run advanced (see `createBacktestRunner`): bars replayed so far of all its bars, in
 * order, at most about a hundred times a run (compared variants count together), the last one at
 * `done === total` just before `backtest.completed`.
 */
export interface BacktestProgressEvent extends EventBase {
  type: 'backtest.progress';
  runId: string;
  /** The run's owner (null: no owner), so a stream shows it only to them. */
  ownerId: string | null;
  done: number;
  total: number;
}

/** A backtest run became final: `succeeded`, `failed` or `cancelled` (emitted once, after the store has it). */
export interface BacktestCompletedEvent extends EventBase {
  type: 'backtest.completed';
  runId: string;
  ownerId: string | null;
  status: 'succeeded' | 'failed' | 'cancelled';
  /** Why it failed or was cancelled (absent when it succeeded). */
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** Event name → payload. Later features add their events here. */
export interface FoliokitEventMap {
  'portfolio.created': PortfolioCreatedEvent;
  'portfolio.updated': PortfolioUpdatedEvent;
  'portfolio.deleted': PortfolioDeletedEvent;
  'cash.deposited': CashDepositedEvent;
  'cash.withdrawn': CashWithdrawnEvent;
  'trade.executed': TradeExecutedEvent;
  'transaction.voided': TransactionVoidedEvent;
  'history.corrected': HistoryCorrectedEvent;
  'snapshot.recorded': SnapshotRecordedEvent;
  'job.started': JobStartedEvent;
  'job.completed': JobCompletedEvent;
  'job.failed': JobFailedEvent;
  'backfill.progress': BackfillProgressEvent;
  'backfill.completed': BackfillCompletedEvent;
  'price.updated': PriceUpdatedEvent;
  'events.gap': EventsGapEvent;
  'targets.updated': TargetsUpdatedEvent;
  'rebalance.executed': RebalanceExecutedEvent;
  'signal.generated': SignalGeneratedEvent;
  'alert.triggered': AlertTriggeredEvent;
  'backtest.progress': BacktestProgressEvent;
  'backtest.completed': BacktestCompletedEvent;
}

export type FoliokitEventName = keyof FoliokitEventMap;
export type FoliokitEvent = FoliokitEventMap[FoliokitEventName];
export type Listener<K extends FoliokitEventName> = (event: FoliokitEventMap[K]) => void | Promise<void>;

/** The engine's event bus: eventemitter3 underneath, with isolated listeners. */
export class EventBus {
  readonly #emitter = new EventEmitter();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<K extends FoliokitEventName>(name: K, listener: Listener<K>): () => void {
    this.#emitter.on(name, listener);
    return () => this.#emitter.off(name, listener);
  }

  once<K extends FoliokitEventName>(name: K, listener: Listener<K>): () => void {
    const wrapped = (event: FoliokitEventMap[K]) => {
      this.#emitter.off(name, wrapped);
      return listener(event);
    };
    this.#emitter.on(name, wrapped);
    return () => this.#emitter.off(name, wrapped);
  }

  off<K extends FoliokitEventName>(name: K, listener: Listener<K>): void {
    this.#emitter.off(name, listener);
  }

  /** Listens to every event. */
  onAny(listener: (event: FoliokitEvent) => void | Promise<void>): () => void {
    this.#emitter.on('*', listener);
    return () => this.#emitter.off('*', listener);
  }

  listenerCount(name: FoliokitEventName): number {
    return this.#emitter.listenerCount(name);
  }

  emit(event: FoliokitEvent): void {
    const listeners = [...this.#emitter.listeners(event.type), ...this.#emitter.listeners('*')];
    for (const listener of listeners) {
      try {
        const result = (listener as (e: unknown) => unknown)(event);
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          (result as Promise<unknown>).catch((error: unknown) => this.#report(event.type, error));
        }
      } catch (error) {
        this.#report(event.type, error);
      }
    }
  }

  removeAll(): void {
    this.#emitter.removeAllListeners();
  }

  #report(type: string, error: unknown): void {
    this.#logger.error('An event listener threw', {
      event: type,
      error: error instanceof Error ? { message: error.message, stack: error.stack } : String(error),
    });
  }
}
