/**
 * Two example servers on one PostgreSQL schema (a fresh one per test, dropped after): users are
 * shared (registered on A, logged in on B), and a trade through A's API reaches an SSE client of B.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dropSchema, PG_URL, schemaName } from '../../../packages/store-postgres/test/support/pg.js';
import { createPaperTradingServer, type PaperTradingServer } from '../src/server.js';

let running: PaperTradingServer[] = [];
let schemas: string[] = [];

afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  await Promise.all(schemas.map(dropSchema));
  running = [];
  schemas = [];
});

/** Starts servers A and B, one after the other, on one new schema. */
async function twoServers(): Promise<[PaperTradingServer, PaperTradingServer]> {
  const pgSchema = schemaName('example');
  schemas.push(pgSchema);
  const config = { port: 0, postgresUrl: PG_URL, pgSchema, demo: false, logLevel: 'silent' as const };
  const a = await createPaperTradingServer(config);
  running.push(a);
  const b = await createPaperTradingServer(config);
  running.push(b);
  return [a, b];
}

async function post(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function login(server: PaperTradingServer, email: string, password: string): Promise<string> {
  const res = await post(`${server.url}/auth/login`, { email, password });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** Reads an SSE body until `type` shows up in a frame (or the stream ends). */
async function waitForEvent(body: ReadableStream<Uint8Array>, type: string): Promise<Record<string, unknown>> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before ${type}: ${text}`);
      text += value;
      for (const frame of text.split('\n\n')) {
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (!data) continue;
        const envelope = JSON.parse(data) as { type: string };
        if (envelope.type === type) return envelope as Record<string, unknown>;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

describe('two servers on one PostgreSQL', () => {
  it('share users: registered on A, logged in on B', async () => {
    const [a, b] = await twoServers();
    const created = await post(`${a.url}/auth/register`, { email: 'shared@example.test', password: 'one-password' });
    expect(created.status).toBe(201);
    const token = await login(b, 'shared@example.test', 'one-password');
    expect((await fetch(`${b.url}/api/portfolios`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    // A's token works on B too: both share the JWT secret kept in the database.
    const tokenA = await login(a, 'shared@example.test', 'one-password');
    expect((await fetch(`${b.url}/api/portfolios`, { headers: { authorization: `Bearer ${tokenA}` } })).status).toBe(
      200,
    );
  });

  it("a trade through A reaches an SSE client of B's portfolio stream", async () => {
    const [a, b] = await twoServers();
    expect(
      (await post(`${a.url}/auth/register`, { email: 'trader@example.test', password: 'trade-away' })).status,
    ).toBe(201);
    const tokenA = await login(a, 'trader@example.test', 'trade-away');
    const tokenB = await login(b, 'trader@example.test', 'trade-away');
    const created = await post(`${a.url}/api/portfolios`, { name: 'Shared', initialCash: '5000' }, tokenA);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const controller = new AbortController();
    const stream = await fetch(`${b.url}/api/stream/portfolios/${id}`, {
      headers: { authorization: `Bearer ${tokenB}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    const event = waitForEvent(stream.body as ReadableStream<Uint8Array>, 'trade.executed');
    const trade = await post(
      `${a.url}/api/portfolios/${id}/trades`,
      { symbol: 'MSFT', side: 'buy', quantity: '2' },
      tokenA,
    );
    expect(trade.status).toBe(201);
    const { id: transactionId } = (await trade.json()) as { id: string };
    const received = await event;
    controller.abort();
    expect(JSON.stringify(received.data)).toContain(transactionId);
  }, 60_000);
});
