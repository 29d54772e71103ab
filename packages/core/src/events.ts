/**
 * Typed engine events. Every payload carries its `type`, so an SSE bridge can forward the object
 * as it is. Events are emitted after the change they describe has committed; a listener that throws
 * (or rejects) is logged and never breaks the engine or the other listeners.
 */
import { EventEmitter } from 'eventemitter3';
import type { Logger } from './ports.js';
import type { Portfolio, Transaction } from './types.js';

export interface PortfolioCreatedEvent { type: 'portfolio.created'; portfolio: Portfolio }
export interface PortfolioUpdatedEvent { type: 'portfolio.updated'; portfolio: Portfolio }
export interface PortfolioDeletedEvent { type: 'portfolio.deleted'; portfolioId: string; ownerId: string | null }
export interface CashDepositedEvent { type: 'cash.deposited'; portfolioId: string; transaction: Transaction }
export interface CashWithdrawnEvent { type: 'cash.withdrawn'; portfolioId: string; transaction: Transaction }
export interface TradeExecutedEvent { type: 'trade.executed'; portfolioId: string; transaction: Transaction }

/** Event name → payload. Later features add their events here. */
export interface FoliokitEventMap {
  'portfolio.created': PortfolioCreatedEvent;
  'portfolio.updated': PortfolioUpdatedEvent;
  'portfolio.deleted': PortfolioDeletedEvent;
  'cash.deposited': CashDepositedEvent;
  'cash.withdrawn': CashWithdrawnEvent;
  'trade.executed': TradeExecutedEvent;
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
