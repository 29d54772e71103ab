/**
 * One SSE client: where its frames go, and a bounded queue for those its connection cannot take yet.
 * The hub hands every event to every client in one synchronous loop and never waits on one.
 *
 * Two ways out (the route picks one, see `../routes/streams.ts`):
 * - a {@link FrameSink} (under `@hono/node-server`, the Node response itself): a frame is written
 *   at once, its shared bytes as they are, while the connection takes them; once it says it is full,
 *   frames wait in the queue until it drains, then go out as one batch;
 * - {@link SseClient.pump} (any other runtime, through Hono's `streamSSE`): a loop writes whatever
 *   has accumulated as one chunk and waits for the stream to take it.
 *
 * A client that stops reading lets its queue grow until a bound is crossed, and is then dropped:
 * its queue is released and its connection closed, so memory stays flat.
 */
import type { Frame } from './frame.js';

/** One event of a stream, framed once and shared by every client that receives it. */
export interface StreamEvent {
  /** Position in the hub's sequence (monotonic within every stream). */
  seq: number;
  /** The SSE id (`<epoch>-<seq>`). */
  id: string;
  /** The SSE event name: the engine's event type, or `valuation`. */
  type: string;
  /** The frame as written on the wire. */
  frame: Frame;
  /** What client filters match on: the symbol of a `price.updated`. */
  topic?: string;
}

/** Why a client's stream ended. */
export type CloseReason =
  /** The connection went away. */
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

/**
 * A connection written to directly. `write` and `writeAll` return false when the connection's own
 * buffer is full: the client then queues until {@link SseClient.drained} is called.
 */
export interface FrameSink {
  write(bytes: Uint8Array): boolean;
  /** Writes several frames as one batch. */
  writeAll(chunks: readonly Uint8Array[]): boolean;
  /** Ends the connection (after what was written, or at once for `overflow`). Called once. */
  close(reason: CloseReason): void;
}

/** One connected client. Created by the hub; its route attaches a sink or runs {@link SseClient.pump}. */
export class SseClient {
  /** Frames written before the queue (`retry`, a replay): bounded by the stream buffer, not counted. */
  #backlog: Frame[] = [];
  #queue: Frame[] = [];
  #queuedBytes = 0;
  #sink: FrameSink | undefined;
  /** The sink said it is full: frames wait in the queue until it drains. */
  #blocked = false;
  #wake: (() => void) | undefined;
  #closeReason: CloseReason | undefined;
  readonly #closeListeners: Array<(reason: CloseReason) => void> = [];
  /** Something was sent since the last heartbeat tick (see {@link SseClient.heartbeat}). */
  #active = true;

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
  preload(frames: readonly Frame[]): void {
    if (this.closed) return;
    this.#backlog.push(...frames);
    this.#notify();
  }

  /** Queues (or writes) a live event when it passes the client's filter; drops the client on overflow. */
  deliver(event: StreamEvent): void {
    if (this.#closeReason !== undefined || (this.filter !== undefined && !this.filter(event))) return;
    this.#enqueue(event.frame);
  }

  /** Queues (or writes) a control frame (a `reset`, a heartbeat) under the same bounds. */
  send(frame: Frame): void {
    if (this.#closeReason !== undefined) return;
    this.#enqueue(frame);
  }

  /**
   * One tick of the hub's heartbeat timer: sends `frame` when nothing was sent since the previous
   * tick. A quiet client thus gets one every two ticks, and never waits longer than two.
   */
  heartbeat(frame: Frame): void {
    if (this.#active) this.#active = false;
    else this.send(frame);
  }

  /**
   * Writes to `sink` from now on: first the preamble and whatever is queued, then every frame as
   * it comes, while the sink takes them.
   */
  attach(sink: FrameSink): void {
    if (this.#sink) return;
    this.#sink = sink;
    if (this.#closeReason === undefined) {
      this.#flush();
      return;
    }
    // Closed before it could write: what the end left to say (`stream-closed`), then the end.
    const rest = this.#take();
    if (rest.length > 0) sink.writeAll(rest.map((f) => f.bytes));
    sink.close(this.#closeReason);
  }

  /** The sink has room again: writes what waited, as one batch. */
  drained(): void {
    if (!this.#sink || this.closed) return;
    this.#blocked = false;
    this.#flush();
  }

  /**
   * Writes queued frames until the client is closed (without a sink). `write` resolves when the
   * connection has taken the chunk; the hub keeps queuing meanwhile.
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
      const chunk = textOf(this.#take());
      await write(chunk);
    }
  }

  /** Calls `listener` once when the client closes (at once when already closed). */
  onClose(listener: (reason: CloseReason) => void): void {
    if (this.#closeReason !== undefined) listener(this.#closeReason);
    else this.#closeListeners.push(listener);
  }

  /**
   * Closes the client and tells its listeners; idempotent. What is queued when the stream ended
   * (`stream-closed`: the last event says why) is still written; otherwise the queue is released.
   * A sink is closed last.
   */
  close(reason: CloseReason): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    if (reason !== 'stream-closed') this.#take();
    this.#notify();
    for (const listener of this.#closeListeners.splice(0)) listener(reason);
    const sink = this.#sink;
    if (!sink) return;
    // The last frames go out whatever the sink's buffer holds: they are bounded by the queue's limits.
    const rest = this.#take();
    if (rest.length > 0) sink.writeAll(rest.map((f) => f.bytes));
    sink.close(reason);
  }

  #enqueue(frame: Frame): void {
    this.#active = true;
    const sink = this.#sink;
    if (sink !== undefined && !this.#blocked) {
      // The queue is empty whenever the sink is not blocked: write at once.
      if (!sink.write(frame.bytes)) this.#blocked = true;
      return;
    }
    const bytes = frame.bytes.byteLength;
    if (this.#queue.length >= this.limits.maxEvents || this.#queuedBytes + bytes > this.limits.maxBytes) {
      this.close('overflow');
      return;
    }
    this.#queue.push(frame);
    this.#queuedBytes += bytes;
    this.#notify();
  }

  /** Writes the backlog and the queue to the sink, as one batch. */
  #flush(): void {
    const sink = this.#sink;
    if (!sink) return;
    const frames = this.#take();
    if (frames.length === 0) return;
    const ok = frames.length === 1 ? sink.write(frames[0]!.bytes) : sink.writeAll(frames.map((f) => f.bytes));
    if (!ok) this.#blocked = true;
  }

  /** Empties the backlog and the queue, returning their frames in order. */
  #take(): Frame[] {
    const frames = this.#backlog.length === 0 ? this.#queue : [...this.#backlog, ...this.#queue];
    this.#backlog = [];
    this.#queue = [];
    this.#queuedBytes = 0;
    return frames;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** The text of several frames, as one chunk. */
function textOf(frames: readonly Frame[]): string {
  return frames.length === 1 ? frames[0]!.text : frames.map((f) => f.text).join('');
}
