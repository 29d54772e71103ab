/**
 * WebSocket channels on a real server (`@hono/node-server` on 127.0.0.1) with real `ws` clients,
 * through `createFoliokitRouter` (JWT auth) and `attachWebSocket`:
 * - the auth matrix at the handshake (none, bad, expired → 401 problem; header or query → 101),
 *   and the Origin check when CORS origins are configured (403);
 * - channels: prices (filtered by symbols), portfolio (a REST trade → `trade.executed`, then a
 *   `valuation` with the new totals; prices of held symbols revalue it once per burst, others
 *   never; another user's portfolio is refused exactly like a missing one; a delete ends the
 *   subscription),
 *   alerts (only the caller's), signals, backtests (ownership through the runner);
 * - bad messages answer errors and keep the socket open; binary and over-size frames close it;
 * - heartbeats terminate a client that does not answer pings; a client that stops reading is
 *   dropped while a healthy one receives every event, and the stats go back to zero;
 * - the router's `foliokit_ws_clients` gauge follows connections; reconnect; `events.gap` → reset;
 *   `router.close()` and the attachment's `close()` end sockets.
 * No timing is asserted: waits only wait for something to happen.
 */
import type { Server } from 'node:http';
import { FoliokitError, type FoliokitEvent } from '@foliokit/core';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { serve } from '@hono/node-server';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Hono } from 'hono';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../src/openapi.js';
import type { FoliokitRouterOptions } from '../src/options.js';
import { createFoliokitRouter, type FoliokitRouter } from '../src/router.js';
import { attachWebSocket, closeWebSocketsOf, type WebSocketAttachment } from '../src/ws/attach.js';
import { websocketRoutes } from '../src/ws/route.js';
import { isRefused, openWs, type Refused, until, type WsConnection, type WsMessage } from './support/ws-client.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long!';
const NO_LIMITS = { windowMs: 60_000, max: 1_000_000 };

