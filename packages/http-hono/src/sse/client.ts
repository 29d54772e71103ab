/**
 * One SSE client: a bounded queue of frames waiting to be written, and the loop that writes them.
 * The hub queues frames without waiting; the loop writes whatever has accumulated as one chunk and
 * waits for the connection to take it. A client that stops reading lets its queue grow until a
 * bound is crossed, and is then dropped: its queue is released and its connection closed, while the
 * hub and the other clients never wait on it.
 */

/** One event of a stream, framed once and shared by every client that receives it. */
export interface StreamEvent {
  /** Position in the hub's sequence (monotonic within every stream). */
  seq: number;
  /** The SSE id (`<epoch>-<seq>`). */
  id: string;
  /** The SSE event name: the engine's event type, or `valuation`. */
  type: string;
  /** The frame as written on the wire. */
  frame: string;
  /** The frame's size in UTF-8 bytes. */
  bytes: number;
  /** What client filters match on: the symbol of a `price.updated`. */
  topic?: string;
}

/** Why a client's stream ended. */
export type CloseReason =
  /** The connection went away (`stream.onAbort`). */
  | 'disconnected'
  /** Its queue overflowed: it stopped reading. */
  | 'overflow'
  /** The stream ended (its portfolio was deleted). */
  | 'stream-closed'
  /** The hub was closed (router shutdown). */
  | 'hub-closed';

/** Bounds of a client's queue. */
export interface ClientLimits {
  maxEvents: number;
  maxBytes: number;
}

/** A client filter (the symbols a price client asked for). */
export type ClientFilter = (event: StreamEvent) => boolean;

/** One connected client. Created by the hub; its route runs {@link SseClient.pump}. */
export class SseClient {
  /** Frames written before the queue (`retry`, a replay): bounded by the stream buffer, not counted. */
  #backlog: string[] = [];
  #queue: string[] = [];
  #queuedBytes = 0;
  #wake: (() => void) | undefined;
  #closeReason: CloseReason | undefined;
  readonly #closeListeners: Array<(reason: CloseReason) => void> = [];
  /** When a frame was last queued (`Date.now()`), for heartbeats. */
  lastQueuedAt = Date.now();

  constructor(
    readonly limits: ClientLimits,
    readonly filter: ClientFilter | undefined,
  ) {}

  /** True once closed (for any reason). */
  get closed(): boolean {
    return this.#closeReason !== undefined;
  }

  /** Why the client was closed, once closed. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /** Frames waiting in the bounded queue. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Adds frames to write before anything queued (the connect preamble and a replay). */
  preload(frames: readonly string[]): void {
    if (this.closed) return;
    this.#backlog.push(...frames);
    this.#notify();
  }

  /** Queues a live event when it passes the client's filter; drops the client on overflow. */
  deliver(event: StreamEvent): void {
    if (this.closed || (this.filter && !this.filter(event))) return;
    this.#enqueue(event.frame, event.bytes);
  }

  /** Queues a control frame (a `reset`, a heartbeat) under the same bounds. */
  send(frame: string): void {
    if (this.closed) return;
    this.#enqueue(frame, utf8Length(frame));
  }

  /**
   * Writes queued frames until the client is closed. `write` resolves when the connection has
   * taken the chunk; the hub keeps queuing meanwhile.
   */
  async pump(write: (chunk: string) => Promise<unknown>): Promise<void> {
    for (;;) {
      if (this.#backlog.length === 0 && this.#queue.length === 0) {
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const chunk = this.#backlog.join('') + this.#queue.join('');
      this.#backlog = [];
      this.#queue = [];
      this.#queuedBytes = 0;
      await write(chunk);
    }
  }

  /** Calls `listener` once when the client closes (at once when already closed). */
  onClose(listener: (reason: CloseReason) => void): void {
    if (this.#closeReason !== undefined) listener(this.#closeReason);
    else this.#closeListeners.push(listener);
  }

  /**
   * Closes the client and tells its listeners; idempotent. Its loop ends once it has written what
   * is queued when the stream ended (`stream-closed`: the last event says why), at once otherwise
   * (the queue is released).
   */
  close(reason: CloseReason): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    if (reason !== 'stream-closed') {
      this.#backlog = [];
      this.#queue = [];
      this.#queuedBytes = 0;
    }
    this.#notify();
    for (const listener of this.#closeListeners.splice(0)) listener(reason);
  }

  #enqueue(frame: string, bytes: number): void {
    if (this.#queue.length >= this.limits.maxEvents || this.#queuedBytes + bytes > this.limits.maxBytes) {
      this.close('overflow');
      return;
    }
    this.#queue.push(frame);
    this.#queuedBytes += bytes;
    this.lastQueuedAt = Date.now();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** The UTF-8 size of a string, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
