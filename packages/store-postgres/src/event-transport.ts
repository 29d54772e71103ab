/**
 * The PostgreSQL event transport (`store.events`): engine events cross the instances sharing one
 * database through `LISTEN/NOTIFY`, on a channel named after the store's schema.
 *
 * - Publish: `select pg_notify(channel, json)` on a connection of the store's pool (a notification
 *   leaves when its statement commits). An event whose JSON is over {@link MAX_INLINE_BYTES} (NOTIFY
 *   carries less than 8,000 bytes) is stored in `event_payloads` and only its id is notified, in the
 *   same statement; rows older than a few minutes are pruned by later senders.
 * - Listen: one dedicated connection (a new client made like the pool's own, never one of the
 *   pool's), opened when the first subscriber comes and ended when the last leaves. Notifications
 *   are delivered one at a time in arrival order (an event sent by reference is read back first).
 *   When the connection drops it is re-opened with capped exponential backoff and jitter, and each
 *   subscriber is told (`onGap('reconnected')`) that it may have missed events.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type EventTransport,
  FoliokitError,
  type ReceivedMeta,
  type TransportEvent,
  type TransportGapReason,
  type TransportMeta,
  type TransportSubscribeOptions,
  type TransportSubscription,
} from '@foliokit/core';
import type { PostgresPoolLike } from './pool.js';

/** Largest notification sent inline, in bytes of JSON (PostgreSQL refuses 8,000 and more). */
export const MAX_INLINE_BYTES = 7_900;

/** A notification as `pg` emits it. */
export interface PostgresNotificationLike {
  channel: string;
  payload?: string;
}

/** The dedicated client the transport listens on (`pg.Client` fits). */
export interface PostgresListenClientLike {
  connect(): Promise<unknown>;
  query(config: { text: string; values?: unknown[] }): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: 'notification', listener: (message: PostgresNotificationLike) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  end(): Promise<void>;
  /** The server process id of the connection (pg sets it once connected). */
  readonly processID?: number | null;
}

/** Options of {@link PostgresEventTransport}. */
export interface PostgresEventTransportOptions {
  /** Where notifications are sent from (the store's pool). */
  pool: PostgresPoolLike;
  /** The store's schema: names the channel and holds `event_payloads`. */
  schema: string;
  /** Makes a new, unconnected client for the listening connection. */
  createClient: () => PostgresListenClientLike;
  /** Events over this many bytes of JSON travel by reference. @default {@link MAX_INLINE_BYTES} */
  maxInlineBytes?: number;
  /** How long an event sent by reference is kept for its receivers. @default 300_000 (ms) */
  retentionMs?: number;
  /** First wait before re-opening a lost listening connection. @default 100 (ms) */
  reconnectInitialMs?: number;
  /** Longest wait between attempts. @default 5_000 (ms) */
  reconnectMaxMs?: number;
}

/** The part of a `pg.Pool` that makes a client like the pool's own. */
interface PoolWithClient {
  Client: new (config: Record<string, unknown>) => PostgresListenClientLike;
  options: Record<string, unknown>;
}

function hasClientFactory(pool: unknown): pool is PoolWithClient {
  const p = pool as Partial<PoolWithClient> | null;
  return typeof p?.Client === 'function' && typeof p.options === 'object' && p.options !== null;
}

/**
 * How to open a listening connection for `pool`: a new client with the pool's own settings (as
 * `pg.Pool` makes its clients), never pipelined. Undefined when the pool does not say how (a
 * wrapper with only `connect`/`end`): the store then has no transport and events stay in-process.
 */
export function listenClientFactory(pool: PostgresPoolLike): (() => PostgresListenClientLike) | undefined {
  if (!hasClientFactory(pool)) return undefined;
  const { Client, options } = pool;
  // pg-pool keeps the password as a non-enumerable property: copy it by name.
  return () => new Client({ ...options, password: options.password, pipeline: false });
}

const CHANNEL_PREFIX = 'foliokit_events_';
/** PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * The channel of a schema: `foliokit_events_<schema>`, or, when that is longer than an identifier
 * may be, the schema's first characters and a hash of the whole name (two schemas never share one).
 * Case is kept: `LISTEN` gets it quoted, `pg_notify` as a value.
 */