interface Running {
  url: string;
  wsUrl: string;
  router: FoliokitRouter;
  server: Server;
  ws: WebSocketAttachment;
  test: TestEngine;
  token(user: string, expiresInSec?: number): Promise<string>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An engine, a JWT router over it, a real server, and WebSocket channels attached at `/ws`. */
async function start(
  wsOptions: Record<string, unknown> = {},
  more: Partial<FoliokitRouterOptions> = {},
): Promise<Running> {
  const test = createTestEngine({ prices: { AAPL: '150', MSFT: '300' } });
  const router = createFoliokitRouter(test.engine, {
    auth: { jwt: { secret: SECRET, algorithms: ['HS256'] } },
    rateLimits: { trades: NO_LIMITS, market: NO_LIMITS, admin: NO_LIMITS },
    ...more,
  });
  const { server, port } = await new Promise<{ server: Server; port: number }>((done) => {
    const s = serve({ fetch: router.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      done({ server: s as Server, port: info.port }),
    );
  });
  const ws = attachWebSocket(router, server, wsOptions);
  cleanups.push(async () => {
    await ws.close();
    await router.close();
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await test.close();
  });
  const key = new TextEncoder().encode(SECRET);
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${ws.options.path}`,
    router,
    server,
    ws,
    test,
    token(user, expiresInSec = 3600) {
      const now = Math.floor(test.engine.clock.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user)
        .setIssuedAt(now - 7200)
        .setExpirationTime(now + expiresInSec)
        .sign(key);
    },
  };
}

/** Connects as `user` (Bearer header) and closes the connection after the test. */
async function connect(run: Running, user: string, options: { autoPong?: boolean } = {}): Promise<WsConnection> {
  const result = await openWs(run.wsUrl, {
    headers: { authorization: `Bearer ${await run.token(user)}` },
    ...options,
  });
  if (isRefused(result)) throw new Error(`refused: ${result.status} ${JSON.stringify(result.body)}`);
  cleanups.push(() => result.close());
  return result;
}

async function refused(url: string, headers: Record<string, string> = {}): Promise<Refused> {
  const result = await openWs(url, { headers });
  if (!isRefused(result)) {
    await result.close();
    throw new Error('the handshake was accepted');
  }
  return result;
}

async function subscribe(c: WsConnection, message: Record<string, unknown>): Promise<WsMessage> {
  c.send({ op: 'subscribe', ...message });
  return c.next((m) => m.channel === message.channel && (m.type === 'subscribed' || m.type === 'error'), 'an answer');
}

function priceEvent(symbol: string, price: string, extra: Record<string, unknown> = {}): FoliokitEvent {
  return {
    type: 'price.updated',
    symbol,
    price,
    previousPrice: null,
    at: '2026-01-05T10:00:00.000Z',
    source: 'test',
    currency: 'USD',
    ...extra,
  } as FoliokitEvent;
}

describe('the handshake', () => {
  it('answers 401 problems without a valid token, and 101 with one in the header or the query', async () => {
    const run = await start();
    const none = await refused(run.wsUrl);
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toBe('application/problem+json');
    expect(none.headers['www-authenticate']).toBe('Bearer realm="foliokit"');
    expect(none.body).toMatchObject({ status: 401, code: 'UNAUTHORIZED', requestId: expect.any(String) });

    const bad = await refused(run.wsUrl, { authorization: 'Bearer abc.def.ghi' });
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');

    const expired = await refused(run.wsUrl, { authorization: `Bearer ${await run.token('alice', -60)}` });
    expect(expired.status).toBe(401);
    expect((await refused(`${run.wsUrl}?access_token=${await run.token('alice', -60)}`)).status).toBe(401);

    const header = await connect(run, 'alice');
    expect(header.socket.readyState).toBe(header.socket.OPEN);
    const query = await openWs(`${run.wsUrl}?access_token=${await run.token('bob')}`);
    if (isRefused(query)) throw new Error(`refused ${query.status}`);
    cleanups.push(() => query.close());
    await until(() => run.ws.stats().clients === 2, 'both are connected');
    // The query token is the caller: bob sees bob's portfolio, not alice's.
    const bobs = await run.test.engine.createPortfolio({ name: 'b', ownerId: 'bob', initialCash: '1' });
    expect(await subscribe(query, { channel: `portfolio:${bobs.id}` })).toMatchObject({ type: 'subscribed' });
  });

  it('refuses other Origins when the router has CORS origins', async () => {
    const run = await start({}, { cors: { origins: ['https://app.example.com'] } });
    const token = await run.token('alice');
    const other = await refused(run.wsUrl, { authorization: `Bearer ${token}`, origin: 'https://evil.example.com' });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ code: 'FORBIDDEN' });
    const ok = await openWs(run.wsUrl, {
      headers: { authorization: `Bearer ${token}` },
      origin: 'https://app.example.com',
    });
    expect(isRefused(ok)).toBe(false);
    if (!isRefused(ok)) await ok.close();
  });

  it('leaves other paths to other listeners; two attachments on one server share it by path', async () => {
    const run = await start();
    const second = attachWebSocket(run.router, run.server, { path: '/api/ws' });
    cleanups.push(() => second.close());
    expect(() => attachWebSocket(run.router, run.server, { path: '/ws' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIGURATION', details: { field: 'options.path' } }),
    );
    const token = await run.token('alice');
    const onSecond = await openWs(run.wsUrl.replace('/ws', '/api/ws'), {
      headers: { authorization: `Bearer ${token}` },
    });
    if (isRefused(onSecond)) throw new Error('refused');
    cleanups.push(() => onSecond.close());
    await until(() => second.stats().clients === 1, 'the second attachment has the client');
    expect(run.ws.stats().clients).toBe(0);
    // No listener owns /elsewhere: answered 404 rather than left hanging.
    expect((await refused(run.wsUrl.replace('/ws', '/elsewhere'), { authorization: `Bearer ${token}` })).status).toBe(
      404,
    );
    // Another listener owns /other: left alone for it.
    const seen: string[] = [];
    run.server.on('upgrade', (request, socket) => {
      if (request.url === '/other') {
        seen.push(request.url);
        socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
    });
    expect((await openWs(run.wsUrl.replace('/ws', '/other')).catch(() => ({ status: 418 }))) as Refused).toMatchObject({
      status: 418,
    });
    expect(seen).toEqual(['/other']);
  });

  it('refuses bad options, naming the field', async () => {
    const run = await start();
    for (const [options, field] of [
      [{ heartbeatMs: 0 }, 'options.heartbeatMs'],
      [{ maxBufferedBytes: -1 }, 'options.maxBufferedBytes'],
      [{ path: 'ws' }, 'options.path'],
      [{ maxPayload: 1.5 }, 'options.maxPayload'],
      [{ valuationDelayMs: -1 }, 'options.valuationDelayMs'],
      [{ heartbeat: 5 }, 'options.heartbeat'],
    ] as const) {
      expect(() => attachWebSocket(run.router, run.server, options as never), field).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIGURATION', details: { field } }),
      );
    }
  });

  it('documents GET /ws, which answers 426 over plain HTTP', async () => {
    const run = await start();
    const [spec] = websocketRoutes(run.router.deps);
    expect(spec).toMatchObject({ method: 'get', path: '/ws', tag: 'Streams', policy: 'user' });
    const app = new Hono();
    app.get('/ws', (c) => spec!.handler(c, {} as never));
    const res = await app.request('/ws');
    expect(res.status).toBe(426);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('upgrade')).toBe('websocket');
    expect(await res.json()).toMatchObject({ status: 426, code: 'UPGRADE_REQUIRED' });
    // With the router's routes, the document stays valid OpenAPI 3.1.
    const document = buildOpenApiDocument([...run.router.routeTable, spec!]);
    const result = await new Validator().validate(document as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(document.paths['/ws']?.get as object)).toContain('responses');
  });
});

describe('channels', () => {
  it('prices: price.updated of the listed symbols, in the envelope with its channel', async () => {
    const run = await start();
    const c = await connect(run, 'alice');
    expect(await subscribe(c, { channel: 'prices', symbols: ['aapl'] })).toEqual({
      type: 'subscribed',
      channel: 'prices',
      symbols: ['AAPL'],
    });
    const all = await connect(run, 'bob');
    await subscribe(all, { channel: 'prices' });
    run.test.provider.setPrice('MSFT', '301');
    run.test.provider.setPrice('AAPL', '151.5');
    await run.test.engine.refreshPrices(['MSFT', 'AAPL']);
    const event = await c.next((m) => m.type === 'price.updated', 'a price');
    expect(event).toMatchObject({ channel: 'prices', data: { symbol: 'AAPL', price: '151.5' } });
    expect(event.id).toEqual(expect.any(String));
    expect(event.at).toMatch(/Z$/);
    expect(event.data).not.toHaveProperty('type');
    await all.next((m) => m.type === 'price.updated' && (m.data as { symbol: string }).symbol === 'AAPL', 'AAPL');
    expect(all.messages.filter((m) => m.type === 'price.updated')).toHaveLength(2);
    expect(c.messages.filter((m) => m.type === 'price.updated')).toHaveLength(1);

    c.send({ op: 'unsubscribe', channel: 'prices' });
    await c.next((m) => m.type === 'unsubscribed', 'unsubscribed');
    expect(run.ws.stats().subscriptions).toBe(1);
  });

  it("portfolio: a REST trade reaches its owner; another user's portfolio is refused like a missing one", async () => {
    const run = await start();
    const portfolio = await run.test.engine.createPortfolio({ name: 'A', ownerId: 'alice', initialCash: '10000' });
    const alice = await connect(run, 'alice');
    const bob = await connect(run, 'bob');
    expect(await subscribe(alice, { channel: `portfolio:${portfolio.id}` })).toEqual({
      type: 'subscribed',
      channel: `portfolio:${portfolio.id}`,
    });
    const theirs = await subscribe(bob, { channel: `portfolio:${portfolio.id}` });
    const missingId = 'pf_does_not_exist';
    const missing = await subscribe(bob, { channel: `portfolio:${missingId}` });
    expect(theirs).toMatchObject({ type: 'error', code: 'PORTFOLIO_NOT_FOUND' });
    expect(JSON.stringify(theirs).replaceAll(portfolio.id, 'ID')).toBe(
      JSON.stringify(missing).replaceAll(missingId, 'ID'),
    );
    // REST says the same.
    const rest = await fetch(`${run.url}/portfolios/${portfolio.id}`, {
      headers: { authorization: `Bearer ${await run.token('bob')}` },
    });
    expect(((await rest.json()) as { detail: string }).detail).toBe(theirs.message);

    const res = await fetch(`${run.url}/portfolios/${portfolio.id}/trades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await run.token('alice')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'AAPL', side: 'buy', quantity: '10' }),
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { id: string };
    const trade = await alice.next((m) => m.type === 'trade.executed', 'the trade');
    expect(trade).toMatchObject({
      channel: `portfolio:${portfolio.id}`,
      data: { portfolioId: portfolio.id, transaction: { id: made.id, quantity: '10', price: '150' } },
    });
    expect(bob.messages.some((m) => m.type === 'trade.executed')).toBe(false);

