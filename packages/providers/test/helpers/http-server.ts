import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the test server does with one request. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is (malformed JSON, text); anything else as JSON. */
  body?: unknown;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
  /** Destroy the socket without answering. */
  reset?: boolean;
  /** Send the headers and half the body, then destroy the socket. */
  cutBody?: boolean;
}

export interface SeenRequest {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

export type Handler = (request: SeenRequest) => Reply | Promise<Reply>;

export interface TestServer {
  /** `http://127.0.0.1:PORT` (or the host asked for). */
  url: string;
  port: number;
  requests: SeenRequest[];
  /** Connections currently open. */
  openConnections(): number;
  /** Replaces the handler. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** Starts a real HTTP server on an ephemeral port of the loopback interface. */
export async function startServer(
  handler: Handler = () => ({ status: 404, body: {} }),
  host = '127.0.0.1',
): Promise<TestServer> {
  let current = handler;
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://test');
    const seen = { path: url.pathname, query: url.searchParams, headers: req.headers };
    requests.push(seen);
    Promise.resolve(current(seen)).then(
      (reply) => send(req, res, reply),
      (error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      },
    );
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '::1' ? '[::1]' : host}:${port}`,
    port,
    requests,
    openConnections: () => sockets.size,
    handle(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (reply.hang) return;
  if (reply.reset) {
    req.socket.destroy();
    return;
  }
  const text = typeof reply.body === 'string' ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.statusCode = reply.status ?? 200;
  const contentType = typeof reply.body === 'string' ? 'text/plain' : 'application/json';
  res.setHeader('content-type', contentType);
  for (const [key, value] of Object.entries(reply.headers ?? {})) res.setHeader(key, value);
  if (reply.cutBody) {
    res.setHeader('content-length', String(Buffer.byteLength(text) + 100));
    res.write(text.slice(0, Math.floor(text.length / 2)));
    setTimeout(() => req.socket.destroy(), 5);
    return;
  }
  res.end(text);
}
