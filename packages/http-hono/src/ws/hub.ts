/**
 * The WebSocket hub of one attachment: its connected clients, their subscriptions indexed by
 * channel, one engine subscription (`onAny`, held while any client is connected) and one heartbeat
 * timer. Each engine event is framed once per channel (`{ type, id, at, data, channel }`) and the
 * same text is sent to every subscriber that may see it.
 *
 * A `portfolio:<id>` channel also carries `valuation` events, as the SSE portfolio stream does: one
 * `ValuationFeed` (`../valuation-feed.ts`, shared with the SSE hub) per subscribed portfolio values
 * it once for all its subscribers after trades, cash movements, voids and prices of what it holds
 * (a burst sends one), and is released with the portfolio's last subscription.
 *
 * Ownership: a `portfolio:<id>` or `backtest:<id>` subscription is accepted only when the caller
 * owns the object (else the same not-found error as for a missing one), and every event is checked
 * again against the owner it carries; `portfolio.deleted` ends the portfolio's subscriptions.
 * `alerts` delivers only alerts whose `ownerId` is the caller's.
 *
 * Events relayed from other instances arrive on the same engine bus and are handled like local
 * ones; `events.gap` sends a `reset` to every client with a subscription.
 */
import { FoliokitError, type FoliokitEvent, isFoliokitError, type PortfolioEngine, toIso } from '@foliokit/core';
import type { WebSocket } from 'ws';
import type { AuthUser } from '../route-table.js';
import { formatEventId, newEpoch } from '../sse/event-id.js';
import { GAP_EVENT_TYPES, PORTFOLIO_STREAM_EVENTS } from '../sse/hub.js';
import { ValuationFeed } from '../valuation-feed.js';
import type { ResolvedWebSocketOptions } from './options.js';
import {
  type ClientMessage,
  createMessageParser,
  errorMessageOf,
  type MessageParser,
  type WebSocketChannel,
  type WebSocketErrorMessage,
} from './protocol.js';

/** A backtest run as the `backtest:<id>` channel checks it (`router.deps.backtests.get(id)`). */
export interface BacktestRunInfo {
  ownerId: string | null;
  status?: string;
  progress?: unknown;
}

/** What the `backtest:<id>` channel needs of a backtest runner; `get` throws `NOT_FOUND` for a missing run. */
export interface BacktestLookup {
  get(id: string): BacktestRunInfo | Promise<BacktestRunInfo>;
}

/** The close code of a slow client (RFC 6455 "Try Again Later"). */
export const SLOW_CLIENT_CLOSE_CODE = 1013;
/** The close code of a server shutting down (RFC 6455 "Going Away"). */
export const GOING_AWAY_CLOSE_CODE = 1001;
/** Messages a client may have waiting to be handled; one more closes it (code 1008). */
export const MAX_PENDING_MESSAGES = 32;
/** How long a dropped or closing client gets to finish the close handshake before it is terminated (ms). */
const CLOSE_GRACE_MS = 1000;

const PORTFOLIO_EVENTS: ReadonlySet<string> = new Set(PORTFOLIO_STREAM_EVENTS);
const BACKTEST_EVENTS: ReadonlySet<string> = new Set(['backtest.progress', 'backtest.completed']);

/** Resource counts of an attachment, for tests and operators. */
export interface WebSocketStats {
  /** Connected clients. */
  clients: number;
  /** Subscriptions held, over all clients. */
  subscriptions: number;
  /** Engine subscriptions held (0 or 1: held while any client is connected). */
  engineSubscriptions: number;
  /**
   * Timers pending: the heartbeat, close grace periods of clients being dropped, and portfolio
   * valuations waiting for their delay.
   */
  timers: number;
  /** Clients dropped because they stopped reading (their buffer went over `maxBufferedBytes`). */
  dropped: number;
  /** Clients terminated because they did not answer a ping. */
  terminated: number;
}

interface Subscription {
  client: WsClient;
  channel: WebSocketChannel;
  /** The symbols of a `prices` subscription (null: every symbol). */
  symbols: ReadonlySet<string> | null;
}

