/**
 * The event relay on an in-memory transport: two engines whose stores share one fake "wire". What
 * the relay publishes, what it re-emits (`origin: 'remote'`), what it ignores, gaps, and stopping.
 */
import { describe, expect, it } from 'vitest';
import { createPortfolioEngine } from './engine/create.js';
import type { PortfolioEngine } from './engine/engine.js';
import type { FoliokitEvent } from './events.js';
import { RELAYED_EVENT_TYPES, startEventRelay } from './events-relay.js';
import { silentLogger } from './logger.js';
import type {
  EventTransport,
  ReceivedMeta,
  Store,
  TransportEvent,
  TransportGapReason,
  TransportMeta,
  TransportSubscribeOptions,
} from './ports/index.js';
import { createManualClock } from './testing/clock.js';
import { createMemoryStore } from './testing/memory-store.js';
import { createTestProvider } from './testing/provider.js';

interface Sub {
  listener: (event: TransportEvent, meta: ReceivedMeta) => void;
  options: TransportSubscribeOptions;
}

/** A wire every transport made from it publishes to: delivery after a macrotask, as JSON. */
function fakeWire() {
  const subs = new Set<Sub>();
  const published: Array<{ event: TransportEvent; meta: TransportMeta }> = [];
  const transport = (): EventTransport & { failNext: number } => {
    const t = {
      /** How many of the next publishes fail. */
      failNext: 0,
      async publish(event: TransportEvent, meta: TransportMeta) {
        if (t.failNext > 0) {
          t.failNext--;
          throw new Error('wire down');
        }
        published.push({ event, meta });
        const copy = JSON.parse(JSON.stringify(event)) as TransportEvent;
        await new Promise((r) => setTimeout(r, 0));
        for (const s of [...subs]) s.listener(copy, { source: meta.source });
      },
      subscribe(listener: Sub['listener'], options: TransportSubscribeOptions = {}) {
        const sub = { listener, options };
        subs.add(sub);
        return {
          ready: Promise.resolve(),
          close: async () => void subs.delete(sub),
        };
      },
    };
    return t;
  };
  const gap = (reason: TransportGapReason) => {
    for (const s of subs) s.options.onGap?.(reason);
  };
  const deliver = (event: TransportEvent, source: string) => {
    for (const s of [...subs]) s.listener(event, { source });
  };
  return { subs, published, transport, gap, deliver };
}

function engineOn(events: EventTransport): { engine: PortfolioEngine; seen: FoliokitEvent[]; store: Store } {
  const store = Object.assign(createMemoryStore(), { events });
  const clock = createManualClock('2026-01-05T10:00:00.000Z');
  const engine = createPortfolioEngine({
    store,
    marketData: createTestProvider({ prices: { AAPL: '10' }, clock }),
    clock,
    logger: silentLogger,
  });
  const seen: FoliokitEvent[] = [];
  engine.onAny((e) => void seen.push(e));
  return { engine, seen, store };
}

