/**
 * The event-transport port: an optional capability of a {@link Store} that carries engine events
 * between engine instances sharing that store (several app processes on one PostgreSQL database),
 * so that a trade made through one instance reaches a stream served by another.
 *
 * A store without it (SQLite, memory) keeps events in-process. The engine connects its event bus to
 * the transport itself (see `events-relay.ts`): a transport only moves JSON objects, it knows no
 * engine event type. `@foliokit/store-postgres` implements it with `LISTEN/NOTIFY`.
 */

/** An event as it travels: a JSON object (no `undefined`, `Date`, `bigint`) with its `type`. */
export interface TransportEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** What travels beside an event. */
export interface TransportMeta {
  /**
   * The instance that published it (an opaque id, unique per engine). Every subscriber receives
   * every event, its own publisher's included: the receiver skips its own by this id.
   */
  readonly source: string;
}

/** What a subscriber learns beside an event it receives. */
export interface ReceivedMeta extends TransportMeta {
  /**
   * True when the event was too large to travel inline and was read back from the store by
   * reference. @default false
   */
  readonly byReference?: boolean;
}

/** Why a subscriber may have missed events. */
export const TRANSPORT_GAP_REASONS = ['reconnected', 'payload-missing'] as const;
/**
 * `reconnected`: the connection the transport listened on was lost and is back (events published
 * meanwhile are gone); `payload-missing`: an event sent by reference could not be read back.
 */
export type TransportGapReason = (typeof TRANSPORT_GAP_REASONS)[number];

/** Callbacks of one subscription. */
export interface TransportSubscribeOptions {
  /**
   * Called when the subscriber may have missed events (see {@link TransportGapReason}): a stream
   * tells its clients to refetch.
   */
  onGap?: (reason: TransportGapReason) => void;
  /** Called with a failure the transport recovers from by itself (a lost connection, a retry). */
  onError?: (error: unknown) => void;
}

/** One subscription to a transport. */
export interface TransportSubscription {
  /**
   * Resolves once the transport listens for this subscriber: events published after that are
   * delivered. Rejects only when the subscription or the transport is closed first (connection
   * failures are retried, reported through `onError`).
   */
  readonly ready: Promise<void>;
  /** Stops delivery; the transport releases its connection when its last subscriber leaves. Idempotent. */
  close(): Promise<void>;
}

/**
 * Carries events between engine instances. Delivery is at most once and in publish order per
 * publisher: an event published while a subscriber's connection is down is lost, and the
 * subscriber is told so through `onGap` once the connection is back.
 *
 * @example
 * ```ts
 * const sub = store.events?.subscribe((event, meta) => console.log(meta.source, event.type), {
 *   onGap: (reason) => console.warn('events may have been missed:', reason),
 * });
 * await sub?.ready;
 * await store.events?.publish({ type: 'price.updated', symbol: 'AAPL' }, { source: 'instance-1' });
 * ```
 */
export interface EventTransport {
  /**
   * Sends an event to every subscriber of every instance (the publisher's own included).
   * Resolves once sent; rejects when it could not be (the event is then lost).
   */
  publish(event: TransportEvent, meta: TransportMeta): Promise<void>;
  /** Receives every event published from now on, in each publisher's order. */
  subscribe(
    listener: (event: TransportEvent, meta: ReceivedMeta) => void,
    options?: TransportSubscribeOptions,
  ): TransportSubscription;
  /**
   * Ends every subscription and frees the transport's connections. The store calls it from its own
   * `close()`; an engine never does (it closes only its subscription).
   */
  close?(): Promise<void>;
}
