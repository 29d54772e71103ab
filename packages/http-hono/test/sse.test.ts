/**
 * SSE streams on a real server (`@hono/node-server` on 127.0.0.1) with real SSE clients
 * (`./support/sse-client.ts`, fetch + ReadableStream), through `createFoliokitRouter`:
 * - a trade made over REST reaches the portfolio stream, then one `valuation`;
 * - price updates reach the price stream, only for the listed symbols;
 * - a burst of prices is valued once per portfolio, for all its clients;
 * - `Last-Event-ID` (header or query) resumes with no gap and no duplicate; beyond the buffer, an
 *   unknown id, or an id of an earlier hub → `reset`, then live events; a transport gap → `reset`;
 * - a client that stops reading is dropped while another receives every event in order;
 * - disconnects free the hub's streams, its engine subscription, its timers and the process's timers;
 * - heartbeats; another user's portfolio stream is 404 like a missing one; no caller → 401.
 * No timing is asserted: waits only wait for something to happen.
 */
import type { FoliokitEvent, Portfolio } from '@foliokit/core';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, dropSchema, PG_URL, schemaName } from '../../store-postgres/test/support/pg.js';
import type { FoliokitRouterOptions } from '../src/options.js';
import { createFoliokitRouter, type FoliokitRouter } from '../src/router.js';
import { streamHubOf } from '../src/routes/streams.js';
import { SseClient, type StreamEvent } from '../src/sse/client.js';
import { parseEventId } from '../src/sse/event-id.js';
import type { StreamEnvelope } from '../src/sse/frame.js';
import { frameOf } from '../src/sse/frame.js';
import type { StreamHub } from '../src/sse/hub.js';
import { RingBuffer } from '../src/sse/ring-buffer.js';
import { createParser, openSse, type SseConnection, type SseMessage } from './support/sse-client.js';

const ALICE = { 'x-test-user': 'alice' };
const BOB = { 'x-test-user': 'bob' };
const NO_LIMITS = { windowMs: 60_000, max: 1_000_000 };

/** Callers from a test header. */
const resolve = async (request: Request) => {
  const userId = request.headers.get('x-test-user');
  return userId === null ? null : { userId, roles: [] };
};

