import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { codeOf, createMemoryStore, createTestEngine, errorOf } from '../testing/index.js';
import { getDrift, getTargets, resolveTargets, setTargets } from './targets.js';

const PRICES = { AAA: '100', BBB: '50', CCC: '20' };

describe('resolveTargets (pure)', () => {
  it('gives every target an equal weight when none is given', () => {
    const r = resolveTargets(['DDD', 'AAA', 'CCC', 'BBB'].map((symbol) => ({ symbol, weight: null })));
    expect(r.map((t) => [t.symbol, t.weight])).toEqual([
      ['AAA', '0.25'],
      ['BBB', '0.25'],
      ['CCC', '0.25'],
      ['DDD', '0.25'],
    ]);
  });

  it('splits what the given weights leave equally, rounded down so the sum never passes 1', () => {
    const r = resolveTargets([
      { symbol: 'AAA', weight: '0.4' },
      { symbol: 'BBB', weight: null },
      { symbol: 'CCC', weight: null },
    ]);
    expect(r.map((t) => t.weight)).toEqual(['0.4', '0.3', '0.3']);
    const thirds = resolveTargets(['A', 'B', 'C'].map((symbol) => ({ symbol, weight: null })));
    // 1/3 to 12 places, rounded down: 0.999999999999 in all, the rest stays cash.
    expect(thirds.map((t) => t.weight)).toEqual(['0.333333333333', '0.333333333333', '0.333333333333']);
  });

  it('leaves the rest in cash when every weight is given and they sum below 1', () => {
    const r = resolveTargets([
      { symbol: 'AAA', weight: '0.5' },
      { symbol: 'BBB', weight: '0.3' },
    ]);
    expect(r.map((t) => [t.weight, t.givenWeight])).toEqual([
      ['0.5', '0.5'],
      ['0.3', '0.3'],
    ]);
  });
});

describe('setTargets / getTargets', () => {
  it('normalises symbols, resolves weights, persists, and emits targets.updated', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await t.engine.createPortfolio({ name: 'Model', initialCash: 1000 });
    t.events.length = 0;
    const resolved = await setTargets(t.engine, p.id, [
      { symbol: ' bbb ' },
      { symbol: 'aaa', weight: 0.5 },
      { symbol: 'CCC' },
    ]);
    expect(resolved).toEqual([
      { symbol: 'AAA', weight: '0.5', givenWeight: '0.5' },
      { symbol: 'BBB', weight: '0.25', givenWeight: null },
      { symbol: 'CCC', weight: '0.25', givenWeight: null },
    ]);
    expect(await getTargets(t.engine, p.id)).toEqual(resolved);
    expect(t.events).toEqual([{ type: 'targets.updated', portfolioId: p.id, targets: resolved }]);
    // Replacing the list replaces it whole; an empty list clears it.
    await setTargets(t.engine, p.id, [{ symbol: 'CCC', weight: '1' }]);
    expect(await getTargets(t.engine, p.id)).toEqual([{ symbol: 'CCC', weight: '1', givenWeight: '1' }]);
    await setTargets(t.engine, p.id, []);
    expect(await getTargets(t.engine, p.id)).toEqual([]);
    await t.close();
  });

  it('refuses bad targets with VALIDATION_FAILED naming the field, and changes nothing', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await t.engine.createPortfolio({ name: 'Model', initialCash: 1000 });
    await setTargets(t.engine, p.id, [{ symbol: 'AAA' }]);
    const cases: Array<[unknown, string]> = [
      [[{ symbol: 'aaa' }, { symbol: ' AAA' }], 'targets.1.symbol'],
      [
        [
          { symbol: 'AAA', weight: '0.6' },
          { symbol: 'BBB', weight: '0.5' },
        ],
        'targets',
      ],
      [[{ symbol: 'AAA', weight: '-0.1' }], 'targets.0.weight'],
      [[{ symbol: 'AAA', weight: '1.5' }], 'targets.0.weight'],
      [[{ symbol: 'AAA', weight: Number.POSITIVE_INFINITY }], 'targets.0.weight'],
      [[{ symbol: 'AAA', weight: '1e309' }], 'targets.0.weight'],
      [[{ symbol: 'AAA', weight: 'half' }], 'targets.0.weight'],
      [[{ symbol: 'not a symbol' }], 'targets.0.symbol'],
      [[{ symbol: 'AAA', extra: 1 }], 'targets.0'],
      ['AAA', 'targets'],
    ];
    for (const [input, field] of cases) {
      const e = await errorOf(setTargets(t.engine, p.id, input as never));
      expect([e.code, e.details.field]).toEqual(['VALIDATION_FAILED', field]);
    }
    expect(await getTargets(t.engine, p.id)).toEqual([{ symbol: 'AAA', weight: '1', givenWeight: null }]);
    expect(await codeOf(setTargets(t.engine, 'pf_nope', [{ symbol: 'AAA' }]))).toBe('PORTFOLIO_NOT_FOUND');
    expect(await codeOf(getTargets(t.engine, 'pf_nope'))).toBe('PORTFOLIO_NOT_FOUND');
    await t.close();
  });

  it('refuses a store without the target methods with INVALID_CONFIGURATION naming them', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await t.engine.createPortfolio({ name: 'Model', initialCash: 1000 });
    const bare = Object.create(t.store, {
      getTargets: { value: undefined },
      setTargets: { value: undefined },
    }) as Store;
    const host: SnapshotHost = {
      store: bare,
      marketData: t.provider,
      clock: t.clock,
      logger: t.engine.logger,
      emit: () => {},
      latestPrices: (symbols) => t.engine.latestPrices(symbols),
    };
    for (const call of [setTargets(host, p.id, [{ symbol: 'AAA' }]), getTargets(host, p.id), getDrift(host, p.id)]) {
      const e = await errorOf(call);
      expect(e.code).toBe('INVALID_CONFIGURATION');
      expect(e.details.missing).toEqual(['store.getTargets', 'store.setTargets']);
      expect(e.message).toContain('store.getTargets and store.setTargets');
    }
    await t.close();
  });
});

