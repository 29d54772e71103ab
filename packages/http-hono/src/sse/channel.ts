/**
 * One stream (`prices`, `portfolio:<id>`): its clients, its bounded buffer of recent events, and
 * the sequence number from which that buffer is complete.
 */

import type { ValuationFeed } from '../valuation-feed.js';
import type { ClientFilter, SseClient, StreamEvent } from './client.js';
import { RingBuffer } from './ring-buffer.js';

/** A stream key: the price stream, or one portfolio's stream. */
export type StreamKey = 'prices' | `portfolio:${string}`;

/** The key of a portfolio's stream. */
export function portfolioKey(portfolioId: string): StreamKey {
  return `portfolio:${portfolioId}`;
}

/** What a client resuming from a `Last-Event-ID` gets. */
export type Resume = { kind: 'replay'; events: StreamEvent[] } | { kind: 'reset' };

/** One stream's state. */
export class Channel {
  readonly clients = new Set<SseClient>();
  readonly #buffer: RingBuffer<StreamEvent>;
  /** Every event of this stream with `seq > floor` is in the buffer. */
  #floor: number;
  /** Frees the stream after its last client left (see `lingerMs`). */
  lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Portfolio streams: the valuation, computed once for all clients. */
  valuation: ValuationFeed | undefined;
  /** Set when the stream was freed (pending work then does nothing). */
  freed = false;

  constructor(
    readonly key: StreamKey,
    readonly portfolioId: string | null,
    bufferSize: number,
    /** The hub's sequence when the stream started listening. */
    startSeq: number,
  ) {
    this.#buffer = new RingBuffer(bufferSize);
    this.#floor = startSeq;
  }

  /** Buffers an event and queues it to every client. */
  publish(event: StreamEvent): void {
    const evicted = this.#buffer.push(event);
    if (evicted) this.#floor = evicted.seq;
    for (const client of this.clients) client.deliver(event);
  }

  /**
   * What a client that last saw `seq` missed: every later event (passing `filter`), when the
   * buffer still has them all, else a reset.
   */
  resume(seq: number, currentSeq: number, filter: ClientFilter | undefined): Resume {
    if (seq < this.#floor || seq > currentSeq) return { kind: 'reset' };
    const missed = this.#buffer.from((e) => e.seq > seq);
    return { kind: 'replay', events: filter ? missed.filter(filter) : missed };
  }

  /** Forgets the buffer: ids up to `seq` can no longer resume (after a gap in the events). */
  forget(seq: number): void {
    this.#buffer.clear();
    this.#floor = seq;
  }
}
