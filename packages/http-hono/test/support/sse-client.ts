/**
 * A small SSE client for tests, on `fetch` and the response's `ReadableStream`: it parses the wire
 * format as the WHATWG HTML spec describes (fields `event`, `data`, `id`, `retry`; comment lines;
 * a blank line dispatches), keeps every message and comment, and can pause reading (to play a client
 * that stops reading: nothing is read from the socket while paused, so the server's writes back up).
 */

/** One dispatched event. */
export interface SseMessage {
  /** The event name (`message` when the frame had none). */
  event: string;
  data: string;
  /** The frame's id, or undefined when it had none. */
  id: string | undefined;
}

/** An open (or finished) SSE connection. */
export interface SseConnection {
  /** The HTTP status of the answer. */
  readonly status: number;
  readonly headers: Headers;
  /** The body, when the answer was not an event stream (an error). */
  readonly body: string | undefined;
  /** Every event received, in order. */
  readonly messages: SseMessage[];
  /** Every comment line received (heartbeats), without the leading colon. */
  readonly comments: string[];
  /** The last `retry:` received. */
  readonly retry: number | undefined;
  /** The last event id received (what a browser would send back as `Last-Event-ID`). */
  readonly lastEventId: string | undefined;
  /** True once the stream ended or failed. */
  readonly ended: boolean;
  /** Resolves when the stream ends (cleanly, by error, or by `close()`). */
  readonly done: Promise<void>;
  /** Waits until `predicate` holds over the messages (fails after `timeoutMs`, or when the stream ends first). */
  waitFor(predicate: (messages: SseMessage[]) => boolean, what?: string, timeoutMs?: number): Promise<SseMessage[]>;
  /** Waits for the next message named `event` at or after message `from` (default: any not yet returned). */
  waitForEvent(event: string, from?: number): Promise<SseMessage>;
  /** Stops reading (the socket's buffers fill up; the server sees a client that stopped reading). */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** Closes the connection (aborts the request). */
  close(): Promise<void>;
}

/** Options of {@link openSse}. */
export interface OpenSseOptions {
  headers?: Record<string, string>;
  /** Sent as the `Last-Event-ID` header. */
  lastEventId?: string;
}

/** Opens an SSE connection to `url`. Resolves once the answer's head has arrived. */
export async function openSse(url: string, options: OpenSseOptions = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  const isStream = response.ok && (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  let retry: number | undefined;
  let lastEventId: string | undefined;
  let ended = false;
  let paused = false;
  let unpause: (() => void) | undefined;
  let returned = 0;

  const parser = createParser({
    onMessage: (message) => {
      if (message.id !== undefined) lastEventId = message.id;
      messages.push(message);
      notify();
    },
    onComment: (text) => {
      comments.push(text);
      notify();
    },
    onRetry: (ms) => {
      retry = ms;
    },
  });

  let body: string | undefined;
  let done: Promise<void>;
  if (!isStream) {
    body = await response.text();
    ended = true;
    done = Promise.resolve();
  } else {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    done = (async () => {
      try {
        for (;;) {
          while (paused) await new Promise<void>((resolve) => (unpause = resolve));
          const { done: finished, value } = await reader.read();
          if (finished) break;
          parser.push(decoder.decode(value, { stream: true }));
        }
      } catch {
        // aborted or reset: the stream ended
      } finally {
        ended = true;
        notify();
      }
    })();
  }

  const connection: SseConnection = {
    status: response.status,
    headers: response.headers,
    body,
    messages,
    comments,
    get retry() {
      return retry;
    },
    get lastEventId() {
      return lastEventId;
    },
    get ended() {
      return ended;
    },
    done,
    waitFor(predicate, what = 'a condition', timeoutMs = 10_000) {
      return new Promise<SseMessage[]>((resolve, reject) => {
        const check = () => {
          if (predicate(messages)) {
            finish();
            resolve(messages);
          } else if (ended) {
            finish();
            reject(new Error(`SSE stream ended before ${what} (got ${describe(messages)})`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`Timed out waiting for ${what} (got ${describe(messages)})`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async waitForEvent(event, from) {
      const start = from ?? returned;
      let index = -1;
      await connection.waitFor((all) => {
        index = all.findIndex((m, i) => i >= start && m.event === event);
        return index >= 0;
      }, `event ${event}`);
      returned = index + 1;
      return messages[index]!;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      unpause?.();
      unpause = undefined;
    },
    async close() {
      controller.abort();
      connection.resume();
      await done;
    },
  };
  return connection;
}

/** The SSE line parser: feed it text as it arrives. */
export function createParser(handlers: {
  onMessage(message: SseMessage): void;
  onComment(text: string): void;
  onRetry(ms: number): void;
}): { push(text: string): void } {
  let pending = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let sawId = false;
  const dispatch = () => {
    if (data.length > 0) {
      handlers.onMessage({ event: event || 'message', data: data.join('\n'), id: sawId ? id : undefined });
    }
    event = '';
    data = [];
    sawId = false;
  };
  const line = (text: string) => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return handlers.onComment(text.slice(1).trimStart());
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) {
      id = value;
      sawId = true;
    } else if (field === 'retry' && /^\d+$/.test(value)) handlers.onRetry(Number(value));
  };
  return {
    push(text) {
      pending += text;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(pending);
        // A lone '\r' at the end may be the first half of '\r\n': wait for more.
        if (!match || (match[0] === '\r' && match.index === pending.length - 1)) break;
        line(pending.slice(0, match.index));
        pending = pending.slice(match.index + match[0].length);
      }
    },
  };
}

function describe(messages: SseMessage[]): string {
  const tail = messages.slice(-5).map((m) => m.event);
  return `${messages.length} messages${tail.length ? `, last: ${tail.join(', ')}` : ''}`;
}
