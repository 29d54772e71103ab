/**
 * The event relay: connects an engine's event bus to its store's {@link EventTransport}, so that
 * the events streams need cross the engine instances sharing one store.
 *
 * - Out: each event of {@link RELAYED_EVENT_TYPES} the engine emits for its own change (after the
 *   commit, as every event) is published, tagged with the relay's instance id, one at a time in
 *   emit order.
 * - In: each event another instance published is emitted on the local bus as it came, with
 *   `origin: 'remote'`. The relay's own events, and remote ones, are never published again: no loop.
 * - A gap in the transport (its connection came back) is emitted as `events.gap`.
 */
import type { EventsGapEvent, FoliokitEvent, FoliokitEventName } from './events.js';
import { newId } from './ids.js';
import type { EventTransport, Logger, ReceivedMeta, TransportEvent, TransportGapReason } from './ports/index.js';

/** The events that cross instances: what a portfolio or price stream shows. */
export const RELAYED_EVENT_TYPES = [
  'portfolio.created',
  'portfolio.updated',
  'portfolio.deleted',
  'cash.deposited',
  'cash.withdrawn',
  'trade.executed',
  'transaction.voided',
  'history.corrected',
  'snapshot.recorded',
  'price.updated',
  'alert.triggered',
  'backtest.progress',
  'backtest.completed',
] as const satisfies readonly FoliokitEventName[];

const RELAYED: ReadonlySet<string> = new Set(RELAYED_EVENT_TYPES);

/** The part of the engine the relay uses. */
export interface EventRelayBus {
  onAny(listener: (event: FoliokitEvent) => void): () => void;
  emit(event: FoliokitEvent): void;
}

/** Options of {@link startEventRelay}. */
export interface EventRelayOptions {
  bus: EventRelayBus;
  transport: EventTransport;
  logger: Logger;
  /** This engine's id on the transport. @default a new unique id */
  instance?: string;
  /** Events waiting to be published at most; past it new ones are dropped (and logged). @default 10_000 */
  maxPending?: number;
  /** How long `stop()` waits for events still being published. @default 5_000 (ms, real time) */
  flushTimeoutMs?: number;
}

/** A running relay. */
export interface EventRelay {
  /** The id this engine's events carry. */
  readonly instance: string;
  /** Resolves once remote events are received (rejects when stopped first). */
  readonly ready: Promise<void>;
  /** Stops publishing and receiving; waits (bounded) for events being published, then leaves the transport. */
  stop(): Promise<void>;
}

/** Whether a received object is an event this relay re-emits. */
function isRelayedEvent(event: unknown): event is TransportEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    typeof (event as { type?: unknown }).type === 'string' &&
    RELAYED.has((event as { type: string }).type)
  );
}

/** Publishes events one at a time in order, with a bounded backlog. */
class Outbox {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #dropping = false;

  constructor(
    private readonly send: (event: TransportEvent) => Promise<void>,
    private readonly logger: Logger,
    private readonly maxPending: number,
  ) {}

  push(event: TransportEvent): void {
    if (this.#pending >= this.maxPending) {
      if (!this.#dropping) {
        this.#dropping = true;
        this.logger.error('Event relay: too many events waiting to be published; dropping', {
          maxPending: this.maxPending,
        });
      }
      return;
    }
    this.#dropping = false;
    this.#pending++;
    this.#tail = this.#tail.then(() =>
      this.send(event).then(
        () => {
          this.#pending--;
        },
        (error: unknown) => {
          this.#pending--;
          this.logger.warn('Event relay: an event could not be published to other instances', {
            event: event.type,
            error: error instanceof Error ? error.message : String(error),
          });
        },
      ),
    );
  }

  /** Resolves when what was pushed so far is sent (or failed), or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref?.();
    });
    await Promise.race([this.#tail, timeout]);
    clearTimeout(timer);
  }
}

/**
 * Starts relaying between `bus` and `transport`.
 *
 * @example
 * ```ts
 * const relay = startEventRelay({ bus: engine, transport: store.events, logger });
 * await relay.ready;
 * // ... later
 * await relay.stop();
 * ```
 */
export function startEventRelay(options: EventRelayOptions): EventRelay {
  const { bus, transport, logger, maxPending = 10_000, flushTimeoutMs = 5_000 } = options;
  const instance = options.instance ?? newId('engine', Date.now());
  let stopped = false;
  const meta = { source: instance };
  const outbox = new Outbox((event) => transport.publish(event, meta), logger, maxPending);

  const offLocal = bus.onAny((event) => {
    if (stopped || event.origin === 'remote' || !RELAYED.has(event.type)) return;
    outbox.push(event as unknown as TransportEvent);
  });

  const receive = (event: TransportEvent, from: ReceivedMeta): void => {
    if (stopped || from.source === instance || !isRelayedEvent(event)) return;
    bus.emit({ ...event, origin: 'remote' } as unknown as FoliokitEvent);
  };
  const gap = (reason: TransportGapReason): void => {
    if (stopped) return;
    logger.warn('Event relay: events from other instances may have been missed', { reason });
    bus.emit({ type: 'events.gap', reason } satisfies EventsGapEvent);
  };
  const subscription = transport.subscribe(receive, {
    onGap: gap,
    onError: (error) =>
      logger.warn('Event relay: the event transport failed; retrying', {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  // A subscription closed before it was ready rejects `ready`: that is no failure of the engine.
  subscription.ready.catch(() => {});

  return {
    instance,
    ready: subscription.ready,
    async stop() {
      if (stopped) return;
      stopped = true;
      offLocal();
      await outbox.flush(flushTimeoutMs);
      await subscription.close();
    },
  };
}
