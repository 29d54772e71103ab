/**
 * A WebSocket test client on `ws`: connects (or reports the refused handshake's status, headers and
 * body), keeps every JSON message it receives, and waits for messages or for the close, never for
 * time.
 */
import WebSocket from 'ws';

/** A message the server sent (parsed JSON). */
export type WsMessage = Record<string, unknown> & { type: string };

/** An open connection. */
export interface WsConnection {
  readonly socket: WebSocket;
  readonly messages: WsMessage[];
  /** Pings received. */
  readonly pings: number;
  /** Resolves with the close code and reason once the connection is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Waits for the first message (from `from`, default the first not yet taken) that passes `test`. */
  next(test: (m: WsMessage) => boolean, what: string): Promise<WsMessage>;
  close(): Promise<void>;
}

/** A refused handshake. */
export interface Refused {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** Waits until `condition` holds (checked on every turn of the event loop; fails after 10 s). */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  if (!condition()) throw new Error(`Timed out waiting until ${what}`);
}

/** Connects; resolves with the connection, or with the refused handshake. */
export function openWs(url: string, options: WebSocket.ClientOptions = {}): Promise<WsConnection | Refused> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(url, options);
    const messages: WsMessage[] = [];
    let pings = 0;
    let taken = 0;
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as WsMessage));
    socket.on('ping', () => {
      pings++;
    });
    socket.on('error', () => {});
    socket.once('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => {
        done({ status: response.statusCode ?? 0, headers: response.headers, body: text ? JSON.parse(text) : {} });
        socket.terminate();
      });
    });
    socket.once('open', () => {
      const connection: WsConnection = {
        socket,
        messages,
        get pings() {
          return pings;
        },
        closed,
        send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
        async next(test, what) {
          let found: WsMessage | undefined;
          await until(
            () => {
              const index = messages.findIndex((m, i) => i >= taken && test(m));
              if (index < 0) return false;
              found = messages[index];
              taken = index + 1;
              return true;
            },
            `${what} (received: ${JSON.stringify(messages.slice(taken)).slice(0, 500)})`,
          );
          return found as WsMessage;
        },
        async close() {
          if (socket.readyState === WebSocket.CLOSED) return;
          socket.terminate();
          await closed;
        },
      };
      done(connection);
    });
    socket.once('error', (error) => {
      if (socket.readyState !== WebSocket.OPEN) fail(error);
    });
  });
}

/** True for a refused handshake. */
export function isRefused(value: WsConnection | Refused): value is Refused {
  return 'status' in value;
}
