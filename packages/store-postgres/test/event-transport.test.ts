/**
 * Engine events across instances on PostgreSQL (`store.events`, LISTEN/NOTIFY): two engines, each
 * with its own store and pool, on one schema. A change made through A reaches B's bus once, with
 * `origin: 'remote'`; A never hears its own events back; an event over NOTIFY's 8,000 bytes travels
 * by reference and arrives whole; a killed listening connection comes back and says so
 * (`events.gap`); closing the engine ends its listening connection.
 */
import {
  createPortfolioEngine,
  type FoliokitEvent,
  type PortfolioEngine,
  type ReceivedMeta,
  silentLogger,
  type TransportEvent,
} from '@foliokit/core';
import { createManualClock, createTestProvider, type TestProvider } from '@foliokit/core/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelOf, MAX_INLINE_BYTES, PostgresEventTransport } from '../src/event-transport.js';
import { createPostgresStore, type PostgresStore } from '../src/index.js';
import { admin, dropSchema, PG_URL, schemaName } from './support/pg.js';

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
});

/** Waits until `check` holds (polling, capped: a condition that never comes fails the test). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function transportOf(store: PostgresStore): PostgresEventTransport {
  const events = store.events;
  if (!(events instanceof PostgresEventTransport)) throw new Error('the store has no event transport');
  return events;
}

/**
 * Resolves once the store's transport listens: a probe subscription shares the listening connection
 * with the engine's relay, so when the probe is ready, so is the relay.
 */
async function listening(store: PostgresStore): Promise<void> {
  const probe = transportOf(store).subscribe(() => {});
  await probe.ready;
  await probe.close();
}

/** Everything a transport delivers, as its subscriber sees it. */
function tap(store: PostgresStore) {
  const seen: Array<{ event: TransportEvent; meta: ReceivedMeta }> = [];
  const sub = transportOf(store).subscribe((event, meta) => seen.push({ event, meta }));
  return { seen, sub };
}

interface Instance {
  store: PostgresStore;
  engine: PortfolioEngine;
  provider: TestProvider;
  events: FoliokitEvent[];
}

async function instance(schema: string): Promise<Instance> {
  const store = await createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 });
  const clock = createManualClock('2026-04-01T15:00:00.000Z');
  const provider = createTestProvider({ prices: { AAPL: '100' }, clock });
  const engine = createPortfolioEngine({ store, marketData: provider, clock, logger: silentLogger });
  const events: FoliokitEvent[] = [];
  engine.onAny((event) => {
    events.push(event);
  });
  return { store, engine, provider, events };
}

async function listenerPids(): Promise<number[]> {
  const rows = await admin<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
  return rows.map((r) => r.pid);
}

