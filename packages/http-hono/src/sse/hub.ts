/**
 * The stream hub: every SSE client of a router goes through it. It listens to the engine once
 * (one `onAny` subscription while any stream is open, routed to streams by key), frames each event
 * once (in the envelope `{ type, id, at, data }` of HTTP.md, see `./frame.ts`), keeps a bounded
 * buffer of recent events per stream for `Last-Event-ID`, computes each portfolio's valuation once
 * for all its clients (a `ValuationFeed` of `../valuation-feed.ts`, shared with the WebSocket hub),
 * and sends heartbeats from one timer.
 *
 * Events relayed from other instances (they may carry an `origin`) are handled like local ones. An
 * `events.gap` event (the cross-instance transport lost events, e.g. its connection dropped) sends
 * a `reset` to every client and forgets the buffers, so nobody resumes across the gap.
 */
import { type FoliokitEvent, type PortfolioEngine, toIso } from '@foliokit/core';
import { ValuationFeed } from '../valuation-feed.js';
import { Channel, portfolioKey, type StreamKey } from './channel.js';
import { type ClientFilter, type CloseReason, SseClient, type StreamEvent } from './client.js';
import { formatEventId, newEpoch, parseEventId } from './event-id.js';
import { envelopeFrame, type Frame, frameOf, sseComment, sseRetry } from './frame.js';
import { type ResolvedSseOptions, resolveSseOptions, type SseOptions } from './options.js';

/** The heartbeat comment, encoded once for every client. */
const HEARTBEAT = frameOf(sseComment('heartbeat'));

/** Engine events a portfolio stream forwards. */
export const PORTFOLIO_STREAM_EVENTS = [
  'trade.executed',
  'cash.deposited',
  'cash.withdrawn',
  'transaction.voided',
  'snapshot.recorded',
  'history.corrected',
  'portfolio.updated',
  'portfolio.deleted',
] as const;

const FORWARDED: ReadonlySet<string> = new Set(PORTFOLIO_STREAM_EVENTS);

/** Event types that report lost cross-instance events (`events.gap`, see core's event relay). */
export const GAP_EVENT_TYPES: ReadonlySet<string> = new Set(['events.gap']);

/** Why a client got a `reset` (the `reason` of its data). */
export type ResetReason =
  /** Its `Last-Event-ID` is not one of this hub's (another process run or instance, or malformed). */
  | 'unknown-id'
  /** Its `Last-Event-ID` is older than the stream's buffer. */
  | 'beyond-buffer'
  /** Events may have been lost between instances. */
  | 'gap';

/** The optional metrics sink. */
export interface SseMetrics {
  sseClients?(delta: number): void;
}

/** Options of {@link createStreamHub}. */
export interface StreamHubOptions {
  engine: PortfolioEngine;
  /** Validated here (the router passes its `options.streams` as given). */
  options?: SseOptions | Record<string, unknown>;
  metrics?: SseMetrics | undefined;
}

/** A client's connection request. */
export interface ConnectRequest {
  key: StreamKey;
  /** The `Last-Event-ID` the client sent, if any. */
  lastEventId?: string | undefined;
  /** Which events of the stream it wants (all when omitted). */
  filter?: ClientFilter;
}

/** Resource counts, for tests and the admin pages. */
export interface StreamHubStats {
  /** Open streams (with clients, or lingering). */
  streams: number;
  clients: number;
  /** Engine subscriptions held (0 or 1). */
  engineSubscriptions: number;
  /** Timers pending: heartbeat, lingering streams, valuations waiting. */
  timers: number;
  /** Clients dropped because they stopped reading. */
  dropped: number;
  /** The last sequence number used. */
  seq: number;
}