/** One connected client. */
class WsClient {
  readonly subscriptions = new Map<string, Subscription>();
  /** Answered the last ping. */
  alive = true;
  /** Left the hub (closed, dropped or terminated): nothing more is sent. */
  gone = false;
  pending = 0;
  chain: Promise<void> = Promise.resolve();
  graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly user: AuthUser,
  ) {}
}

/** The optional metrics sink of a {@link WebSocketHub} (the router's metrics). */
export interface WebSocketMetrics {
  /** +1 when a client connects, −1 when it leaves (closed, dropped or terminated). */
  wsClients?(delta: number): void;
}

/** Options of {@link WebSocketHub}. */
export interface WebSocketHubOptions {
  engine: PortfolioEngine;
  options: ResolvedWebSocketOptions;
  /** The backtest runner, when the router has one. */
  backtests: () => BacktestLookup | undefined;
  /** Where the number of connected clients is reported. */
  metrics?: WebSocketMetrics | undefined;
}

/** See the module comment. */
export class WebSocketHub {
  readonly #engine: PortfolioEngine;
  readonly #options: ResolvedWebSocketOptions;
  readonly #backtests: () => BacktestLookup | undefined;
  readonly #metrics: WebSocketMetrics | undefined;
  readonly #parse: MessageParser;
  readonly #epoch = newEpoch();
  readonly #clients = new Set<WsClient>();
  /** Subscriptions by channel name. */
  readonly #index = new Map<string, Set<Subscription>>();
  /** The valuation of each subscribed portfolio, by portfolio id, with the owner its check found. */
  readonly #valuations = new Map<string, { feed: ValuationFeed; ownerId: string }>();
  /** Portfolios deleted while an ownership check was pending (the check then fails). */
  readonly #deletedDuringChecks = new Set<string>();
  #checks = 0;
  #seq = 0;
  #subscriptions = 0;
  #dropped = 0;
  #terminated = 0;
  #graceTimers = 0;
  #unsubscribe: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: WebSocketHubOptions) {
    this.#engine = options.engine;
    this.#options = options.options;
    this.#backtests = options.backtests;
    this.#metrics = options.metrics;
    this.#parse = createMessageParser(options.options.maxSymbols);
  }

  /** True once {@link WebSocketHub.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Current resource counts. */
  stats(): WebSocketStats {
    return {
      clients: this.#clients.size,
      subscriptions: this.#subscriptions,
      engineSubscriptions: this.#unsubscribe ? 1 : 0,
      timers: (this.#heartbeat ? 1 : 0) + this.#graceTimers + this.#pendingValuations(),
      dropped: this.#dropped,
      terminated: this.#terminated,
    };
  }

  /** Takes a connected socket of an authenticated user. */
  add(socket: WebSocket, user: AuthUser): void {
    const client = new WsClient(socket, user);
    if (this.#closed) {
      this.#closeClient(client, GOING_AWAY_CLOSE_CODE, 'server shutting down');
      return;
    }
    this.#clients.add(client);
    this.#metrics?.wsClients?.(1);
    this.#unsubscribe ??= this.#engine.onAny((event) => this.#dispatch(event));
    this.#startHeartbeat();
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', (data, isBinary) => this.#receive(client, data, isBinary));
    socket.on('close', () => this.#remove(client));
    socket.on('error', (error) => {
      this.#engine.logger.debug('WebSocket: connection error', { error: String(error) });
      this.#remove(client);
      socket.terminate();
    });
  }

  /**
   * Ends every connection (close code 1001), terminating those that do not finish the close
   * handshake in time; resolves once every socket is closed. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const sockets = [...this.#clients].map((client) => client.socket);
    for (const client of [...this.#clients]) this.#closeClient(client, GOING_AWAY_CLOSE_CODE, 'server shutting down');
    await Promise.all(sockets.map((socket) => closedSocket(socket)));
  }

  // ----- messages ------------------------------------------------------------------------------

  #receive(client: WsClient, data: unknown, isBinary: boolean): void {
    if (client.gone) return;
    if (isBinary) {
      this.#closeClient(client, 1003, 'binary frames are not supported');
      return;
    }
    if (client.pending >= MAX_PENDING_MESSAGES) {
      this.#closeClient(client, 1008, 'too many pending messages');
      return;
    }
    const text = textOf(data);
    const message = this.#parse(text);
    if ('type' in message) {
      this.#send(client, JSON.stringify(message));
      return;
    }
    // One message at a time per client, so a subscribe and the unsubscribe after it keep their order.
    client.pending++;
    client.chain = client.chain
      .then(() => this.#handle(client, message))
      .catch((error: unknown) => {
        this.#engine.logger.error('WebSocket: message failed', { error: String(error) });
        this.#sendError(client, errorMessageOf(error, message.channel.name));
      })
      .finally(() => {
        client.pending--;
      });
  }

  async #handle(client: WsClient, message: ClientMessage): Promise<void> {
    if (client.gone) return;
    const { channel } = message;
    if (message.op === 'unsubscribe') {
      this.#unsubscribeFrom(client, channel.name);
      this.#send(client, JSON.stringify({ type: 'unsubscribed', channel: channel.name }));
      return;
    }
    const replacing = client.subscriptions.has(channel.name);
    if (!replacing && client.subscriptions.size >= this.#options.maxSubscriptions) {
      this.#sendError(client, {
        type: 'error',
        code: 'VALIDATION_FAILED',
        message: `channel: at most ${this.#options.maxSubscriptions} subscriptions per connection`,
        field: 'channel',
        channel: channel.name,
      });
      return;
    }
    let ownerId: string | null;
    try {
      ownerId = await this.#checkAccess(client.user, channel);
    } catch (error) {
      if (!client.gone) this.#sendError(client, errorMessageOf(error, channel.name));
      return;
    }
    if (client.gone) return;
    if (replacing) this.#unsubscribeFrom(client, channel.name);
    const symbols = message.symbols === null ? null : new Set(message.symbols);
    const subscription: Subscription = { client, channel, symbols };
    client.subscriptions.set(channel.name, subscription);
    let set = this.#index.get(channel.name);
    if (!set) {
      set = new Set();
      this.#index.set(channel.name, set);
    }
    set.add(subscription);
    this.#subscriptions++;
    if (channel.kind === 'portfolio' && ownerId !== null) this.#startValuation(channel.id, ownerId);
    const reply: Record<string, unknown> = { type: 'subscribed', channel: channel.name };
    if (symbols !== null) reply.symbols = [...symbols];
    this.#send(client, JSON.stringify(reply));
  }

  /**
   * Throws the not-found error REST answers when the caller may not see `channel`'s object;
   * answers the owner of a portfolio channel (null for other channels).
   */
  async #checkAccess(user: AuthUser, channel: WebSocketChannel): Promise<string | null> {
    if (channel.kind === 'portfolio') {
      this.#checks++;
      try {
        let ownerId: string | null;
        try {
          ownerId = (await this.#engine.getPortfolio(channel.id)).ownerId;
        } catch (error) {
          const missing =
            isFoliokitError(error) && (error.code === 'PORTFOLIO_NOT_FOUND' || error.code === 'VALIDATION_FAILED');
          throw missing ? portfolioNotFound(channel.id) : error;
        }
        if (ownerId !== user.userId || this.#deletedDuringChecks.has(channel.id)) {
          throw portfolioNotFound(channel.id);
        }
        return ownerId;
      } finally {
        if (--this.#checks === 0) this.#deletedDuringChecks.clear();
      }
    }
    if (channel.kind === 'backtest') {
      const runner = this.#backtests();
      if (!runner) throw backtestNotFound(channel.id);
      let run: BacktestRunInfo;
      try {
        run = await runner.get(channel.id);
      } catch (error) {
        const missing = isFoliokitError(error) && (error.code === 'NOT_FOUND' || error.code === 'VALIDATION_FAILED');
        throw missing ? backtestNotFound(channel.id) : error;
      }
      if (run.ownerId !== user.userId) throw backtestNotFound(channel.id);
    }
    return null;
  }

  #unsubscribeFrom(client: WsClient, name: string): void {
    const subscription = client.subscriptions.get(name);
    if (!subscription) return;
    client.subscriptions.delete(name);
    const set = this.#index.get(name);
    set?.delete(subscription);
    if (set?.size === 0) {
      this.#index.delete(name);
      if (subscription.channel.kind === 'portfolio') this.#stopValuation(subscription.channel.id);
    }
    this.#subscriptions--;
  }

  // ----- valuations ----------------------------------------------------------------------------

  /** Values the portfolio for its subscribers from now on (one feed, however many subscribe). */
  #startValuation(portfolioId: string, ownerId: string): void {
    if (this.#valuations.has(portfolioId)) return;
    const name = `portfolio:${portfolioId}`;
    const feed = new ValuationFeed({
      engine: this.#engine,
      portfolioId,
      delayMs: this.#options.valuationDelayMs,
      transport: 'WebSocket',
      // Sent only to subscribers who are the owner its subscription check found.
      publish: (valuation) =>
        this.#publishEnvelope(
          name,
          'valuation',
          () => valuation,
          (s) => s.client.user.userId === ownerId,
        ),
    });
    this.#valuations.set(portfolioId, { feed, ownerId });
  }

  #stopValuation(portfolioId: string): void {
    this.#valuations.get(portfolioId)?.feed.close();
    this.#valuations.delete(portfolioId);
  }

  #pendingValuations(): number {
    let pending = 0;
    for (const { feed } of this.#valuations.values()) if (feed.timerPending) pending++;
    return pending;
  }

  // ----- events --------------------------------------------------------------------------------

  #dispatch(event: FoliokitEvent): void {
    const type: string = event.type;
    if (GAP_EVENT_TYPES.has(type)) {
      this.#resetAll();
      return;
    }
    if (event.type === 'price.updated') {
      this.#publish('prices', event, (s) => s.symbols === null || s.symbols.has(event.symbol));
      for (const { feed } of this.#valuations.values()) feed.onPrice(event.symbol);
      return;
    }
    if (event.type === 'signal.generated') {
      this.#publish('signals', event);
      return;
    }
    if (event.type === 'alert.triggered') {
      const ownerId = event.alert.ownerId;
      this.#publish('alerts', event, (s) => ownerId !== null && s.client.user.userId === ownerId);
      return;
    }
    if (PORTFOLIO_EVENTS.has(type)) {
      this.#dispatchPortfolioEvent(event);
      return;
    }
    if (BACKTEST_EVENTS.has(type)) {
      const { runId, ownerId } = event as unknown as { runId?: unknown; ownerId?: unknown };
      if (typeof runId !== 'string' || typeof ownerId !== 'string') return;
      this.#publish(`backtest:${runId}`, event, (s) => s.client.user.userId === ownerId);
    }
  }

  #dispatchPortfolioEvent(event: FoliokitEvent): void {
    const e = event as { portfolioId?: string | null; portfolio?: { id: string; ownerId: string | null } };
    const portfolioId = e.portfolioId ?? e.portfolio?.id;
    if (typeof portfolioId !== 'string') return;
    if (event.type === 'portfolio.deleted' && this.#checks > 0) this.#deletedDuringChecks.add(portfolioId);
    const name = `portfolio:${portfolioId}`;
    // The owner the event carries, when it carries one: it must be the subscriber.
    const ownerId =
      event.type === 'portfolio.deleted' ? event.ownerId : e.portfolio !== undefined ? e.portfolio.ownerId : undefined;
    this.#publish(name, event, (s) => ownerId === undefined || s.client.user.userId === ownerId);
    if (event.type !== 'portfolio.deleted') {
      this.#valuations.get(portfolioId)?.feed.onPortfolioEvent(event.type);
      return;
    }
    for (const subscription of [...(this.#index.get(name) ?? [])]) {
      this.#unsubscribeFrom(subscription.client, name);
      this.#send(subscription.client, JSON.stringify({ type: 'unsubscribed', channel: name, reason: 'deleted' }));
    }
  }

  /** Sends `event` to the subscribers of `name` that pass `filter`, framed once. */
  #publish(name: string, event: FoliokitEvent, filter?: (s: Subscription) => boolean): void {
    this.#publishEnvelope(name, event.type, () => payloadOf(event), filter);
  }

  /**
   * Sends an envelope of `type` to the subscribers of `name` that pass `filter`, framed once (with
   * an id, and `data()` called) only when someone gets it.
   */
  #publishEnvelope(name: string, type: string, data: () => unknown, filter?: (s: Subscription) => boolean): void {
    const subscriptions = this.#index.get(name);
    if (!subscriptions || subscriptions.size === 0) return;
    let text: string | undefined;
    for (const subscription of [...subscriptions]) {
      if (filter && !filter(subscription)) continue;
      text ??= JSON.stringify({
        type,
        id: formatEventId(this.#epoch, ++this.#seq),
        at: toIso(this.#engine.clock.now()),
        data: data(),
        channel: name,
      });
      this.#send(subscription.client, text);
    }
  }

  /** Events may have been missed between instances: every subscribed client refetches. */
  #resetAll(): void {
    const text = JSON.stringify({
      type: 'reset',
      id: formatEventId(this.#epoch, ++this.#seq),
      at: toIso(this.#engine.clock.now()),
      data: { reason: 'gap', message: 'Events may have been missed: refetch the state, then keep listening.' },
    });
    for (const client of [...this.#clients]) {
      if (client.subscriptions.size > 0) this.#send(client, text);
    }
  }

  // ----- sending, heartbeats, leaving ------------------------------------------------------------

  #send(client: WsClient, text: string): void {
    if (client.gone || client.socket.readyState !== client.socket.OPEN) return;
    client.socket.send(text);
    if (client.socket.bufferedAmount > this.#options.maxBufferedBytes) {
      this.#dropped++;
      this.#closeClient(client, SLOW_CLIENT_CLOSE_CODE, 'slow client');
    }
  }

  #sendError(client: WsClient, error: WebSocketErrorMessage): void {
    this.#send(client, JSON.stringify(error));
  }

  /**
   * Removes the client from the hub at once, then closes its socket with `code`; a socket that has
   * not closed after a short grace (it is not reading) is terminated.
   */
  #closeClient(client: WsClient, code: number, reason: string): void {
    this.#remove(client);
    const socket = client.socket;
    if (socket.readyState === socket.CLOSED) return;
    socket.close(code, reason);
    if (client.graceTimer) return;
    this.#graceTimers++;
    client.graceTimer = setTimeout(
      () => {
        client.graceTimer = undefined;
        this.#graceTimers--;
        socket.terminate();
      },
      Math.min(CLOSE_GRACE_MS, this.#options.heartbeatMs),
    );
    client.graceTimer.unref?.();
    socket.once('close', () => {
      if (!client.graceTimer) return;
      clearTimeout(client.graceTimer);
      client.graceTimer = undefined;
      this.#graceTimers--;
    });
  }

  /** Forgets a client and its subscriptions; idempotent. */
  #remove(client: WsClient): void {
    if (client.gone) return;
    client.gone = true;
    for (const name of [...client.subscriptions.keys()]) this.#unsubscribeFrom(client, name);
    if (this.#clients.delete(client)) this.#metrics?.wsClients?.(-1);
    if (this.#clients.size > 0) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#stopHeartbeat();
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      for (const client of [...this.#clients]) {
        if (!client.alive) {
          this.#terminated++;
          this.#remove(client);
          client.socket.terminate();
          continue;
        }
        client.alive = false;
        client.socket.ping();
      }
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref?.();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

/** The one answer for a missing portfolio and another user's (REST's, word for word). */
function portfolioNotFound(id: string): FoliokitError {
  return new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${id}`, {
    field: 'portfolioId',
    portfolioId: id,
  });
}

/** The one answer for a missing backtest run and another user's. */
function backtestNotFound(id: string): FoliokitError {
  return new FoliokitError('NOT_FOUND', `No backtest with id ${id}`, { field: 'backtestId' });
}

/** An event's payload: its fields without `type` (the envelope carries it) and the relay's `origin`. */
function payloadOf(event: FoliokitEvent): Record<string, unknown> {
  const { type: _type, origin: _origin, ...payload } = event as FoliokitEvent & { origin?: unknown };
  return payload;
}

/** A text frame's content (`ws` hands a Buffer, or fragments). */
function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return (data as Buffer).toString('utf8');
}

/** Resolves once `socket` is closed. */
function closedSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve();
  return new Promise((done) => socket.once('close', () => done()));
}