describe('events across instances (LISTEN/NOTIFY)', () => {
  let a: Instance;
  let b: Instance;
  let schema: string;

  beforeEach(async () => {
    schema = schemaName('events');
    schemas.push(schema);
    a = await instance(schema);
    b = await instance(schema);
    await listening(a.store);
    await listening(b.store);
  });

  afterEach(async () => {
    for (const x of [a, b]) {
      await x.engine.close();
      await x.store.close();
    }
  });

  it('a trade through A reaches B once, marked remote; A does not hear it back', async () => {
    const p = await a.engine.createPortfolio({ name: 'shared', initialCash: 1_000 });
    const tapA = tap(a.store);
    await tapA.sub.ready;
    const trade = await a.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 2 });
    // A marker after the trade: events of one publisher arrive in order, so once the marker is in,
    // any duplicate of the trade would be too.
    const marker = await a.engine.deposit(p.id, { amount: 1 });
    await until(
      () => b.events.some((e) => e.type === 'cash.deposited' && e.transaction.id === marker.id),
      'the marker on B',
    );
    await until(
      () => tapA.seen.some(({ event }) => (event as { transaction?: { id?: string } }).transaction?.id === marker.id),
      'the marker back at A',
    );

    const onB = b.events.filter((e) => e.type === 'trade.executed');
    expect(onB).toHaveLength(1);
    expect(onB[0]).toEqual({ type: 'trade.executed', portfolioId: p.id, transaction: trade, origin: 'remote' });
    // The snapshot recorded with the trade and the opening deposit came along too.
    expect(b.events.filter((e) => e.type === 'snapshot.recorded' && e.portfolioId === p.id).length).toBeGreaterThan(0);
    expect(b.events.find((e) => e.type === 'portfolio.created')).toMatchObject({ origin: 'remote' });

    // A: its own trade once, local, never re-emitted from its own notification.
    const onA = a.events.filter((e) => e.type === 'trade.executed');
    expect(onA).toHaveLength(1);
    expect(onA[0]?.origin).toBeUndefined();
    expect(a.events.filter((e) => e.origin === 'remote')).toEqual([]);
    // B never published what it received: nothing on the wire came from B.
    const sources = new Set(tapA.seen.map((s) => s.meta.source));
    expect(sources.size).toBe(1);
    await tapA.sub.close();
  });

  it('a price update through A reaches B once', async () => {
    a.provider.setPrice('AAPL', '123.45');
    await a.engine.refreshPrices(['AAPL']);
    const local = a.events.filter((e) => e.type === 'price.updated');
    expect(local).toHaveLength(1);
    await until(() => b.events.some((e) => e.type === 'price.updated'), 'the price on B');
    const p = await a.engine.createPortfolio({ name: 'marker' });
    await until(() => b.events.some((e) => e.type === 'portfolio.created' && e.portfolio.id === p.id), 'the marker');
    const remote = b.events.filter((e) => e.type === 'price.updated');
    expect(remote).toEqual([{ ...local[0], origin: 'remote' }]);
    expect(remote[0]).toMatchObject({ symbol: 'AAPL', price: '123.45' });
  });

  it('a price fetched through A moves the price book of B, though its own copy was still fresh', async () => {
    b.provider.setPrice('MSFT', '100');
    expect((await b.engine.latestPrices(['MSFT'])).get('MSFT')?.price.toFixed()).toBe('100');
    // B's provider still says 100 and its entry is fresh: only the relayed change can move it.
    a.provider.setPrice('MSFT', '111.5');
    await a.engine.refreshPrices(['MSFT']);
    await until(
      () => b.events.some((e) => e.type === 'price.updated' && e.symbol === 'MSFT' && e.price === '111.5'),
      'the MSFT price on B',
    );
    expect((await b.engine.latestPrices(['MSFT'])).get('MSFT')?.price.toFixed()).toBe('111.5');
  });

  it('an event over 8,000 bytes travels by reference and arrives whole', async () => {
    const p = await a.engine.createPortfolio({ name: 'big' });
    const tapB = tap(b.store);
    await tapB.sub.ready;
    // Larger than any description the engine accepts: emitted as the engine would after a change.
    const description = `${'€'.repeat(4_000)}"quoted"\\ and 🚀`;
    const big = { type: 'portfolio.updated' as const, portfolio: { ...p, description } };
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(8_000);
    a.engine.emit(big);
    await until(() => b.events.some((e) => e.type === 'portfolio.updated'), 'the big event on B');

    expect(b.events.filter((e) => e.type === 'portfolio.updated')).toEqual([{ ...big, origin: 'remote' }]);
    const received = tapB.seen.find(({ event }) => event.type === 'portfolio.updated');
    expect(received?.meta.byReference).toBe(true);
    const stored = await admin<{ n: string }>(`select count(*) as n from "${schema}".event_payloads`);
    expect(Number(stored[0]?.n)).toBe(1);
    // Small events stayed inline.
    expect(tapB.seen.filter(({ meta }) => meta.byReference)).toHaveLength(1);
    await tapB.sub.close();
  });

  it('a killed listening connection comes back, says so with events.gap, and events flow again', async () => {
    const pid = transportOf(b.store).pid;
    expect(pid).toBeTypeOf('number');
    await admin('select pg_terminate_backend($1)', [pid]);
    await until(() => b.events.some((e) => e.type === 'events.gap'), 'the gap notice on B');
    expect(b.events.filter((e) => e.type === 'events.gap')).toEqual([{ type: 'events.gap', reason: 'reconnected' }]);
    const again = transportOf(b.store).pid;
    expect(again).toBeTypeOf('number');
    expect(again).not.toBe(pid);

    const p = await a.engine.createPortfolio({ name: 'after', initialCash: 10 });
    const trade = await a.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 0.05 });
    await until(
      () => b.events.some((e) => e.type === 'trade.executed' && e.transaction.id === trade.id),
      'a trade after the reconnection',
    );
    // A's connection was not touched: no gap there.
    expect(a.events.filter((e) => e.type === 'events.gap')).toEqual([]);
  });

  it('closing the engine ends its listening connection', async () => {
    const pid = transportOf(b.store).pid as number;
    expect(await listenerPids()).toContain(pid);
    await b.engine.close();
    expect(transportOf(b.store).pid).toBeNull();
    await until(async () => !(await listenerPids()).includes(pid), 'the listening backend to end');
    // A keeps listening; B's store still publishes (its pool is open), and A hears it.
    const before = a.events.length;
    const other = createPortfolioEngine({ store: b.store, marketData: b.provider, logger: silentLogger });
    await listening(b.store);
    await other.createPortfolio({ name: 'from b' });
    await until(() => a.events.slice(before).some((e) => e.type === 'portfolio.created'), 'B -> A');
    await other.close();
  });
});

