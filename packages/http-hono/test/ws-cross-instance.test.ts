/**
 * WebSocket channels across instances on PostgreSQL: two engines (each its own store and pool on
 * one schema of this file's own, with the event relay over LISTEN/NOTIFY), two routers, two real
 * servers with WebSocket channels attached. A trade made over REST on instance A reaches a
 * WebSocket client of instance B on its portfolio channel, and a price refreshed on A reaches B's
 * prices channel; when B's listening connection dies, B's subscribed clients get a `reset`.
 */
import type { Server } from 'node:http';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import { serve } from '@hono/node-server';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, dropSchema, PG_URL, schemaName } from '../../store-postgres/test/support/pg.js';
import { createFoliokitRouter } from '../src/router.js';
import { attachWebSocket, type WebSocketAttachment } from '../src/ws/attach.js';
import { isRefused, openWs, until, type WsConnection } from './support/ws-client.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Instance {
  url: string;
  wsUrl: string;
  ws: WebSocketAttachment;
  test: TestEngine;
  store: PostgresStore;
}

/** Resolves once the store's transport listens (a probe shares the relay's listening connection). */
async function listening(store: PostgresStore): Promise<void> {
  const probe = store.events!.subscribe(() => {});
  await probe.ready;
  await probe.close();
}

/** One instance: its own store on the shared schema, engine, router, server and WebSocket channels. */
async function instance(schema: string): Promise<Instance> {
  const store = await createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 });
  const test = createTestEngine({ store, prices: { AAPL: '150' } });
  const router = createFoliokitRouter(test.engine, { auth: { jwt: { secret: SECRET, algorithms: ['HS256'] } } });
  const { server, port } = await new Promise<{ server: Server; port: number }>((done) => {
    const s = serve({ fetch: router.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      done({ server: s as Server, port: info.port }),
    );
  });
  const ws = attachWebSocket(router, server, { path: '/ws' });
  cleanups.push(async () => {
    await ws.close();
    await router.close();
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await test.close();
    await store.close();
  });
  await listening(store);
  return { url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws`, ws, test, store };
}

async function token(test: TestEngine, user: string): Promise<string> {
  const now = Math.floor(test.engine.clock.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(SECRET));
}

async function connect(at: Instance, user: string): Promise<WsConnection> {
  const result = await openWs(at.wsUrl, { headers: { authorization: `Bearer ${await token(at.test, user)}` } });
  if (isRefused(result)) throw new Error(`refused: ${result.status}`);
  cleanups.push(() => result.close());
  return result;
}

describe('WebSocket channels across instances on PostgreSQL', () => {
  it('a REST trade and a price on A reach WebSocket clients of B; a lost NOTIFY connection sends a reset', async () => {
    const schema = schemaName('ws');
    cleanups.push(() => dropSchema(schema));
    const a = await instance(schema);
    const b = await instance(schema);
    const portfolio = await a.test.engine.createPortfolio({ name: 'A', ownerId: 'alice', initialCash: '10000' });

    const onB = await connect(b, 'alice');
    onB.send({ op: 'subscribe', channel: `portfolio:${portfolio.id}` });
    onB.send({ op: 'subscribe', channel: 'prices', symbols: ['AAPL'] });
    await until(() => b.ws.stats().subscriptions === 2, 'both subscriptions are held on B');

    const res = await fetch(`${a.url}/portfolios/${portfolio.id}/trades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(a.test, 'alice')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'AAPL', side: 'buy', quantity: '10' }),
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { id: string };
    const trade = await onB.next((m) => m.type === 'trade.executed', 'the trade made on A');
    expect(trade).toMatchObject({
      channel: `portfolio:${portfolio.id}`,
      data: { portfolioId: portfolio.id, transaction: { id: made.id, symbol: 'AAPL', quantity: '10', price: '150' } },
    });
    expect(trade.data).not.toHaveProperty('origin');

    a.test.provider.setPrice('AAPL', '155.5');
    await a.test.engine.refreshPrices(['AAPL']);
    expect(await onB.next((m) => m.type === 'price.updated', 'the price made on A')).toMatchObject({
      channel: 'prices',
      data: { symbol: 'AAPL', price: '155.5' },
    });

    // B's listening connection dies: it comes back, and B's subscribed clients are told to refetch.
    const pid = (b.store.events as unknown as { pid: number | null }).pid;
    expect(pid).toBeTypeOf('number');
    await admin('select pg_terminate_backend($1)', [pid]);
    expect(await onB.next((m) => m.type === 'reset', 'the reset')).toMatchObject({ data: { reason: 'gap' } });
    await listening(b.store);
    await a.test.engine.deposit(portfolio.id, { amount: '12.5' });
    expect(await onB.next((m) => m.type === 'cash.deposited', 'events flow again')).toMatchObject({
      data: { transaction: { amount: '12.5' } },
    });
  });
});
