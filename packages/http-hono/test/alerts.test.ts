/**
 * The alert routes over real HTTP (127.0.0.1) on a real SQLite file store: create (201 +
 * Location, the owner always the caller), list (the caller's only, pages, `portfolioId`), read,
 * change (`active`, `threshold`, `coolDownMs`, checked per kind), delete (204); another user's
 * alert and a missing one answer the same 404; a portfolio alert on another user's portfolio
 * answers the same 404 as a missing portfolio; an alert created over HTTP fires (`alert.triggered`)
 * on a price update, evaluated by the evaluator the router started.
 */
import type { AlertTriggeredEvent } from '@foliokit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type ServedRouter, serveRouter } from './support/served-router.js';

let s: ServedRouter;

beforeAll(async () => {
  s = await serveRouter();
});
afterAll(async () => {
  await s.close();
});

/** A problem body without its request id, to compare two answers. */
function comparable(a: Answer, ...ids: string[]): string {
  let text = JSON.stringify({ ...a.body, requestId: undefined });
  for (const id of ids) text = text.replaceAll(id, '<ID>');
  return text;
}

describe('alerts CRUD', () => {
  it('creates an alert owned by the caller, with a Location, and reads it back', async () => {
    const created = await s.request('POST', '/alerts', {
      json: { kind: 'above', symbol: 'aaa', threshold: '12.5', coolDownMs: 60_000 },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/alerts/${created.body.id}`);
    expect(created.body).toMatchObject({ kind: 'above', symbol: 'AAA', threshold: '12.5', active: true });
    expect(created.body.ownerId).toBeUndefined();
    const stored = (await s.engine.store.listAlerts?.({ id: created.body.id })) ?? [];
    expect(stored[0]?.ownerId).toBe('alice');

    const read = await s.request('GET', created.headers.get('location') as string);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('never takes the owner from the body', async () => {
    const res = await s.request('POST', '/alerts', {
      json: { kind: 'below', symbol: 'AAA', threshold: '5', ownerId: 'bob' },
    });
    expect(res.status).toBe(422);
    expect(res.body.fields).toEqual([{ path: 'ownerId', message: 'unknown field', in: 'body' }]);
  });

  it('refuses bad input naming the field, and an unknown symbol', async () => {
    const negative = await s.request('POST', '/alerts', { json: { kind: 'above', symbol: 'AAA', threshold: '-1' } });
    expect(negative.status).toBe(422);
    expect(negative.body.fields[0].path).toBe('threshold');
    const noWindow = await s.request('POST', '/alerts', { json: { kind: 'change', symbol: 'AAA', threshold: '5' } });
    expect(noWindow.status).toBe(422);
    expect(noWindow.body.fields[0].path).toBe('window');
    const unknown = await s.request('POST', '/alerts', { json: { kind: 'above', symbol: 'ZZZZZZ', threshold: '1' } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('UNKNOWN_SYMBOL');
  });

  it('answers 404 PORTFOLIO_NOT_FOUND for a portfolio alert on another user’s portfolio, as for a missing one', async () => {
    const bobs = await s.engine.createPortfolio({ name: 'Bob', ownerId: 'bob', initialCash: '100' });
    const missing = `${bobs.id.slice(0, -1)}${bobs.id.endsWith('0') ? '1' : '0'}`;
    const theirs = await s.request('POST', '/alerts', {
      json: { kind: 'drawdown', portfolioId: bobs.id, threshold: '10' },
    });
    const none = await s.request('POST', '/alerts', {
      json: { kind: 'drawdown', portfolioId: missing, threshold: '10' },
    });
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('PORTFOLIO_NOT_FOUND');
    expect(comparable(theirs, bobs.id, missing)).toBe(comparable(none, bobs.id, missing));
    expect((await s.engine.store.listAlerts?.({ portfolioId: bobs.id })) ?? []).toEqual([]);

    const mine = await s.engine.createPortfolio({ name: 'Alice', ownerId: 'alice', initialCash: '100' });
    const ok = await s.request('POST', '/alerts', {
      json: { kind: 'drawdown', portfolioId: mine.id, threshold: '10' },
    });
    expect(ok.status).toBe(201);
    const filtered = await s.request('GET', `/alerts?portfolioId=${mine.id}`);
    expect(filtered.body.items.map((a: { id: string }) => a.id)).toEqual([ok.body.id]);
  });

  it("answers another user's alert exactly as a missing one, on every route, and changes nothing", async () => {
    const mine = await s.request('POST', '/alerts', { json: { kind: 'above', symbol: 'BBB', threshold: '30' } });
    const id = mine.body.id as string;
    const missing = `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
    for (const [method, json] of [
      ['GET', undefined],
      ['PATCH', { active: false }],
      ['DELETE', undefined],
    ] as const) {
      const theirs = await s.request(method, `/alerts/${id}`, { user: 'bob', json });
      const none = await s.request(method, `/alerts/${missing}`, { user: 'bob', json });
      expect(theirs.status, method).toBe(404);
      expect(theirs.body.code, method).toBe('NOT_FOUND');
      expect(comparable(theirs, id, missing), method).toBe(comparable(none, id, missing));
    }
    const after = await s.request('GET', `/alerts/${id}`);
    expect(after.body).toEqual(mine.body);
    const bobsList = await s.request('GET', '/alerts', { user: 'bob' });
    expect(bobsList.body).toEqual({ items: [], nextCursor: null });
  });

  it('changes active, threshold and cool-down, checked by the kind, and deletes', async () => {
    const created = await s.request('POST', '/alerts', { json: { kind: 'below', symbol: 'BBB', threshold: '10' } });
    const path = `/alerts/${created.body.id}`;
    const patched = await s.request('PATCH', path, { json: { active: false, threshold: '9.5', coolDownMs: 1000 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ active: false, threshold: '9.5', coolDownMs: 1000, kind: 'below' });
    expect((await s.request('GET', path)).body).toEqual(patched.body);
    const bad = await s.request('PATCH', path, { json: { threshold: '0' } });
    expect(bad.status).toBe(422);
    expect(bad.body.fields[0].path).toBe('threshold');
    const kind = await s.request('PATCH', path, { json: { kind: 'above' } });
    expect(kind.status).toBe(422);
    expect((await s.request('GET', path)).body).toEqual(patched.body);

    const deleted = await s.request('DELETE', path);
    expect(deleted.status).toBe(204);
    expect((await s.request('GET', path)).status).toBe(404);
    expect((await s.request('DELETE', path)).status).toBe(404);
  });

  it("lists the caller's alerts only, in pages", async () => {
    for (const t of ['101', '102', '103']) {
      expect(
        (await s.request('POST', '/alerts', { user: 'carol', json: { kind: 'above', symbol: 'AAA', threshold: t } }))
          .status,
      ).toBe(201);
    }
    const first = await s.request('GET', '/alerts?limit=2', { user: 'carol' });
    expect(first.status).toBe(200);
    expect(first.body.items.map((a: { threshold: string }) => a.threshold)).toEqual(['101', '102']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await s.request('GET', `/alerts?limit=2&cursor=${first.body.nextCursor}`, { user: 'carol' });
    expect(second.body.items.map((a: { threshold: string }) => a.threshold)).toEqual(['103']);
    expect(second.body.nextCursor).toBeNull();
    const badCursor = await s.request('GET', '/alerts?cursor=nope', { user: 'carol' });
    expect(badCursor.status).toBe(422);
    expect(badCursor.body.fields[0].path).toBe('cursor');
  });
});

describe('an alert created over HTTP fires', () => {
  it('emits alert.triggered on a price update, through the evaluator the router started', async () => {
    const created = await s.request('POST', '/alerts', {
      user: 'dave',
      json: { kind: 'above', symbol: 'AAA', threshold: '50' },
    });
    expect(created.status).toBe(201);
    const fired = new Promise<AlertTriggeredEvent>((resolve) => {
      const off = s.engine.on('alert.triggered', (e) => {
        if (e.alert.id === created.body.id) {
          off();
          resolve(e);
        }
      });
    });
    s.provider.setPrice('AAA', '55');
    await s.clock.advance(1_000);
    await s.engine.refreshPrices(['AAA']);
    const event = await fired;
    expect(event.value).toBe('55');
    expect(event.alert.ownerId).toBe('dave');
    const read = await s.request('GET', `/alerts/${created.body.id}`, { user: 'dave' });
    expect(read.body.lastFiredAt).toBe(event.at);
  });
});