describe('the PostgreSQL event transport', () => {
  it('names a channel per schema, case kept, within 63 bytes, distinct for long names', () => {
    expect(channelOf('foliokit')).toBe('foliokit_events_foliokit');
    expect(channelOf('Foliokit')).not.toBe(channelOf('foliokit'));
    const long1 = `a${'b'.repeat(61)}1`;
    const long2 = `a${'b'.repeat(61)}2`;
    for (const name of [long1, long2]) expect(Buffer.byteLength(channelOf(name))).toBeLessThanOrEqual(63);
    expect(channelOf(long1)).not.toBe(channelOf(long2));
  });

  it('has no transport on a pool that cannot make a listening client; frees everything on store close', async () => {
    const schema = schemaName('events_pool');
    schemas.push(schema);
    const raw = new pg.Pool({ connectionString: PG_URL, max: 2 });
    const wrapper = { connect: () => raw.connect(), end: () => raw.end() };
    const wrapped = await createPostgresStore({ pool: wrapper, schema });
    expect(wrapped.events).toBeUndefined();
    await wrapped.close();

    const store = await createPostgresStore({ pool: raw, schema });
    const transport = transportOf(store);
    const sub = transport.subscribe(() => {});
    await sub.ready;
    const pid = transport.pid as number;
    await store.close();
    expect(transport.pid).toBeNull();
    await until(async () => !(await listenerPids()).includes(pid), 'the listening backend to end');
    await expect(transport.publish({ type: 'price.updated' }, { source: 'x' })).rejects.toMatchObject({
      code: 'STORE_CLOSED',
    });
    await raw.end();
  });

  it('sends an event of exactly the inline limit inline, and one byte more by reference', async () => {
    const schema = schemaName('events_limit');
    schemas.push(schema);
    const store = await createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });
    try {
      const transport = transportOf(store);
      const seen: ReceivedMeta[] = [];
      const sub = transport.subscribe((_event, meta) => seen.push(meta));
      await sub.ready;
      const source = 's';
      const overhead = Buffer.byteLength(JSON.stringify({ v: 1, s: source, e: { type: 't', x: '' } }));
      await transport.publish({ type: 't', x: 'x'.repeat(MAX_INLINE_BYTES - overhead) }, { source });
      await transport.publish({ type: 't', x: 'x'.repeat(MAX_INLINE_BYTES - overhead + 1) }, { source });
      await until(() => seen.length === 2, 'both events');
      expect(seen.map((m) => m.byReference)).toEqual([false, true]);
      await sub.close();
    } finally {
      await store.close();
    }
  });
});