/** See the module comment. Create with {@link createStreamHub}. */
export class StreamHub {
  /** This hub's id space: ids of another epoch are unknown here. */
  readonly epoch = newEpoch();
  readonly options: ResolvedSseOptions;
  /** The `retry:` hint, encoded once. */
  readonly #retry: Frame;
  readonly #engine: PortfolioEngine;
  readonly #metrics: SseMetrics | undefined;
  readonly #channels = new Map<StreamKey, Channel>();
  #seq = 0;
  #clients = 0;
  #dropped = 0;
  #unsubscribe: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: StreamHubOptions) {
    this.#engine = options.engine;
    this.#metrics = options.metrics;
    this.options = resolveSseOptions(options.options);
    this.#retry = frameOf(sseRetry(this.options.retryMs));
  }

  /**
   * Connects a client: it first gets the `retry` hint, then what it missed since its
   * `Last-Event-ID` (or a `reset` when that is not in the buffer), then live events. Replay and
   * subscription happen in one step, so nothing is missed or sent twice.
   */
  connect(request: ConnectRequest): SseClient {
    if (this.#closed) throw new Error('The stream hub is closed');
    const channel = this.#channel(request.key);
    const client = new SseClient(
      { maxEvents: this.options.clientQueueEvents, maxBytes: this.options.clientQueueBytes },
      request.filter,
    );
    client.preload([this.#retry, ...this.#resume(channel, request)]);
    channel.clients.add(client);
    this.#clients++;
    this.#metrics?.sseClients?.(1);
    client.onClose((reason) => this.#detach(channel, client, reason));
    this.#startHeartbeat();
    return client;
  }

  /** True once {@link StreamHub.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Current resource counts. */
  stats(): StreamHubStats {
    let timers = this.#heartbeat ? 1 : 0;
    for (const channel of this.#channels.values()) {
      if (channel.lingerTimer) timers++;
      if (channel.valuation?.timerPending) timers++;
    }
    return {
      streams: this.#channels.size,
      clients: this.#clients,
      engineSubscriptions: this.#unsubscribe ? 1 : 0,
      timers,
      dropped: this.#dropped,
      seq: this.#seq,
    };
  }

  /** Ends every stream and frees everything (router shutdown). Idempotent. */
  close(): void {
    this.#closed = true;
    for (const channel of [...this.#channels.values()]) {
      for (const client of [...channel.clients]) client.close('hub-closed');
      this.#free(channel);
    }
  }

  // ----- streams -------------------------------------------------------------------------------

  #channel(key: StreamKey): Channel {
    let channel = this.#channels.get(key);
    if (channel) {
      if (channel.lingerTimer) clearTimeout(channel.lingerTimer);
      channel.lingerTimer = undefined;
      return channel;
    }
    const portfolioId = key.startsWith('portfolio:') ? key.slice('portfolio:'.length) : null;
    channel = new Channel(key, portfolioId, this.options.bufferSize, this.#seq);
    this.#channels.set(key, channel);
    if (portfolioId !== null) this.#startValuation(channel, portfolioId);
    this.#unsubscribe ??= this.#engine.onAny((event) => this.#dispatch(event));
    return channel;
  }

  #resume(channel: Channel, request: ConnectRequest): Frame[] {
    if (request.lastEventId === undefined) return [];
    const id = parseEventId(request.lastEventId);
    if (!id || id.epoch !== this.epoch) return [this.#resetFrame('unknown-id')];
    const resume = channel.resume(id.seq, this.#seq, request.filter);
    if (resume.kind === 'reset') return [this.#resetFrame(id.seq > this.#seq ? 'unknown-id' : 'beyond-buffer')];
    return resume.events.map((e) => e.frame);
  }

  #detach(channel: Channel, client: SseClient, reason: CloseReason): void {
    if (!channel.clients.delete(client)) return;
    this.#clients--;
    if (reason === 'overflow') this.#dropped++;
    this.#metrics?.sseClients?.(-1);
    if (this.#clients === 0) this.#stopHeartbeat();
    if (channel.clients.size > 0 || channel.freed) return;
    if (this.options.lingerMs === 0 || this.#closed) {
      this.#free(channel);
      return;
    }
    channel.lingerTimer = setTimeout(() => {
      channel.lingerTimer = undefined;
      if (channel.clients.size === 0) this.#free(channel);
    }, this.options.lingerMs);
    channel.lingerTimer.unref?.();
  }

  #free(channel: Channel): void {
    if (channel.freed) return;
    channel.freed = true;
    if (channel.lingerTimer) clearTimeout(channel.lingerTimer);
    channel.lingerTimer = undefined;
    channel.valuation?.close();
    this.#channels.delete(channel.key);
    if (this.#channels.size === 0 && this.#unsubscribe) {
      this.#unsubscribe();
      this.#unsubscribe = undefined;
    }
  }

  // ----- events --------------------------------------------------------------------------------

  #dispatch(event: FoliokitEvent): void {
    const type: string = event.type;
    if (GAP_EVENT_TYPES.has(type)) {
      this.#resetAll('gap');
      return;
    }
    if (event.type === 'price.updated') {
      this.#channels.get('prices')?.publish(this.#frame(event.type, payloadOf(event), event.symbol));
      for (const channel of this.#channels.values()) channel.valuation?.onPrice(event.symbol);
      return;
    }
    if (!FORWARDED.has(type) || (!('portfolioId' in event) && !('portfolio' in event))) return;
    const portfolioId = 'portfolioId' in event ? event.portfolioId : event.portfolio.id;
    if (portfolioId === null) return;
    const channel = this.#channels.get(portfolioKey(portfolioId));
    if (!channel) return;
    channel.publish(this.#frame(type, payloadOf(event)));
    if (event.type === 'portfolio.deleted') {
      for (const client of [...channel.clients]) client.close('stream-closed');
      this.#free(channel);
    } else {
      channel.valuation?.onPortfolioEvent(type);
    }
  }

  /** Frames an event once, in its envelope, with the next id and the time it is recorded. */
  #frame(type: string, data: unknown, topic?: string): StreamEvent {
    const seq = ++this.#seq;
    const id = formatEventId(this.epoch, seq);
    const frame = frameOf(envelopeFrame({ type, id, at: this.#now(), data }));
    return { seq, id, type, frame, ...(topic === undefined ? {} : { topic }) };
  }

  /** A `reset` frame with id `seq`: a client that reconnects after it resumes from there. */
  #resetFrame(reason: ResetReason, seq = this.#seq): Frame {
    return frameOf(
      envelopeFrame({
        type: 'reset',
        id: formatEventId(this.epoch, seq),
        at: this.#now(),
        data: { reason, message: 'Events may have been missed: refetch the state, then keep listening.' },
      }),
    );
  }

  /** Now, from the engine's clock (tests drive it). */
  #now(): string {
    return toIso(this.#engine.clock.now());
  }

  /**
   * After a gap: every client gets a `reset`, and ids from before it can no longer resume. The
   * reset takes a sequence number of its own, so its id differs from the last one before the gap.
   */
  #resetAll(reason: ResetReason): void {
    const seq = ++this.#seq;
    const frame = this.#resetFrame(reason, seq);
    for (const channel of this.#channels.values()) {
      channel.forget(seq);
      for (const client of channel.clients) client.send(frame);
    }
  }

  // ----- valuations ----------------------------------------------------------------------------

  #startValuation(channel: Channel, portfolioId: string): void {
    channel.valuation = new ValuationFeed({
      engine: this.#engine,
      portfolioId,
      delayMs: this.options.valuationDelayMs,
      transport: 'SSE',
      publish: (valuation) => {
        if (!channel.freed) channel.publish(this.#frame('valuation', valuation));
      },
    });
  }

  // ----- heartbeats ----------------------------------------------------------------------------

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    // Ticks at half the period: a client that got nothing during a whole tick gets a heartbeat.
    const period = Math.max(1, Math.floor(this.options.heartbeatMs / 2));
    this.#heartbeat = setInterval(() => {
      for (const channel of this.#channels.values()) {
        for (const client of channel.clients) client.heartbeat(HEARTBEAT);
      }
    }, period);
    this.#heartbeat.unref?.();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

/**
 * The payload of an engine event (the envelope's `data`): its fields without `type` (the envelope
 * carries it) and without the relay's `origin`, so a client sees the same data whichever instance
 * made the change.
 */
function payloadOf(event: FoliokitEvent): Record<string, unknown> {
  const { type: _type, origin: _origin, ...payload } = event;
  return payload;
}

/** Creates a {@link StreamHub}; its options are validated here (`VALIDATION_FAILED` naming the field). */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  return new StreamHub(options);
}