    await run.test.engine.deletePortfolio(portfolio.id);
    await alice.next((m) => m.type === 'portfolio.deleted', 'the delete');
    expect(await alice.next((m) => m.type === 'unsubscribed', 'the end')).toMatchObject({
      channel: `portfolio:${portfolio.id}`,
      reason: 'deleted',
    });
    expect(run.ws.stats().subscriptions).toBe(0);
  });

  it('portfolio: a trade sends the new valuation after the trade, to every subscriber, framed once', async () => {
    const run = await start({ valuationDelayMs: 10 });
    const portfolio = await run.test.engine.createPortfolio({ name: 'A', ownerId: 'alice', initialCash: '10000' });
    const other = await run.test.engine.createPortfolio({ name: 'B', ownerId: 'bob', initialCash: '500' });
    const alice = await connect(run, 'alice');
    const again = await connect(run, 'alice');
    const bob = await connect(run, 'bob');
    const channel = `portfolio:${portfolio.id}`;
    await subscribe(alice, { channel });
    await subscribe(again, { channel });
    await subscribe(bob, { channel: `portfolio:${other.id}` });
    // bob may not listen to alice's portfolio: refused, so no valuation of it reaches him
    expect(await subscribe(bob, { channel })).toMatchObject({ type: 'error', code: 'PORTFOLIO_NOT_FOUND' });

    const res = await fetch(`${run.url}/portfolios/${portfolio.id}/trades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await run.token('alice')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'AAPL', side: 'buy', quantity: '10' }),
    });
    expect(res.status).toBe(201);
    await alice.next((m) => m.type === 'trade.executed', 'the trade');
    const valuation = await alice.next((m) => m.type === 'valuation', 'the valuation');
    expect(valuation).toMatchObject({
      channel,
      id: expect.any(String),
      at: expect.stringMatching(/Z$/),
      data: {
        portfolioId: portfolio.id,
        cash: '8500',
        totals: { marketValue: '1500', totalValue: '10000', costBasis: '1500', netDeposits: '10000' },
      },
    });
    expect((valuation.data as { positions: unknown[] }).positions).toEqual([
      expect.objectContaining({ symbol: 'AAPL', quantity: '10', price: '150', marketValue: '1500' }),
    ]);
    // the same envelope (same id) for both of alice's connections
    expect(await again.next((m) => m.type === 'valuation', 'the valuation, again')).toEqual(valuation);
    // a cash movement values it again
    await run.test.engine.withdraw(portfolio.id, { amount: '100' });
    const after = await alice.next((m) => m.type === 'valuation', 'the valuation after the withdrawal');
    expect(after.data).toMatchObject({ cash: '8400', totals: { totalValue: '9900', netDeposits: '9900' } });
    expect(bob.messages.filter((m) => m.type === 'valuation')).toEqual([]);
  });

  it('portfolio: a price of a held symbol sends one valuation for a burst; of another symbol none', async () => {
    const run = await start({ valuationDelayMs: 10 });
    const portfolio = await run.test.engine.createPortfolio({ name: 'A', ownerId: 'alice', initialCash: '10000' });
    await run.test.engine.trade(portfolio.id, { symbol: 'AAPL', side: 'buy', quantity: '10' });
    const alice = await connect(run, 'alice');
    const channel = `portfolio:${portfolio.id}`;
    await subscribe(alice, { channel });
    let valuations = 0;
    const getValuation = run.test.engine.getValuation.bind(run.test.engine);
    run.test.engine.getValuation = (id) => {
      valuations++;
      return getValuation(id);
    };
    // Once the hub knows what it holds, a price of MSFT (not held) asks for no valuation.
    await run.test.engine.deposit(portfolio.id, { amount: '1' });
    expect((await alice.next((m) => m.type === 'valuation', 'the first valuation')).data).toMatchObject({
      cash: '8501',
    });
    await until(() => run.ws.stats().timers === 1, 'only the heartbeat is pending');
    run.test.engine.emit(priceEvent('MSFT', '301'));
    expect(run.ws.stats().timers).toBe(1); // no valuation waiting
    // A burst of AAPL prices (held) asks for one: 20 more emitted in the same turn as the stored one.
    let pendingAfterBurst = -1;
    const off = run.test.engine.on('price.updated', (e) => {
      if (e.symbol !== 'AAPL' || e.price !== '160') return;
      off();
      for (let i = 0; i < 20; i++) run.test.engine.emit(priceEvent('AAPL', '160'));
      pendingAfterBurst = run.ws.stats().timers;
    });
    run.test.provider.setPrice('AAPL', '160');
    await run.test.engine.refreshPrices(['AAPL']);
    expect(pendingAfterBurst).toBe(2); // the heartbeat and one valuation waiting
    const priced = await alice.next((m) => m.type === 'valuation', 'the valuation at the new price');
    expect(priced.data).toMatchObject({ totals: { marketValue: '1600', totalValue: '10101' } });
    expect(valuations).toBe(2);
    // Unsubscribing releases the portfolio's valuation: later prices ask for none.
    alice.send({ op: 'unsubscribe', channel });
    await alice.next((m) => m.type === 'unsubscribed', 'unsubscribed');
    run.test.engine.emit(priceEvent('AAPL', '170'));
    expect(run.ws.stats().timers).toBe(1);
    expect(alice.messages.filter((m) => m.type === 'valuation')).toHaveLength(2);
  });

  it("alerts: only the caller's own alerts", async () => {
    const run = await start();
    const alice = await connect(run, 'alice');
    const bob = await connect(run, 'bob');
    await subscribe(alice, { channel: 'alerts' });
    await subscribe(bob, { channel: 'alerts' });
    const alert = (id: string, ownerId: string | null) =>
      ({
        type: 'alert.triggered',
        alert: { id, ownerId, portfolioId: null, kind: 'price-above', symbol: 'AAPL', threshold: '1' },
        value: '2',
        at: '2026-01-05T10:00:00.000Z',
      }) as unknown as FoliokitEvent;
    run.test.engine.emit(alert('al_bob', 'bob'));
    run.test.engine.emit(alert('al_none', null));
    run.test.engine.emit(alert('al_alice', 'alice'));
    run.test.engine.emit(alert('al_bob2', 'bob'));
    await bob.next((m) => (m.data as { alert?: { id: string } })?.alert?.id === 'al_bob2', "bob's second");
    await alice.next((m) => m.type === 'alert.triggered', "alice's");
    const ids = (c: WsConnection) =>
      c.messages.filter((m) => m.type === 'alert.triggered').map((m) => (m.data as { alert: { id: string } }).alert.id);
    expect(ids(alice)).toEqual(['al_alice']);
    expect(ids(bob)).toEqual(['al_bob', 'al_bob2']);
  });

  it('signals: signal.generated', async () => {
    const run = await start();
    const c = await connect(run, 'alice');
    await subscribe(c, { channel: 'signals' });
    run.test.engine.emit({
      type: 'signal.generated',
      strategy: 'sma-cross',
      symbol: 'AAPL',
      direction: 'buy',
      day: '2026-01-05',
      at: '2026-01-05T10:00:00.000Z',
    } as FoliokitEvent);
    expect(await c.next((m) => m.type === 'signal.generated', 'a signal')).toMatchObject({
      channel: 'signals',
      data: { strategy: 'sma-cross', symbol: 'AAPL', direction: 'buy' },
    });
  });

  it("backtest: the caller's run only, checked through the runner and on every event", async () => {
    const run = await start();
    const runs: Record<string, { ownerId: string; status: string }> = {
      bt_alice: { ownerId: 'alice', status: 'running' },
      bt_bob: { ownerId: 'bob', status: 'running' },
    };
    (run.router.deps as { backtests: unknown }).backtests = {
      async get(id: string) {
        const found = runs[id];
        if (!found) throw new FoliokitError('NOT_FOUND', `No backtest run ${id}`);
        return { ...found, progress: null };
      },
    };
    const c = await connect(run, 'alice');
    expect(await subscribe(c, { channel: 'backtest:bt_alice' })).toMatchObject({ type: 'subscribed' });
    const other = await subscribe(c, { channel: 'backtest:bt_bob' });
    const missing = await subscribe(c, { channel: 'backtest:bt_none' });
    expect(other).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(JSON.stringify(other).replaceAll('bt_bob', 'ID')).toBe(JSON.stringify(missing).replaceAll('bt_none', 'ID'));
    const emit = (type: string, fields: Record<string, unknown>) =>
      run.test.engine.emit({ type, ...fields } as unknown as FoliokitEvent);
    emit('backtest.progress', { runId: 'bt_bob', ownerId: 'bob', done: 1, total: 2 });
    emit('backtest.progress', { runId: 'bt_alice', ownerId: 'mallory', done: 1, total: 2 });
    emit('backtest.progress', { runId: 'bt_alice', ownerId: 'alice', done: 1, total: 2 });
    emit('backtest.completed', { runId: 'bt_alice', ownerId: 'alice', status: 'succeeded' });
    await c.next((m) => m.type === 'backtest.completed', 'completion');
    expect(c.messages.filter((m) => m.type.startsWith('backtest.')).map((m) => [m.type, m.channel, m.data])).toEqual([
      ['backtest.progress', 'backtest:bt_alice', { runId: 'bt_alice', ownerId: 'alice', done: 1, total: 2 }],
      ['backtest.completed', 'backtest:bt_alice', { runId: 'bt_alice', ownerId: 'alice', status: 'succeeded' }],
    ]);
  });

  it('answers bad messages with errors and keeps the socket; limits subscriptions', async () => {
    const run = await start({ maxSubscriptions: 2 });
    const c = await connect(run, 'alice');
    c.send('not json');
    expect(await c.next((m) => m.type === 'error', 'malformed')).toMatchObject({ code: 'MALFORMED_JSON' });
    c.send({ op: 'subscribe', channel: 'weather' });
    expect(await c.next((m) => m.type === 'error', 'unknown channel')).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'channel',
      channel: 'weather',
    });
    c.send({ op: 'dance' });
    expect(await c.next((m) => m.type === 'error', 'unknown op')).toMatchObject({ code: 'VALIDATION_FAILED' });
    c.send({ op: 'subscribe', channel: 'prices', symbols: ['AAPL'], extra: 1 });
    expect(await c.next((m) => m.type === 'error', 'unknown field')).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'extra',
    });
    c.send({ op: 'subscribe', channel: 'signals', symbols: ['AAPL'] });
    expect(await c.next((m) => m.type === 'error', 'symbols elsewhere')).toMatchObject({ field: 'symbols' });
    c.send({ op: 'subscribe', channel: 'prices', symbols: ['not a symbol!'] });
    expect(await c.next((m) => m.type === 'error', 'bad symbol')).toMatchObject({ code: 'VALIDATION_FAILED' });
    await subscribe(c, { channel: 'prices' });
    await subscribe(c, { channel: 'signals' });
    expect(await subscribe(c, { channel: 'alerts' })).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    // Subscribing again replaces (new symbols), within the limit.
    expect(await subscribe(c, { channel: 'prices', symbols: ['MSFT'] })).toMatchObject({ type: 'subscribed' });
    expect(run.ws.stats().subscriptions).toBe(2);
    expect(c.socket.readyState).toBe(c.socket.OPEN);
  });

  it('closes the socket on a binary frame (1003) and on an over-size message (1009)', async () => {
    const run = await start({ maxPayload: 1024 });
    const binary = await connect(run, 'alice');
    binary.socket.send(Buffer.from([1, 2, 3]));
    expect((await binary.closed).code).toBe(1003);
    const big = await connect(run, 'alice');
    big.send({ op: 'subscribe', channel: 'prices', symbols: Array.from({ length: 300 }, () => 'AAPL') });
    expect((await big.closed).code).toBe(1009);
    await until(() => run.ws.stats().clients === 0, 'both left');
  });
});

describe('liveness and back-pressure', () => {
  it('terminates a client that does not answer pings; one that answers stays', async () => {
    const run = await start({ heartbeatMs: 20 });
    const lazy = await connect(run, 'alice', { autoPong: false });
    const healthy = await connect(run, 'bob');
    await lazy.closed;
    expect(run.ws.stats()).toMatchObject({ clients: 1, terminated: 1 });
    const pings = healthy.pings;
    await until(() => healthy.pings > pings + 1, 'the healthy client is pinged twice more');
    expect(healthy.socket.readyState).toBe(healthy.socket.OPEN);
    expect(run.ws.stats()).toMatchObject({ clients: 1, terminated: 1 });
  });

  it('drops a client that stops reading while a healthy one receives every event', async () => {
    const run = await start({ maxBufferedBytes: 64 * 1024 });
    const slow = await connect(run, 'alice');
    const healthy = await connect(run, 'bob');
    await subscribe(slow, { channel: 'prices' });
    await subscribe(healthy, { channel: 'prices' });
    slow.socket.pause();
    const padding = 'x'.repeat(2000);
    let sent = 0;
    for (let batch = 0; batch < 1000 && run.ws.stats().dropped === 0; batch++) {
      for (let i = 0; i < 100; i++) run.test.engine.emit(priceEvent('AAPL', String(++sent), { padding }));
      const last = String(sent);
      await until(
        () => healthy.messages.some((m) => m.type === 'price.updated' && (m.data as { price: string }).price === last),
        'the healthy client has the batch',
      );
    }
    expect(run.ws.stats()).toMatchObject({ dropped: 1, clients: 1, subscriptions: 1 });
    const prices = healthy.messages
      .filter((m) => m.type === 'price.updated')
      .map((m) => (m.data as { price: string }).price);
    expect(prices).toEqual(Array.from({ length: sent }, (_, i) => String(i + 1)));
    // The slow client's socket is ended (terminated: it never reads its close frame).
    slow.socket.resume();
    await slow.closed;
    await healthy.close();
    await until(() => run.ws.stats().clients === 0 && run.ws.stats().timers === 0, 'everything is released');
    expect(run.ws.stats()).toEqual({
      clients: 0,
      subscriptions: 0,
      engineSubscriptions: 0,
      timers: 0,
      dropped: 1,
      terminated: 0,
    });
  });

  it("counts open connections in the router's foliokit_ws_clients gauge, down to zero", async () => {
    const run = await start({ heartbeatMs: 20 });
    const gauge = () => {
      const sample = run.router.deps.metrics.render('json').foliokit_ws_clients?.samples[0];
      return sample && 'value' in sample ? sample.value : undefined;
    };
    expect(gauge()).toBe(0);
    const a = await connect(run, 'alice');
    const b = await connect(run, 'bob');
    await until(() => run.ws.stats().clients === 2, 'both are connected');
    expect(gauge()).toBe(2);
    // a lazy client is terminated by the heartbeat: it leaves the gauge too
    const lazy = await connect(run, 'carol', { autoPong: false });
    await until(() => gauge() === 3, 'the third is counted');
    await lazy.closed;
    await until(() => run.ws.stats().clients === 2, 'the lazy one is gone');
    expect(gauge()).toBe(2);
    await a.close();
    await until(() => run.ws.stats().clients === 1, 'alice left');
    expect(gauge()).toBe(1);
    expect(run.router.deps.metrics.render('prometheus')).toContain('\nfoliokit_ws_clients 1\n');
    await run.ws.close();
    await b.closed;
    expect(gauge()).toBe(0);
    // the SSE gauge is a different one
    expect(run.router.deps.metrics.render('json').foliokit_sse_clients?.samples[0]).toMatchObject({ value: 0 });
  });

  it('a client reconnects, subscribes and receives', async () => {
    const run = await start();
    const first = await connect(run, 'alice');
    await subscribe(first, { channel: 'prices' });
    await first.close();
    await until(() => run.ws.stats().clients === 0, 'the first connection left');
    expect(run.ws.stats()).toMatchObject({ subscriptions: 0, engineSubscriptions: 0, timers: 0 });
    const again = await connect(run, 'alice');
    await subscribe(again, { channel: 'prices' });
    run.test.engine.emit(priceEvent('AAPL', '152'));
    expect(await again.next((m) => m.type === 'price.updated', 'a price')).toMatchObject({ data: { price: '152' } });
  });

  it('sends a reset to subscribed clients on events.gap', async () => {
    const run = await start();
    const subscribed = await connect(run, 'alice');
    const idle = await connect(run, 'bob');
    await subscribe(subscribed, { channel: 'prices' });
    run.test.engine.emit({ type: 'events.gap', reason: 'reconnected' } as FoliokitEvent);
    expect(await subscribed.next((m) => m.type === 'reset', 'the reset')).toMatchObject({
      data: { reason: 'gap' },
      id: expect.any(String),
    });
    run.test.engine.emit(priceEvent('AAPL', '153'));
    await subscribed.next((m) => m.type === 'price.updated', 'then events');
    expect(idle.messages).toEqual([]);
  });
});

describe('shutdown', () => {
  it('closeWebSocketsOf(router.deps) ends every socket; new upgrades are refused', async () => {
    const run = await start();
    const a = await connect(run, 'alice');
    const b = await connect(run, 'bob');
    await subscribe(a, { channel: 'prices' });
    await closeWebSocketsOf(run.router.deps);
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect(run.ws.stats()).toMatchObject({ clients: 0, subscriptions: 0, engineSubscriptions: 0, timers: 0 });
  });

  it("the attachment's close() ends every socket and stops serving its path", async () => {
    const run = await start();
    const a = await connect(run, 'alice');
    const closing = run.ws.close();
    expect((await a.closed).code).toBe(1001);
    await closing;
    expect(run.server.listenerCount('upgrade')).toBe(0);
    expect(run.ws.stats().clients).toBe(0);
  });
});