interface Running {
  url: string;
  router: FoliokitRouter;
  hub: StreamHub;
  test: TestEngine;
  /** Engine `onAny` subscriptions currently held (by anyone). */
  anyListeners(): number;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An engine, a router over it with these stream options (and these router options), and a real server. */
async function start(
  streams: Record<string, unknown> = {},
  test?: TestEngine,
  more: Partial<FoliokitRouterOptions> = {},
): Promise<Running> {
  const engineTest = test ?? createTestEngine({ prices: { AAPL: '150', MSFT: '300', GOOG: '100' } });
  let listeners = 0;
  const onAny = engineTest.engine.onAny.bind(engineTest.engine);
  engineTest.engine.onAny = (listener) => {
    listeners++;
    const off = onAny(listener);
    let active = true;
    return () => {
      if (active) listeners--;
      active = false;
      off();
    };
  };
  const router = createFoliokitRouter(engineTest.engine, {
    auth: { resolve },
    streams,
    rateLimits: { trades: NO_LIMITS, market: NO_LIMITS, admin: NO_LIMITS },
    ...more,
  });
  const hub = streamHubOf(router.deps)!;
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((done) => {
    const s = serve({ fetch: router.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      done({ server: s, port: info.port }),
    );
  });
  cleanups.push(async () => {
    hub.close();
    await router.close();
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((done) => server.close(() => done()));
    if (!test) await engineTest.close();
  });
  return { url: `http://127.0.0.1:${port}`, router, hub, test: engineTest, anyListeners: () => listeners };
}

/** Opens a stream and closes it after the test. */
async function sse(url: string, headers: Record<string, string> = ALICE, lastEventId?: string) {
  const connection = await openSse(url, { headers, ...(lastEventId === undefined ? {} : { lastEventId }) });
  cleanups.push(() => connection.close());
  return connection;
}

async function alicePortfolio(run: Running, cash = '10000'): Promise<Portfolio> {
  return run.test.engine.createPortfolio({ name: 'Alice', ownerId: 'alice', initialCash: cash });
}

/** Waits until `condition` holds (checked on every turn of the event loop; fails after 10 s). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!condition()) throw new Error(`Timed out waiting until ${what}`);
}

/** The envelope `{ type, id, at, data }` an event's `data:` carries. */
const envelope = (m: SseMessage) => JSON.parse(m.data) as StreamEnvelope<Record<string, unknown>>;
/** The payload of an event (its envelope's `data`). */
const data = (m: SseMessage) => envelope(m).data;
const ids = (messages: SseMessage[]) =>
  messages.filter((m) => m.id !== undefined && m.event !== 'reset').map((m) => m.id);
const events = (c: SseConnection) => c.messages.map((m) => m.event);

/** The router's gauge of open SSE clients. */
function sseGauge(run: Running): number | undefined {
  return sseGaugeOf(run.router);
}

function sseGaugeOf(router: FoliokitRouter): number | undefined {
  const sample = router.deps.metrics.render('json').foliokit_sse_clients?.samples[0];
  return sample && 'value' in sample ? sample.value : undefined;
}

/** A `price.updated` event as the engine emits it (for bursts the price book would take long to make). */
function priceEvent(symbol: string, price: string, source = 'test'): FoliokitEvent {
  return {
    type: 'price.updated',
    symbol,
    price,
    previousPrice: null,
    at: '2026-01-05T10:00:00.000Z',
    source,
    currency: 'USD',
  };
}

describe('portfolio stream', () => {
  it('delivers a trade made over REST, then the new valuation, with retry and ids', async () => {
    const run = await start({ valuationDelayMs: 10 });
    const portfolio = await alicePortfolio(run);
    const stream = await sse(`${run.url}/stream/portfolios/${portfolio.id}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');

    const res = await fetch(`${run.url}/portfolios/${portfolio.id}/trades`, {
      method: 'POST',
      headers: { ...ALICE, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'AAPL', side: 'buy', quantity: '10' }),
    });
    expect(res.status).toBe(201);

    const trade = await stream.waitForEvent('trade.executed');
    const tx = data(trade).transaction as Record<string, unknown>;
    expect(data(trade).portfolioId).toBe(portfolio.id);
    expect(tx.symbol).toBe('AAPL');
    expect(tx.quantity).toBe('10');
    expect(tx.price).toBe('150');
    const valuation = await stream.waitForEvent('valuation');
    expect(data(valuation)).toMatchObject({ portfolioId: portfolio.id, cash: '8500' });
    expect(data(valuation).positions).toEqual([expect.objectContaining({ symbol: 'AAPL', quantity: '10' })]);
    expect(stream.retry).toBe(3000);
    // Ids are this hub's, increasing.
    const seqs = ids(stream.messages).map((id) => parseEventId(id!)!);
    expect(seqs.every((s) => s.epoch === run.hub.epoch)).toBe(true);
    expect(seqs.map((s) => s.seq)).toEqual([...seqs.map((s) => s.seq)].sort((a, b) => a - b));
  });

  it('wraps every event in the envelope { type, id, at, data }, at from the engine clock', async () => {
    const run = await start({ valuationDelayMs: 10, bufferSize: 2 });
    const portfolio = await alicePortfolio(run);
    const stream = await sse(`${run.url}/stream/portfolios/${portfolio.id}`);
    await until(() => run.hub.stats().clients === 1, 'connected');
    await run.test.clock.advance(60_000);
    const recordedAt = new Date(run.test.clock.now()).toISOString();
    await run.test.engine.deposit(portfolio.id, { amount: '12.5' });
    const deposit = await stream.waitForEvent('cash.deposited');
    const valuation = await stream.waitForEvent('valuation');
    for (const m of [deposit, valuation]) {
      const e = envelope(m);
      expect(Object.keys(e).sort(), m.event).toEqual(['at', 'data', 'id', 'type']);
      expect(e.type).toBe(m.event);
      expect(e.id).toBe(m.id);
      expect(e.at).toBe(recordedAt);
    }
    // The payload is the event's fields, without the type the envelope carries.
    expect(envelope(deposit).data).toEqual({
      portfolioId: portfolio.id,
      transaction: expect.objectContaining({ kind: 'deposit', amount: '12.5' }),
    });
    expect(envelope(valuation).data).toMatchObject({ portfolioId: portfolio.id, cash: '10012.5' });
    // A reset too: three more events push the deposit out of the two-event buffer.
    for (let i = 0; i < 3; i++) await run.test.engine.deposit(portfolio.id, { amount: '1' });
    await stream.waitFor((all) => all.filter((m) => m.event === 'cash.deposited').length === 4, 'four deposits');
    const late = await sse(`${run.url}/stream/portfolios/${portfolio.id}`, ALICE, deposit.id);
    const reset = envelope(await late.waitForEvent('reset'));
    expect(Object.keys(reset).sort()).toEqual(['at', 'data', 'id', 'type']);
    expect(reset).toMatchObject({ type: 'reset', at: recordedAt, data: { reason: 'beyond-buffer' } });
    expect(reset.id).toBe(late.messages[0]?.id);
  });

  it('sends cash movements and a valuation after them; ends when the portfolio is deleted', async () => {
    const run = await start({ valuationDelayMs: 10 });
    const portfolio = await alicePortfolio(run);
    const stream = await sse(`${run.url}/stream/portfolios/${portfolio.id}`);
    await run.test.engine.withdraw(portfolio.id, { amount: '100.25' });
    expect(data(await stream.waitForEvent('cash.withdrawn')).transaction).toMatchObject({ amount: '-100.25' });
    expect(data(await stream.waitForEvent('valuation')).cash).toBe('9899.75');
    await run.test.engine.deletePortfolio(portfolio.id);
    await stream.waitForEvent('portfolio.deleted');
    await stream.done;
    expect(stream.ended).toBe(true);
    await until(() => run.hub.stats().clients === 0, 'the client is released');
  });

  it('values a burst of prices once per portfolio, for all its clients', async () => {
    const run = await start({ valuationDelayMs: 50 });
    const portfolio = await alicePortfolio(run);
    await run.test.engine.trade(portfolio.id, { symbol: 'AAPL', side: 'buy', quantity: '10' });
    const a = await sse(`${run.url}/stream/portfolios/${portfolio.id}`);
    const b = await sse(`${run.url}/stream/portfolios/${portfolio.id}`);
    await until(() => run.hub.stats().clients === 2, 'both clients are connected');
    let valuations = 0;
    const getValuation = run.test.engine.getValuation.bind(run.test.engine);
    run.test.engine.getValuation = (id) => {
      valuations++;
      return getValuation(id);
    };

    run.test.provider.setPrice('AAPL', '160');
    await run.test.engine.refreshPrices(['AAPL']);
    // More updates of the symbol in the same instant join the pending valuation.
    for (let i = 0; i < 20; i++) run.test.engine.emit(priceEvent('AAPL', '160'));
    // A price of a symbol it does not hold does not value it.
    run.test.engine.emit(priceEvent('GOOG', '101'));

    for (const client of [a, b]) {
      const v = await client.waitForEvent('valuation');
      expect(data(v).positions).toEqual([
        expect.objectContaining({ symbol: 'AAPL', price: '160', marketValue: '1600' }),
      ]);
    }
    expect(valuations).toBe(1);
    // The next change is valued again, once.
    await run.test.engine.deposit(portfolio.id, { amount: '1' });
    for (const client of [a, b]) {
      await client.waitForEvent('cash.deposited');
      expect(data(await client.waitForEvent('valuation')).cash).toBe('8501');
    }
    expect(valuations).toBe(2);
    expect(a.messages.map((m) => m.id)).toEqual(b.messages.map((m) => m.id));
  });

  it('answers 404 for another user portfolio (like a missing one) and 401 without a caller', async () => {
    const run = await start();
    const portfolio = await alicePortfolio(run);
    const bob = await openSse(`${run.url}/stream/portfolios/${portfolio.id}`, { headers: BOB });
    const missing = await openSse(`${run.url}/stream/portfolios/pf_missing`, { headers: ALICE });
    expect(bob.status).toBe(404);
    expect(missing.status).toBe(404);
    const body = (text: string | undefined, id: string) => {
      const { requestId: _r, ...rest } = JSON.parse(text!.replaceAll(id, '<ID>')) as Record<string, unknown>;
      return rest;
    };
    expect(body(bob.body, portfolio.id)).toEqual(body(missing.body, 'pf_missing'));
    expect(body(bob.body, portfolio.id)).toMatchObject({ code: 'PORTFOLIO_NOT_FOUND' });
    const anonymous = await openSse(`${run.url}/stream/portfolios/${portfolio.id}`, { headers: {} });
    expect(anonymous.status).toBe(401);
    expect(run.hub.stats()).toMatchObject({ clients: 0, streams: 0 });
  });
});

describe('price stream', () => {
  it('delivers price updates of the listed symbols only', async () => {
    const run = await start();
    const stream = await sse(`${run.url}/stream/prices?symbols=aapl,MSFT`);
    expect(stream.status).toBe(200);
    run.test.provider.setPrice('AAPL', '151.5');
    run.test.provider.setPrice('GOOG', '99');
    run.test.provider.setPrice('MSFT', '301');
    await run.test.engine.refreshPrices(['AAPL', 'GOOG', 'MSFT']);
    run.test.provider.setPrice('AAPL', '152');
    await run.test.engine.refreshPrices(['AAPL']);
    await stream.waitFor(
      (all) => all.some((m) => m.event === 'price.updated' && data(m).price === '152'),
      'AAPL at 152',
    );
    const prices = stream.messages.map((m) => [m.event, data(m).symbol, data(m).price]);
    expect(prices).toEqual(
      expect.arrayContaining([
        ['price.updated', 'AAPL', '151.5'],
        ['price.updated', 'MSFT', '301'],
      ]),
    );
    expect(prices.some(([, symbol]) => symbol === 'GOOG')).toBe(false);
  });

  it('refuses a bad symbol or too many symbols with a problem naming the field', async () => {
    const run = await start({ maxSymbols: 2 });
    const bad = await openSse(`${run.url}/stream/prices?symbols=AAPL,$$$`, { headers: ALICE });
    expect(bad.status).toBe(422);
    expect(JSON.parse(bad.body!).fields[0].path).toMatch(/^symbols/);
    const many = await openSse(`${run.url}/stream/prices?symbols=A,B,C`, { headers: ALICE });
    expect(many.status).toBe(422);
    const none = await openSse(`${run.url}/stream/prices`, { headers: ALICE });
    expect(none.status).toBe(422);
  });

  it('answers the stream with the router headers: security, request id, CORS, no buffering', async () => {
    const run = await start({}, undefined, { cors: { origins: ['https://app.example'] } });
    const stream = await sse(`${run.url}/stream/prices?symbols=AAPL`, {
      ...ALICE,
      'x-request-id': 'req-stream-1',
      origin: 'https://app.example',
    });
    expect(stream.status).toBe(200);
    const h = stream.headers;
    expect(h.get('content-type')).toBe('text/event-stream');
    expect(h.get('cache-control')).toBe('no-cache');
    expect(h.get('x-accel-buffering')).toBe('no');
    expect(h.get('x-content-type-options')).toBe('nosniff');
    expect(h.get('x-frame-options')).toBe('DENY');
    expect(h.get('referrer-policy')).toBe('no-referrer');
    expect(h.get('content-security-policy')).toContain("default-src 'none'");
    expect(h.get('x-request-id')).toBe('req-stream-1');
    expect(h.get('access-control-allow-origin')).toBe('https://app.example');
    // The adapter's marker stays between the route and the adapter.
    expect(h.get('x-hono-already-sent')).toBeNull();
    await until(() => run.hub.stats().clients === 1, 'connected');
    run.test.engine.emit(priceEvent('AAPL', '151'));
    expect(data(await stream.waitForEvent('price.updated')).price).toBe('151');
  });

  it('delivers a burst to many clients, every event in order to each', async () => {
    const run = await start({ heartbeatMs: 3_600_000 });
    const clients = await Promise.all(Array.from({ length: 20 }, () => sse(`${run.url}/stream/prices?symbols=AAPL`)));
    await until(() => run.hub.stats().clients === 20, 'twenty clients are connected');
    const prices = Array.from({ length: 200 }, (_, i) => String(i + 1));
    for (const price of prices) run.test.engine.emit(priceEvent('AAPL', price));
    for (const client of clients) {
      await client.waitFor((all) => all.length === prices.length, 'every event');
      expect(client.messages.map((m) => data(m).price)).toEqual(prices);
    }
    expect(new Set(clients.map((c) => c.messages.map((m) => m.id).join()))).toHaveProperty('size', 1);
  });

  it('sends heartbeats while quiet', async () => {
    const run = await start({ heartbeatMs: 20 });
    const stream = await sse(`${run.url}/stream/prices?symbols=AAPL`);
    await stream.waitFor(() => stream.comments.includes('heartbeat'), 'a heartbeat');
    expect(stream.comments).toContain('heartbeat');
  });
});

describe('Last-Event-ID', () => {
  it('resumes with every missed event, in order, no gap and no duplicate (header and query)', async () => {
    const run = await start({ valuationDelayMs: 5 });
    const portfolio = await alicePortfolio(run);
    const url = `${run.url}/stream/portfolios/${portfolio.id}`;
    const witness = await sse(url);
    const first = await sse(url);
    const { engine } = run.test;

    await engine.trade(portfolio.id, { symbol: 'AAPL', side: 'buy', quantity: '1' });
    await first.waitForEvent('valuation');
    await first.close();
    await until(() => run.hub.stats().clients === 1, 'the first client is gone');

    // Missed while away: a trade, two deposits, their valuations.
    await engine.trade(portfolio.id, { symbol: 'MSFT', side: 'buy', quantity: '2' });
    await engine.deposit(portfolio.id, { amount: '5' });
    await witness.waitFor((all) => all.filter((m) => m.event === 'valuation').length >= 2, 'two valuations');
    await engine.deposit(portfolio.id, { amount: '7' });
    await witness.waitFor((all) => all.filter((m) => m.event === 'valuation').length >= 3, 'three valuations');

    const second = await sse(url, ALICE, first.lastEventId);
    const third = await openSse(`${url}?lastEventId=${encodeURIComponent(first.lastEventId!)}`, { headers: ALICE });
    cleanups.push(() => third.close());
    // Then live events.
    await engine.deposit(portfolio.id, { amount: '9' });
    const lastId = () => witness.messages.at(-1)?.id;
    await witness.waitFor((all) => all.filter((m) => m.event === 'valuation').length >= 4, 'four valuations');
    await second.waitFor((all) => all.at(-1)?.id === lastId(), 'the second client catches up');
    await third.waitFor((all) => all.at(-1)?.id === lastId(), 'the third client catches up');

    expect(events(second)).not.toContain('reset');
    expect([...ids(first.messages), ...ids(second.messages)]).toEqual(ids(witness.messages));
    expect([...ids(first.messages), ...ids(third.messages)]).toEqual(ids(witness.messages));
    // The first one missed comes first.
    expect(events(second)[0]).toBe('trade.executed');
    expect(events(second).filter((e) => e === 'cash.deposited')).toHaveLength(3);
  });

  it('sends a reset beyond the buffer, then live events', async () => {
    const run = await start({ bufferSize: 3, valuationDelayMs: 5 });
    const portfolio = await alicePortfolio(run);
    const url = `${run.url}/stream/portfolios/${portfolio.id}`;
    const witness = await sse(url);
    const first = await sse(url);
    await run.test.engine.deposit(portfolio.id, { amount: '1' });
    await first.waitForEvent('valuation');
    await first.close();
    for (let i = 0; i < 4; i++) await run.test.engine.deposit(portfolio.id, { amount: '1' });
    await witness.waitFor((all) => all.filter((m) => m.event === 'cash.deposited').length === 5, 'five deposits');
    // And their valuation, so no event of theirs comes after the reset below.
    await witness.waitFor(
      (all) => all.some((m) => m.event === 'valuation' && data(m).cash === '10005'),
      'the valuation after the five deposits',
    );

    const second = await sse(url, ALICE, first.lastEventId);
    const reset = await second.waitForEvent('reset');
    expect(data(reset).reason).toBe('beyond-buffer');
    expect(second.messages[0]?.event).toBe('reset');
    await run.test.engine.deposit(portfolio.id, { amount: '2' });
    expect(data(await second.waitForEvent('cash.deposited')).transaction).toMatchObject({ amount: '2' });
    // A reconnect after the reset resumes from it without another reset.
    const third = await sse(url, ALICE, reset.id);
    await run.test.engine.deposit(portfolio.id, { amount: '3' });
    await third.waitFor(
      (all) =>
        all.some(
          (m) =>
            m.event === 'cash.deposited' &&
            data(m).transaction !== undefined &&
            (data(m).transaction as { amount: string }).amount === '3',
        ),
      'the deposit of 3',
    );
    expect(events(third)).not.toContain('reset');
    expect(events(third)[0]).toBe('cash.deposited');
  });

  it('sends a reset for an unknown id and for an id of an earlier run', async () => {
    const earlier = await start();
    const run = await start({}, earlier.test);
    expect(run.hub.epoch).not.toBe(earlier.hub.epoch);
    const portfolio = await alicePortfolio(run);
    const url = `${run.url}/stream/portfolios/${portfolio.id}`;
    const old = await sse(`${earlier.url}/stream/portfolios/${portfolio.id}`);
    await run.test.engine.deposit(portfolio.id, { amount: '1' });
    await old.waitForEvent('cash.deposited');

    for (const lastEventId of [old.lastEventId!, 'garbage', `${run.hub.epoch}-999999`]) {
      const stream = await sse(url, ALICE, lastEventId);
      expect(data(await stream.waitForEvent('reset')).reason).toBe('unknown-id');
    }
  });

  it('sends a reset to every client when the event transport reports a gap', async () => {
    const run = await start();
    const portfolio = await alicePortfolio(run);
    const url = `${run.url}/stream/portfolios/${portfolio.id}`;
    const stream = await sse(url);
    const prices = await sse(`${run.url}/stream/prices?symbols=AAPL`);
    await run.test.engine.deposit(portfolio.id, { amount: '1' });
    await stream.waitForEvent('cash.deposited');
    const before = stream.lastEventId!;
    run.test.engine.emit({ type: 'events.gap' } as unknown as FoliokitEvent);
    expect(data(await stream.waitForEvent('reset')).reason).toBe('gap');
    expect(data(await prices.waitForEvent('reset')).reason).toBe('gap');
    // An id from before the gap can no longer resume.
    const again = await sse(url, ALICE, before);
    expect(data(await again.waitForEvent('reset')).reason).toBe('beyond-buffer');
  });
});

describe('slow clients and resources', () => {
  it('drops a client that stops reading while another receives every event in order', async () => {
    const run = await start({ clientQueueEvents: 64, heartbeatMs: 3_600_000 });
    const url = `${run.url}/stream/prices?symbols=SLOW`;
    const fast = await sse(url);
    const slow = await sse(url);
    await until(() => run.hub.stats().clients === 2, 'both clients are connected');
    slow.pause();
    const padding = 'x'.repeat(2000);
    let sent = 0;
    // About 5 MB fill the sockets' buffers before the queue grows; 40 MB are sent at most.
    for (let batch = 0; batch < 400 && run.hub.stats().dropped === 0; batch++) {
      for (let i = 0; i < 50; i++) run.test.engine.emit(priceEvent('SLOW', String(++sent), padding));
      await fast.waitFor((all) => all.length === sent, `event ${sent} on the fast client`);
    }
    expect(run.hub.stats()).toMatchObject({ dropped: 1, clients: 1 });
    // The fast client got every event, in order, no gap, no duplicate.
    expect(fast.messages.map((m) => data(m).price)).toEqual(Array.from({ length: sent }, (_, i) => String(i + 1)));
    const seqs = fast.messages.map((m) => parseEventId(m.id!)!.seq);
    expect(new Set(seqs).size).toBe(sent);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // The slow one was cut off: reading again ends its stream short of the events.
    slow.resume();
    await slow.done;
    expect(slow.ended).toBe(true);
    expect(slow.messages.length).toBeLessThan(sent);
    // And keeps getting nothing: the fast one still does.
    run.test.engine.emit(priceEvent('SLOW', 'after'));
    await fast.waitFor((all) => all.at(-1) !== undefined && data(all.at(-1)!).price === 'after', 'the next event');
    expect(sseGauge(run)).toBe(1);
  });

  it('frees streams, the engine subscription and timers when clients disconnect', async () => {
    const run = await start({ lingerMs: 0, heartbeatMs: 1000, valuationDelayMs: 60_000 });
    const a = await alicePortfolio(run);
    const b = await alicePortfolio(run);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const baseline = { any: run.anyListeners(), timers: timers(), stats: run.hub.stats() };
    expect(baseline.stats).toMatchObject({ streams: 0, clients: 0, engineSubscriptions: 0, timers: 0 });

    const clients = await Promise.all([
      sse(`${run.url}/stream/portfolios/${a.id}`),
      sse(`${run.url}/stream/portfolios/${a.id}`),
      sse(`${run.url}/stream/portfolios/${b.id}`),
      sse(`${run.url}/stream/prices?symbols=AAPL`),
      sse(`${run.url}/stream/prices?symbols=MSFT`),
    ]);
    await until(() => run.hub.stats().clients === 5, 'five clients are connected');
    // A pending valuation timer too.
    await run.test.engine.deposit(a.id, { amount: '1' });
    await clients[0]!.waitForEvent('cash.deposited');
    // One engine subscription for the whole hub, not one per client or per stream.
    expect(run.anyListeners()).toBe(baseline.any + 1);
    expect(run.hub.stats()).toMatchObject({ streams: 3, clients: 5, engineSubscriptions: 1 });
    expect(run.hub.stats().timers).toBe(2); // heartbeat + the pending valuation
    expect(sseGauge(run)).toBe(5);

    await clients[0]!.close();
    await until(() => run.hub.stats().clients === 4, 'one client is gone');
    expect(run.hub.stats().streams).toBe(3);
    await Promise.all(clients.map((c) => c.close()));
    await until(() => run.hub.stats().clients === 0, 'every client is gone');
    expect(run.hub.stats()).toMatchObject({ streams: 0, clients: 0, engineSubscriptions: 0, timers: 0 });
    expect(run.anyListeners()).toBe(baseline.any);
    expect(sseGauge(run)).toBe(0);
    await until(() => timers() <= baseline.timers, 'the process holds no more timers than before');
  });

  it('keeps a stream for lingerMs after its last client, then frees it', async () => {
    const run = await start({ lingerMs: 30 });
    const stream = await sse(`${run.url}/stream/prices?symbols=AAPL`);
    await until(() => run.hub.stats().clients === 1, 'connected');
    await stream.close();
    await until(() => run.hub.stats().clients === 0, 'disconnected');
    await until(() => run.hub.stats().streams === 0, 'the stream is freed after its linger');
    expect(run.hub.stats()).toMatchObject({ engineSubscriptions: 0, timers: 0 });
  });

  it('refuses bad stream options at start, naming the option', () => {
    const test = createTestEngine();
    cleanups.push(() => test.close());
    expect(() => createFoliokitRouter(test.engine, { auth: { resolve }, streams: { heartbeatMs: 0 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIGURATION', details: { field: 'options.streams.heartbeatMs' } }),
    );
    expect(() => createFoliokitRouter(test.engine, { auth: { resolve }, streams: { bufferSiz: 5 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIGURATION' }),
    );
  });
});

describe('across instances on PostgreSQL', () => {
  /** Resolves once the store's transport listens (a probe shares the relay's listening connection). */
  async function listening(store: PostgresStore): Promise<void> {
    const probe = store.events!.subscribe(() => {});
    await probe.ready;
    await probe.close();
  }

  /** An instance: its own store and pool on the shared schema, its own engine, router and server. */
  async function instance(schema: string): Promise<Running & { store: PostgresStore }> {
    const store = await createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 });
    const test = createTestEngine({ store, prices: { AAPL: '150' } });
    cleanups.push(async () => {
      await test.close();
      await store.close();
    });
    const run = await start({ valuationDelayMs: 5 }, test);
    await listening(store);
    return { ...run, store };
  }

  it('a trade and a price through A reach clients of B; a dropped NOTIFY connection sends a reset', async () => {
    const schema = schemaName('sse');
    cleanups.push(() => dropSchema(schema));
    const a = await instance(schema);
    const b = await instance(schema);
    const portfolio = await alicePortfolio(a);
    const onB = await sse(`${b.url}/stream/portfolios/${portfolio.id}`);
    const pricesOnB = await sse(`${b.url}/stream/prices?symbols=AAPL`);
    await until(() => b.hub.stats().clients === 2, 'both clients are connected to B');

    const res = await fetch(`${a.url}/portfolios/${portfolio.id}/trades`, {
      method: 'POST',
      headers: { ...ALICE, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'AAPL', side: 'buy', quantity: '10' }),
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { id: string };
    const trade = data(await onB.waitForEvent('trade.executed'));
    expect(trade.transaction).toMatchObject({ id: made.id, symbol: 'AAPL', quantity: '10', price: '150' });
    expect(trade).not.toHaveProperty('origin');
    const valuation = data(await onB.waitForEvent('valuation'));
    expect(valuation.positions).toEqual([expect.objectContaining({ symbol: 'AAPL', quantity: '10' })]);

    a.test.provider.setPrice('AAPL', '155.5');
    await a.test.engine.refreshPrices(['AAPL']);
    await pricesOnB.waitFor(
      (all) => all.some((m) => m.event === 'price.updated' && data(m).price === '155.5'),
      'the price made on A',
    );
    expect(pricesOnB.messages.map((m) => data(m).symbol)).toEqual(pricesOnB.messages.map(() => 'AAPL'));

    // B's listening connection dies: it comes back, and B's clients are told to refetch.
    const pid = (b.store.events as unknown as { pid: number | null }).pid;
    expect(pid).toBeTypeOf('number');
    await admin('select pg_terminate_backend($1)', [pid]);
    expect(data(await onB.waitForEvent('reset')).reason).toBe('gap');
    expect(data(await pricesOnB.waitForEvent('reset')).reason).toBe('gap');
    // Then events flow again.
    await listening(b.store);
    await a.test.engine.deposit(portfolio.id, { amount: '12.5' });
    expect(data(await onB.waitForEvent('cash.deposited')).transaction).toMatchObject({ amount: '12.5' });
  });
});

describe('without @hono/node-server (web streams, app.request)', () => {
  it('streams retry, live events and heartbeats; a cancelled stream frees its client', async () => {
    const test = createTestEngine({ prices: { AAPL: '150' } });
    const router = createFoliokitRouter(test.engine, { auth: { resolve }, streams: { heartbeatMs: 20 } });
    const hub = streamHubOf(router.deps)!;
    cleanups.push(async () => {
      await router.close();
      await test.close();
    });
    const res = await router.request('/stream/prices?symbols=AAPL', { headers: { ...ALICE, 'x-request-id': 'req-2' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toBe('req-2');
    expect(res.headers.get('x-hono-already-sent')).toBeNull();

    const messages: SseMessage[] = [];
    const comments: string[] = [];
    let retry: number | undefined;
    const parser = createParser({
      onMessage: (m) => messages.push(m),
      onComment: (text) => comments.push(text),
      onRetry: (ms) => {
        retry = ms;
      },
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error('the stream ended');
        parser.push(chunk.value);
      }
    };
    await readUntil(() => retry !== undefined);
    expect(retry).toBe(3000);
    expect(hub.stats().clients).toBe(1);
    test.engine.emit(priceEvent('MSFT', '1'));
    test.engine.emit(priceEvent('AAPL', '151'));
    await readUntil(() => messages.length > 0);
    expect(messages.map((m) => [m.event, data(m).symbol, data(m).price])).toEqual([['price.updated', 'AAPL', '151']]);
    expect(envelope(messages[0]!).id).toBe(messages[0]!.id);
    await readUntil(() => comments.includes('heartbeat'));

    await reader.cancel();
    await until(() => hub.stats().clients === 0, 'the client is released');
    expect(sseGaugeOf(router)).toBe(0);
  });
});

describe('client queue on a sink', () => {
  /** A sink that takes `room` writes, then reports full until told otherwise. */
  function sink(room: number) {
    const written: string[] = [];
    const batches: number[] = [];
    const closed: string[] = [];
    const decoder = new TextDecoder();
    const state = {
      room,
      written,
      batches,
      closed,
      write(bytes: Uint8Array) {
        written.push(decoder.decode(bytes));
        state.room--;
        return state.room > 0;
      },
      writeAll(chunks: readonly Uint8Array[]) {
        batches.push(chunks.length);
        let ok = true;
        for (const c of chunks) ok = state.write(c);
        return ok;
      },
      close(reason: string) {
        closed.push(reason);
      },
    };
    return state;
  }
  const event = (n: number): StreamEvent => ({
    seq: n,
    id: `e-${n}`,
    type: 'price.updated',
    frame: frameOf(`${n}\n\n`),
  });

  it('writes at once while the sink takes frames, queues while it is full, flushes on drain in order', () => {
    const client = new SseClient({ maxEvents: 3, maxBytes: 1000 }, undefined);
    client.preload([frameOf('retry: 1\n\n')]);
    const out = sink(3);
    client.attach(out);
    for (const n of [1, 2]) client.deliver(event(n));
    expect(out.written).toEqual(['retry: 1\n\n', '1\n\n', '2\n\n']);
    // Full: the next ones wait, in order, under the bound.
    for (const n of [3, 4, 5]) client.deliver(event(n));
    expect(client.queued).toBe(3);
    out.room = 10;
    client.drained();
    expect(out.written.slice(3)).toEqual(['3\n\n', '4\n\n', '5\n\n']);
    expect(out.batches).toEqual([3]);
    expect(client.queued).toBe(0);
    client.deliver(event(6));
    expect(out.written.at(-1)).toBe('6\n\n');
  });

  it('drops a client whose queue overflows (the sink is closed, the queue released)', () => {
    const client = new SseClient({ maxEvents: 2, maxBytes: 1000 }, undefined);
    const out = sink(1);
    client.attach(out);
    for (const n of [1, 2, 3, 4]) client.deliver(event(n));
    expect(client.closeReason).toBe('overflow');
    expect(client.queued).toBe(0);
    expect(out.closed).toEqual(['overflow']);
    client.drained();
    client.deliver(event(5));
    expect(out.written).toEqual(['1\n\n']);
  });

  it('writes what is queued when its stream ends, then ends', () => {
    const client = new SseClient({ maxEvents: 10, maxBytes: 1000 }, undefined);
    const out = sink(1);
    client.attach(out);
    for (const n of [1, 2, 3]) client.deliver(event(n));
    client.close('stream-closed');
    expect(out.written).toEqual(['1\n\n', '2\n\n', '3\n\n']);
    expect(out.closed).toEqual(['stream-closed']);
  });
});

describe('ring buffer', () => {
  it('keeps the last items, oldest first, and finds those after a point', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.push(1)).toBeUndefined();
    ring.push(2);
    ring.push(3);
    expect(ring.push(4)).toBe(1);
    expect(ring.push(5)).toBe(2);
    expect(ring.from(() => true)).toEqual([3, 4, 5]);
    expect(ring.from((n) => n > 3)).toEqual([4, 5]);
    expect(ring.from((n) => n > 5)).toEqual([]);
    ring.clear();
    expect(ring.length).toBe(0);
  });
});