export function channelOf(schema: string): string {
  const name = `${CHANNEL_PREFIX}${schema}`;
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, 16);
  const keep = MAX_IDENTIFIER_BYTES - CHANNEL_PREFIX.length - hash.length - 1;
  return `${CHANNEL_PREFIX}${schema.slice(0, keep)}_${hash}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A notification's JSON: the event inline (`e`) or the id of its stored copy (`r`). */
interface Wire {
  v: 1;
  s: string;
  e?: TransportEvent;
  r?: string;
}

function parseWire(payload: string | undefined): Wire | null {
  if (payload === undefined) return null;
  let wire: unknown;
  try {
    wire = JSON.parse(payload);
  } catch {
    return null;
  }
  const w = wire as Partial<Wire> | null;
  if (w?.v !== 1 || typeof w.s !== 'string') return null;
  if (typeof w.r === 'string' || isEvent(w.e)) return w as Wire;
  return null;
}

function isEvent(value: unknown): value is TransportEvent {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

function closedError(): FoliokitError {
  return new FoliokitError('STORE_CLOSED', 'The store is closed');
}

/** One subscriber. */
interface Subscriber {
  listener: (event: TransportEvent, meta: ReceivedMeta) => void;
  options: TransportSubscribeOptions;
  /** Ready was resolved: events may be owed to it. */
  listening: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** See the module comment. */
export class PostgresEventTransport implements EventTransport {
  readonly channel: string;
  readonly #pool: PostgresPoolLike;
  readonly #createClient: () => PostgresListenClientLike;
  readonly #maxInlineBytes: number;
  readonly #retentionMs: number;
  readonly #reconnectInitialMs: number;
  readonly #reconnectMaxMs: number;
  readonly #table: string;
  readonly #subscribers = new Set<Subscriber>();
  #closed = false;
  /** The listening client, once `LISTEN` has run on it. */
  #client: PostgresListenClientLike | null = null;
  /** An attempt to open it, under way. */
  #connecting: Promise<void> | null = null;
  /** Bumped whenever the current connection (or attempt) is abandoned; stale callbacks compare it. */
  #generation = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #attempts = 0;
  /** A listening connection was lost while subscribers listened: they are owed a gap notice. */
  #dropped = false;
  /** Notifications are handled one after another, in arrival order. */
  #delivery: Promise<void> = Promise.resolve();
  #lastPrune = 0;

  constructor(options: PostgresEventTransportOptions) {
    this.#pool = options.pool;
    this.#createClient = options.createClient;
    this.#maxInlineBytes = options.maxInlineBytes ?? MAX_INLINE_BYTES;
    this.#retentionMs = options.retentionMs ?? 300_000;
    this.#reconnectInitialMs = options.reconnectInitialMs ?? 100;
    this.#reconnectMaxMs = options.reconnectMaxMs ?? 5_000;
    this.channel = channelOf(options.schema);
    this.#table = `${quoteIdentifier(options.schema)}.event_payloads`;
  }

  /** The server process id of the listening connection (see `pg_stat_activity`), or null when none is open. */
  get pid(): number | null {
    return this.#client?.processID ?? null;
  }

  // ----- publish -------------------------------------------------------------------------------

  async publish(event: TransportEvent, meta: TransportMeta): Promise<void> {
    if (this.#closed) throw closedError();
    const inline = JSON.stringify({ v: 1, s: meta.source, e: event } satisfies Wire);
    if (Buffer.byteLength(inline) <= this.#maxInlineBytes) {
      await this.#send('select pg_notify($1, $2)', [this.channel, inline]);
      return;
    }
    const id = randomUUID();
    const notice = JSON.stringify({ v: 1, s: meta.source, r: id } satisfies Wire);
    // One statement: the row and its notification commit together, so a receiver always finds it.
    const prune = this.#pruneDue()
      ? `, pruned as (delete from ${this.#table} where created_at < now() - make_interval(secs => $4::double precision / 1000))`
      : '';
    const values: unknown[] = [id, JSON.stringify(event), this.channel, notice];
    if (prune) values.splice(3, 0, this.#retentionMs);
    const noticeParam = prune ? '$5' : '$4';
    await this.#send(
      `with saved as (insert into ${this.#table} (id, payload) values ($1, $2) returning id)${prune} ` +
        `select pg_notify($3, ${noticeParam}) from saved`,
      values,
    );
  }

  #pruneDue(): boolean {
    const now = Date.now();
    if (now - this.#lastPrune < Math.min(60_000, this.#retentionMs)) return false;
    this.#lastPrune = now;
    return true;
  }

  async #send(text: string, values: unknown[]): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query({ text, values });
    } finally {
      client.release();
    }
  }

  // ----- subscribe -----------------------------------------------------------------------------

  subscribe(
    listener: (event: TransportEvent, meta: ReceivedMeta) => void,
    options: TransportSubscribeOptions = {},
  ): TransportSubscription {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers that never await `ready` must not see an unhandled rejection.
    ready.catch(() => {});
    const sub: Subscriber = { listener, options, listening: false, resolve, reject };
    if (this.#closed) {
      reject(closedError());
      return { ready, close: async () => {} };
    }
    this.#subscribers.add(sub);
    if (this.#client) this.#markListening(sub);
    else this.#ensureListening();
    return { ready, close: () => this.#unsubscribe(sub) };
  }

  async #unsubscribe(sub: Subscriber): Promise<void> {
    if (!this.#subscribers.delete(sub)) return;
    if (!sub.listening) sub.reject(closedError());
    if (this.#subscribers.size === 0) await this.#release();
  }

  /** Ends every subscription and the listening connection. Publishing fails from now on. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const sub of this.#subscribers) if (!sub.listening) sub.reject(closedError());
    this.#subscribers.clear();
    await this.#release();
  }

  #markListening(sub: Subscriber): void {
    sub.listening = true;
    sub.resolve();
  }

  // ----- the listening connection --------------------------------------------------------------

  #ensureListening(): void {
    if (this.#closed || this.#client || this.#connecting || this.#retryTimer || this.#subscribers.size === 0) return;
    const generation = ++this.#generation;
    const attempt = this.#connect(generation);
    this.#connecting = attempt;
    void attempt.finally(() => {
      if (this.#connecting === attempt) this.#connecting = null;
    });
  }

  async #connect(generation: number): Promise<void> {
    let client: PostgresListenClientLike | undefined;
    try {
      const created = this.#createClient();
      client = created;
      // Listeners first: a connection that dies emits `error`, which would otherwise end the process.
      created.on('error', (error) => this.#lost(created, error));
      created.on('end', () => this.#lost(created, new Error('The event connection ended')));
      created.on('notification', (message) => this.#received(generation, message));
      await created.connect();
      await created.query({ text: `listen ${quoteIdentifier(this.channel)}` });
    } catch (error) {
      await client?.end().catch(() => {});
      if (generation !== this.#generation) return;
      this.#reportError(error);
      this.#scheduleRetry();
      return;
    }
    if (generation !== this.#generation) {
      // Released (or closed) while connecting: nobody wants this connection.
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempts = 0;
    const owed = this.#dropped;
    this.#dropped = false;
    for (const sub of this.#subscribers) {
      if (sub.listening && owed) this.#enqueue(() => sub.options.onGap?.('reconnected'));
      else if (!sub.listening) this.#markListening(sub);
    }
  }

  /** The listening connection failed or ended: forget it and open another. */
  #lost(client: PostgresListenClientLike, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#generation++;
    client.end().catch(() => {});
    if ([...this.#subscribers].some((s) => s.listening)) this.#dropped = true;
    this.#reportError(error);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#subscribers.size === 0 || this.#retryTimer) return;
    const ceiling = Math.min(this.#reconnectMaxMs, this.#reconnectInitialMs * 2 ** this.#attempts);
    this.#attempts++;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#ensureListening();
    }, delay);
    this.#retryTimer.unref?.();
  }

  /** Ends the listening connection (or the attempt under way) and any pending retry. */
  async #release(): Promise<void> {
    this.#generation++;
    this.#dropped = false;
    this.#attempts = 0;
    if (this.#retryTimer) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    const client = this.#client;
    this.#client = null;
    const connecting = this.#connecting;
    if (client) await client.end().catch(() => {});
    if (connecting) await connecting;
  }

  #reportError(error: unknown): void {
    for (const sub of this.#subscribers) {
      try {
        sub.options.onError?.(error);
      } catch {
        // A subscriber's error callback must not stop the others.
      }
    }
  }

  // ----- delivery ------------------------------------------------------------------------------

  #enqueue(task: () => unknown): void {
    this.#delivery = this.#delivery.then(task).then(
      () => {},
      (error: unknown) => this.#reportError(error),
    );
  }

  /** A notification of the connection opened as `generation` (ignored once that one is abandoned). */
  #received(generation: number, message: PostgresNotificationLike): void {
    if (message.channel !== this.channel || generation !== this.#generation) return;
    const wire = parseWire(message.payload);
    if (!wire) return;
    this.#enqueue(() => this.#deliver(wire));
  }

  async #deliver(wire: Wire): Promise<void> {
    let event: TransportEvent | null | undefined = wire.e;
    if (wire.r !== undefined) {
      const client = this.#client;
      if (!client) return; // lost meanwhile: a gap notice follows the reconnection
      event = await this.#readStored(client, wire.r);
      if (!event) {
        this.#gap('payload-missing');
        return;
      }
    }
    if (!event) return;
    const meta: ReceivedMeta = { source: wire.s, byReference: wire.r !== undefined };
    for (const sub of this.#subscribers) {
      if (!sub.listening) continue;
      try {
        sub.listener(event, meta);
      } catch (error) {
        sub.options.onError?.(error);
      }
    }
  }

  /** An event sent by reference, read on the listening connection; null when it is gone. */
  async #readStored(client: PostgresListenClientLike, id: string): Promise<TransportEvent | null> {
    let rows: Array<Record<string, unknown>>;
    try {
      ({ rows } = await client.query({ text: `select payload from ${this.#table} where id = $1`, values: [id] }));
    } catch (error) {
      // The connection is failing: its loss is reported as a gap once it is back.
      this.#reportError(error);
      return null;
    }
    const payload = rows[0]?.payload;
    if (typeof payload !== 'string') return null;
    try {
      const event: unknown = JSON.parse(payload);
      return isEvent(event) ? event : null;
    } catch {
      return null;
    }
  }

  #gap(reason: TransportGapReason): void {
    for (const sub of this.#subscribers) {
      if (!sub.listening) continue;
      try {
        sub.options.onGap?.(reason);
      } catch (error) {
        sub.options.onError?.(error);
      }
    }
  }
}