describe('getDrift', () => {
  it('gives current against target weights, in value and percentage points, with cash and total', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await t.engine.createPortfolio({ name: 'Model', initialCash: 10000 });
    await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 60 }); // 6000
    await t.engine.trade(p.id, { symbol: 'CCC', side: 'buy', quantity: 50 }); // 1000, no target
    await setTargets(t.engine, p.id, [
      { symbol: 'AAA', weight: '0.5' },
      { symbol: 'BBB', weight: '0.4' },
    ]);
    const d = await getDrift(t.engine, p.id);
    expect(d.totalValue).toBe('10000');
    expect(d.method).toBe('weights-on-total-value');
    expect(d.positions).toEqual([
      {
        symbol: 'AAA',
        quantity: '60',
        price: '100',
        targetWeight: '0.5',
        currentWeight: '0.6',
        drift: '10',
        currentValue: '6000',
        targetValue: '5000',
        difference: '-1000',
      },
      {
        symbol: 'BBB',
        quantity: '0',
        price: '50',
        targetWeight: '0.4',
        currentWeight: '0',
        drift: '-40',
        currentValue: '0',
        targetValue: '4000',
        difference: '4000',
      },
      {
        symbol: 'CCC',
        quantity: '50',
        price: '20',
        targetWeight: '0',
        currentWeight: '0.1',
        drift: '10',
        currentValue: '1000',
        targetValue: '0',
        difference: '-1000',
      },
    ]);
    // Cash: 3000 held, 10 % targeted (what the weights leave).
    expect(d.cash).toMatchObject({ targetWeight: '0.1', currentWeight: '0.3', drift: '20', difference: '-2000' });
    await t.close();
  });

  it('says why weights are null on an empty portfolio, and refuses a held symbol without any price', async () => {
    const t = createTestEngine({ prices: PRICES });
    const p = await t.engine.createPortfolio({ name: 'Empty' });
    await setTargets(t.engine, p.id, [{ symbol: 'AAA' }]);
    const d = await getDrift(t.engine, p.id);
    expect(d.positions[0]).toMatchObject({ currentWeight: null, drift: null });
    expect(d.reason).toMatch(/not positive/);

    const q = await t.engine.createPortfolio({ name: 'Held', initialCash: 1000 });
    await t.engine.trade(q.id, { symbol: 'AAA', side: 'buy', quantity: 1 });
    // A host whose prices know nothing (no quote, no last known price).
    const host: SnapshotHost = {
      store: t.store,
      marketData: t.provider,
      clock: t.clock,
      logger: t.engine.logger,
      emit: () => {},
      latestPrices: async () => new Map(),
    };
    const e = await errorOf(getDrift(host, q.id));
    expect(e.code).toBe('PRICE_UNAVAILABLE');
    expect(e.details.symbols).toEqual(['AAA']);
    await t.close();
  });
});

describe('persistence', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function persists(open: () => Promise<Store>, reopen: boolean) {
    let store = await open();
    let t = createTestEngine({ store, prices: PRICES });
    const p = await t.engine.createPortfolio({ name: 'Kept', initialCash: 1000 });
    const other = await t.engine.createPortfolio({ name: 'Other', initialCash: 1000 });
    await setTargets(t.engine, p.id, [{ symbol: 'AAA', weight: '0.123456789012345678' }, { symbol: 'BBB' }]);
    await setTargets(t.engine, other.id, [{ symbol: 'CCC' }]);
    if (reopen) {
      await t.close();
      await store.close();
      store = await open();
      t = createTestEngine({ store, prices: PRICES });
    }
    expect(await store.getTargets?.(p.id)).toEqual([
      { portfolioId: p.id, symbol: 'AAA', weight: '0.123456789012345678', updatedAt: '2026-01-05T10:00:00.000Z' },
      { portfolioId: p.id, symbol: 'BBB', weight: null, updatedAt: '2026-01-05T10:00:00.000Z' },
    ]);
    expect((await getTargets(t.engine, p.id)).map((x) => x.weight)).toEqual(['0.123456789012345678', '0.876543210987']);
    await t.engine.deletePortfolio(p.id);
    expect(await store.getTargets?.(p.id)).toEqual([]);
    expect((await getTargets(t.engine, other.id)).map((x) => x.symbol)).toEqual(['CCC']);
    await t.close();
    await store.close();
  }

  it('keeps targets on the memory store; deleting the portfolio deletes them', async () => {
    await persists(async () => createMemoryStore(), false);
  });

  it('keeps targets on SQLite across a reopen; deleting the portfolio deletes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliokit-targets-'));
    dirs.push(dir);
    const filename = join(dir, 'targets.db');
    await persists(() => createSqliteStore({ filename }), true);
  });

  it('keeps targets on PostgreSQL (numeric weights, timestamptz) across a reopen', async () => {
    const connectionString = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `fk_targets_${randomBytes(5).toString('hex')}`;
    await persists(() => createPostgresStore({ connectionString, schema }), true);
    const admin = await createPostgresStore({ connectionString, schema, migrate: false });
    await admin.db.schema.dropSchema(schema).ifExists().cascade().execute();
    await admin.close();
  });
});
