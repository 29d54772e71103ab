/**
 * Typed engine events. Every payload carries its `type`, so an SSE bridge can forward the object
 * as it is. Events are emitted after the change they describe has committed; a listener that throws
 * (or rejects) is logged and never breaks the engine or the other listeners.
 */
import { EventEmitter } from 'eventemitter3';
import type { BackfillAllReport, BackfillReport } from './backfill.js';
import type { Logger, SnapshotRow } from './ports.js';
import type { PriceChange } from './price-book.js';
import type { JobTrigger } from './scheduler.js';
import type { Portfolio, Transaction } from './types.js';

export interface PortfolioCreatedEvent {
  type: 'portfolio.created';
  portfolio: Portfolio;
}
export interface PortfolioUpdatedEvent {
  type: 'portfolio.updated';
  portfolio: Portfolio;
}
export interface PortfolioDeletedEvent {
  type: 'portfolio.deleted';
  portfolioId: string;
  ownerId: string | null;
}
export interface CashDepositedEvent {
  type: 'cash.deposited';
  portfolioId: string;
  transaction: Transaction;
}
export interface CashWithdrawnEvent {
  type: 'cash.withdrawn';
  portfolioId: string;
  transaction: Transaction;
}
export interface TradeExecutedEvent {
  type: 'trade.executed';
  portfolioId: string;
  transaction: Transaction;
}

/** A changed price (see the price book). */
export interface PriceUpdatedEvent extends PriceChange {
  type: 'price.updated';
}

/**
 * A snapshot was recorded after a trade, by the interval job, or by `recordSnapshot`. The daily
 * job and backfill write many at once and announce their run with one `job.completed` /
 * `backfill.completed` instead.
 */
export interface SnapshotRecordedEvent {
  type: 'snapshot.recorded';
  portfolioId: string;
  snapshot: SnapshotRow;
}

/** Fields every job event carries. */
export interface JobEventBase {
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
export interface BackfillProgressEvent {
  type: 'backfill.progress';
  /** The portfolio (single backfill), or null for `backfillAll`. */
  portfolioId: string | null;
  unit: 'days' | 'portfolios';
  done: number;
  /** Null when not known in advance (`backfillAll` does not count portfolios first). */
  total: number | null;
}
export interface BackfillCompletedEvent {
  type: 'backfill.completed';
  /** The portfolio (single backfill), or null for `backfillAll`. */
  portfolioId: string | null;
  report: BackfillReport | BackfillAllReport;
}

/** Event name → payload. Later features add their events here. */
export interface FoliokitEventMap {
  'portfolio.created': PortfolioCreatedEvent;
  'portfolio.updated': PortfolioUpdatedEvent;
  'portfolio.deleted': PortfolioDeletedEvent;
  'cash.deposited': CashDepositedEvent;
  'cash.withdrawn': CashWithdrawnEvent;
  'trade.executed': TradeExecutedEvent;
  'snapshot.recorded': SnapshotRecordedEvent;
  'job.started': JobStartedEvent;
  'job.completed': JobCompletedEvent;
  'job.failed': JobFailedEvent;
  'backfill.progress': BackfillProgressEvent;
  'backfill.completed': BackfillCompletedEvent;
  'price.updated': PriceUpdatedEvent;
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