/** Waits until `check` holds (polling, capped). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('event relay', () => {
  it('carries a trade from A to B once, marked remote; neither echoes nor loops', async () => {
    const wire = fakeWire();
    const a = engineOn(wire.transport());
    const b = engineOn(wire.transport());
    const p = await a.engine.createPortfolio({ name: 'p', initialCash: 100 });
    const trade = await a.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
    // The last event of the trade (its snapshot) is on B: every earlier one is too (one publisher, in order).
    const last = a.seen.at(-1);
    await until(() => b.seen.length === a.seen.length, 'every event on B');
    expect(last?.type).toBe('snapshot.recorded');

    expect(b.seen.filter((e) => e.type === 'trade.executed')).toEqual([
      { type: 'trade.executed', portfolioId: p.id, transaction: trade, origin: 'remote' },
    ]);
    expect(b.seen.every((e) => e.origin === 'remote')).toBe(true);
    expect(a.seen.some((e) => e.origin === 'remote')).toBe(false);
    expect(a.seen.filter((e) => e.type === 'trade.executed')).toHaveLength(1);
    // Only A published, each of its relayed events once, in emit order.
    const sources = new Set(wire.published.map((x) => x.meta.source));
    expect(sources.size).toBe(1);
    expect(wire.published.map((x) => x.event.type)).toEqual(
      a.seen.filter((e) => (RELAYED_EVENT_TYPES as readonly string[]).includes(e.type)).map((e) => e.type),
    );
    await a.engine.close();
    await b.engine.close();
  });

  it('publishes only the stream events, never job events or remote ones', async () => {
    const wire = fakeWire();
    const a = engineOn(wire.transport());
    a.engine.emit({ type: 'job.started', job: 'j', runKey: 'k', trigger: 'manual', instance: 'i', at: 'x' });
    a.engine.emit({ type: 'portfolio.deleted', portfolioId: 'pf_x', ownerId: null, origin: 'remote' });
    a.engine.emit({ type: 'events.gap', reason: 'reconnected' });
    a.engine.emit({ type: 'portfolio.deleted', portfolioId: 'pf_y', ownerId: null });
    await a.engine.close(); // flushes what was emitted
    expect(wire.published.map((x) => x.event)).toEqual([
      { type: 'portfolio.deleted', portfolioId: 'pf_y', ownerId: null },
    ]);
  });

  it('ignores its own notifications and event types it does not relay', async () => {
    const wire = fakeWire();
    const bus = {
      events: [] as FoliokitEvent[],
      onAny: () => () => {},
      emit: (e: FoliokitEvent) => bus.events.push(e),
    };
    const relay = startEventRelay({ bus, transport: wire.transport(), logger: silentLogger, instance: 'me' });
    await relay.ready;
    wire.deliver({ type: 'portfolio.deleted', portfolioId: 'pf_1', ownerId: null }, 'me');
    wire.deliver({ type: 'job.started', job: 'j' }, 'other');
    wire.deliver({ type: 'events.gap', reason: 'reconnected' }, 'other');
    wire.deliver({ type: 'portfolio.deleted', portfolioId: 'pf_2', ownerId: null }, 'other');
    expect(bus.events).toEqual([{ type: 'portfolio.deleted', portfolioId: 'pf_2', ownerId: null, origin: 'remote' }]);
    await relay.stop();
  });

  it('turns a transport gap into events.gap', async () => {
    const wire = fakeWire();
    const a = engineOn(wire.transport());
    wire.gap('reconnected');
    expect(a.seen).toEqual([{ type: 'events.gap', reason: 'reconnected' }]);
    expect(wire.published).toEqual([]);
    await a.engine.close();
  });

  it('engine.close() publishes what was emitted, then leaves the transport', async () => {
    const wire = fakeWire();
    const a = engineOn(wire.transport());
    const b = engineOn(wire.transport());
    expect(wire.subs.size).toBe(2);
    a.engine.emit({ type: 'portfolio.deleted', portfolioId: 'pf_1', ownerId: null });
    await a.engine.close();
    expect(wire.published).toHaveLength(1);
    expect(wire.subs.size).toBe(1);
    await until(() => b.seen.length === 1, 'the event on B');
    await b.engine.close();
    expect(wire.subs.size).toBe(0);
  });

  it('logs a failed publish and keeps going', async () => {
    const wire = fakeWire();
    const t = wire.transport();
    const warnings: string[] = [];
    let listener: (e: FoliokitEvent) => void = () => {};
    const bus = {
      onAny: (l: (e: FoliokitEvent) => void) => {
        listener = l;
        return () => {};
      },
      emit: () => {},
    };
    const relay = startEventRelay({
      bus,
      transport: t,
      logger: { ...silentLogger, warn: (m) => void warnings.push(m) },
    });
    t.failNext = 1;
    listener({ type: 'portfolio.deleted', portfolioId: 'pf_1', ownerId: null });
    listener({ type: 'portfolio.deleted', portfolioId: 'pf_2', ownerId: null });
    await relay.stop();
    expect(warnings).toHaveLength(1);
    expect(wire.published.map((x) => x.event)).toEqual([
      { type: 'portfolio.deleted', portfolioId: 'pf_2', ownerId: null },
    ]);
  });

  it('refuses a store whose transport lacks methods, naming them', () => {
    const store = Object.assign(createMemoryStore(), { events: { publish: async () => {} } });
    expect(() => createPortfolioEngine({ store: store as unknown as Store, marketData: createTestProvider() })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIGURATION', details: { missing: ['store.events.subscribe'] } }),
    );
  });
});
