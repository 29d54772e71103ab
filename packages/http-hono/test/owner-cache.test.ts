/**
 * The owner cache (`src/owner-cache.ts`) and the fast paths of the router:
 * - unit: a deleted portfolio (local, or relayed from another instance) is forgotten, `events.gap`
 *   forgets everything, a lookup that raced a delete stores nothing, entries expire and are bounded;
 * - through the router: once the owner is known, another user still gets the same 404, and a
 *   portfolio deleted through another instance (the store changed behind this engine, then the
 *   relayed event) answers 404 on its routes;
 * - on a real server (`@hono/node-server`), where bodies are read from the Node request: a valid
 *   trade, a body over the limit (413, nothing stored), a body in several chunks, malformed JSON.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Portfolio } from '@foliokit/core';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOwnerCache } from '../src/owner-cache.js';
import { createFoliokitRouter, type FoliokitRouter } from '../src/router.js';

const resolve = async (request: Request) => {
  const userId = request.headers.get('x-test-user');
  return userId === null ? null : { userId, roles: [] };
};
const ALICE = { 'x-test-user': 'alice' };
const BOB = { 'x-test-user': 'bob' };

describe('createOwnerCache', () => {
  let test: TestEngine;
  beforeEach(() => {
    test = createTestEngine();
  });
  afterEach(() => test.close());

  it('remembers owners and forgets a portfolio deleted here or through another instance', () => {
    const cache = createOwnerCache(test.engine);
    cache.set('pf_a', 'alice', cache.begin());
    cache.set('pf_b', 'bob', cache.begin());
    expect(cache.get('pf_a')).toBe('alice');
    test.engine.emit({ type: 'portfolio.deleted', portfolioId: 'pf_a', ownerId: 'alice' });
    expect(cache.get('pf_a')).toBeUndefined();
    test.engine.emit({ type: 'portfolio.deleted', portfolioId: 'pf_b', ownerId: 'bob', origin: 'remote' });
    expect(cache.get('pf_b')).toBeUndefined();
    cache.close();
  });

  it('forgets everything on events.gap', () => {
    const cache = createOwnerCache(test.engine);
    cache.set('pf_a', 'alice', cache.begin());
    test.engine.emit({ type: 'events.gap', reason: 'reconnected' });
    expect(cache.size).toBe(0);
    cache.close();
  });

  it('does not store an owner read before a delete it did not see', () => {
    const cache = createOwnerCache(test.engine);
    const token = cache.begin();
    test.engine.emit({ type: 'portfolio.deleted', portfolioId: 'pf_a', ownerId: 'alice', origin: 'remote' });
    cache.set('pf_a', 'alice', token);
    expect(cache.get('pf_a')).toBeUndefined();
    cache.close();
  });

  it('expires entries (engine clock) and keeps at most its capacity, least recently used first', async () => {
    const cache = createOwnerCache(test.engine, 2, 1_000);
    cache.set('pf_a', 'alice', cache.begin());
    cache.set('pf_b', 'bob', cache.begin());
    expect(cache.get('pf_a')).toBe('alice'); // pf_b is now the least recently used
    cache.set('pf_c', 'carol', cache.begin());
    expect([cache.get('pf_a'), cache.get('pf_b'), cache.get('pf_c')]).toEqual(['alice', undefined, 'carol']);
    await test.clock.advance(1_000);
    expect(cache.get('pf_a')).toBeUndefined();
    cache.close();
  });

  it('stops listening once closed', () => {
    const cache = createOwnerCache(test.engine);
    cache.close();
    cache.set('pf_a', 'alice', cache.begin());
    expect(cache.size).toBe(0);
  });
});

describe('ownership through the owner cache', () => {
  let test: TestEngine;
  let app: FoliokitRouter;
  let portfolio: Portfolio;
  beforeEach(async () => {
    test = createTestEngine({ prices: { AAPL: '150' } });
    app = createFoliokitRouter(test.engine, { auth: { resolve } });
    portfolio = await test.engine.createPortfolio({ name: 'A', ownerId: 'alice', initialCash: '1000' });
  });
  afterEach(async () => {
    await app.close();
    await test.close();
  });

  const get = (path: string, headers: Record<string, string>) => app.request(path, { headers });
  const withoutRequestId = async (res: Response) => {
    const body = (await res.json()) as Record<string, unknown>;
    delete body.requestId;
    return body;
  };

  it('answers another user the same 404 as a missing portfolio once the owner is known', async () => {
    for (let i = 0; i < 2; i++) {
      const mine = await get(`/portfolios/${portfolio.id}`, ALICE);
      expect(mine.status).toBe(200);
      expect(((await mine.json()) as Portfolio).id).toBe(portfolio.id);
    }
    const theirs = await get(`/portfolios/${portfolio.id}/valuation`, BOB);
    const missingId = 'pf_0000000000000000000000';
    const missing = await get(`/portfolios/${missingId}/valuation`, BOB);
    expect([theirs.status, missing.status]).toEqual([404, 404]);
    const a = JSON.stringify(await withoutRequestId(theirs)).replaceAll(portfolio.id, '<ID>');
    const b = JSON.stringify(await withoutRequestId(missing)).replaceAll(missingId, '<ID>');
    expect(a).toBe(b);
  });

  it('answers 404 once a delete through another instance is relayed', async () => {
    expect((await get(`/portfolios/${portfolio.id}/transactions`, ALICE)).status).toBe(200);
    // another instance deletes it: the shared store changes, then the relay re-emits its event here
    expect(await test.store.deletePortfolio(portfolio.id)).toBe(true);
    test.engine.emit({ type: 'portfolio.deleted', portfolioId: portfolio.id, ownerId: 'alice', origin: 'remote' });
    for (const path of ['', '/transactions', '/valuation', '/positions', '/watchlist']) {
      expect((await get(`/portfolios/${portfolio.id}${path}`, ALICE)).status, path).toBe(404);
    }
  });

  it('answers 404 after a delete through this router', async () => {
    expect((await get(`/portfolios/${portfolio.id}/transactions`, ALICE)).status).toBe(200);
    expect((await app.request(`/portfolios/${portfolio.id}`, { method: 'DELETE', headers: ALICE })).status).toBe(204);
    expect((await get(`/portfolios/${portfolio.id}/transactions`, ALICE)).status).toBe(404);
  });
});

describe('request bodies on a real server', () => {
  let test: TestEngine;
  let app: FoliokitRouter;
  let server: ReturnType<typeof serve>;
  let port: number;
  let portfolio: Portfolio;
  beforeEach(async () => {
    test = createTestEngine({ prices: { AAPL: '150' } });
    app = createFoliokitRouter(test.engine, { auth: { resolve }, bodyLimit: 1024 });
    portfolio = await test.engine.createPortfolio({ name: 'A', ownerId: 'alice', initialCash: '100000' });
    await new Promise<void>((ready) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => ready());
    });
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await new Promise((done) => server.close(done));
    await app.close();
    await test.close();
  });

  /** POSTs `chunks` one write each (no Content-Length: chunked), or as one body with its length. */
  function post(path: string, chunks: string[], chunked = false): Promise<{ status: number; body: string }> {
    return new Promise((done, fail) => {
      const headers: Record<string, string | number> = { ...ALICE, 'content-type': 'application/json' };
      if (!chunked) headers['content-length'] = Buffer.byteLength(chunks.join(''));
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    });
  }

  const trades = () => test.engine.listTransactions(portfolio.id, { kinds: ['buy'] });

  it('reads a trade body, whole or in chunks', async () => {
    const path = `/portfolios/${portfolio.id}/trades`;
    const whole = await post(path, [JSON.stringify({ symbol: 'AAPL', side: 'buy', quantity: '1' })]);
    expect(whole.status).toBe(201);
    const parts = await post(path, ['{"symbol":"AAPL",', '"side":"buy",', '"quantity":"2"}'], true);
    expect(parts.status).toBe(201);
    expect((await trades()).items.map((t) => t.quantity).sort()).toEqual(['1', '2']);
  });

  it('refuses a body over the limit (413, declared or streamed) and malformed JSON (400), storing nothing', async () => {
    const path = `/portfolios/${portfolio.id}/trades`;
    const big = JSON.stringify({ symbol: 'AAPL', side: 'buy', quantity: '1', note: 'x'.repeat(2000) });
    expect((await post(path, [big])).status).toBe(413);
    expect((await post(path, [big.slice(0, 900), big.slice(900)], true)).status).toBe(413);
    const malformed = await post(path, ['{"symbol":'], true);
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body).code).toBe('MALFORMED_JSON');
    expect((await trades()).items).toEqual([]);
  });
});
