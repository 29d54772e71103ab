import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import type { PortfolioEngine } from '../engine/index.js';
import type { AlertTriggeredEvent, FoliokitEvent } from '../events.js';
import type { Store } from '../ports/index.js';
import {
  codeOf,
  createManualClock,
  createMemoryStore,
  createTestEngine,
  errorOf,
  type TestEngine,
} from '../testing/index.js';
import { toIso } from '../time.js';
import { createAlert, deleteAlert, getAlert, listAlerts, updateAlert } from './alerts.js';
import { type AlertEvaluator, startAlertEvaluator } from './evaluate.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Alerts this engine fired (on PostgreSQL the other instance's arrive too, relayed: `origin: 'remote'`). */
const fired = (events: readonly FoliokitEvent[]) =>
  events.filter((e): e is AlertTriggeredEvent => e.type === 'alert.triggered' && e.origin !== 'remote');

/** Announces a price on an engine, as the price book does, and waits for the evaluator. */
async function price(t: TestEngine, evaluator: AlertEvaluator, symbol: string, value: string): Promise<void> {
  t.engine.emit({
    type: 'price.updated',
    symbol,
    price: value,
    previousPrice: null,
    at: toIso(t.clock.now()),
    source: 'test',
    currency: 'USD',
  });
  await evaluator.idle();
}

async function started(t: TestEngine): Promise<AlertEvaluator> {
  const evaluator = startAlertEvaluator(t.engine);
  await evaluator.idle();
  return evaluator;
}

describe('price alerts', () => {
  it('fire once per crossing and re-arm when the condition is false again', async () => {
    const t = createTestEngine();
    const ev = await started(t);
    const alert = await createAlert(t.engine, { kind: 'above', symbol: 'aaa', threshold: '100' });
    expect(alert.symbol).toBe('AAA');
    for (const p of ['99', '101', '102', '150']) await price(t, ev, 'AAA', p);
    expect(fired(t.events).map((e) => e.value)).toEqual(['101']);
    await price(t, ev, 'BBB', '50'); // another symbol: nothing
    await price(t, ev, 'AAA', '99.99'); // re-armed
    await price(t, ev, 'AAA', '100'); // at the threshold: fires
    const events = fired(t.events);
    expect(events.map((e) => e.value)).toEqual(['101', '100']);
    expect(events[1]?.alert.id).toBe(alert.id);
    expect(events[1]?.alert.lastFiredAt).toBe(events[1]?.at);
    ev.stop();
    await t.close();
  });

  it('fires a below alert at or under its threshold', async () => {
    const t = createTestEngine();
    const ev = await started(t);
    await createAlert(t.engine, { kind: 'below', symbol: 'AAA', threshold: 50 });
    for (const p of ['60', '50.01', '50', '49', '51', '10']) await price(t, ev, 'AAA', p);
    expect(fired(t.events).map((e) => e.value)).toEqual(['50', '10']);
    ev.stop();
    await t.close();
  });

  it('never fires within the cool-down; a crossing inside it is swallowed', async () => {
    const t = createTestEngine();
    const ev = await started(t);
    await createAlert(t.engine, { kind: 'above', symbol: 'AAA', threshold: '100', coolDownMs: 60_000 });
    await price(t, ev, 'AAA', '101'); // fires
    await price(t, ev, 'AAA', '99');
    await t.clock.advance(30_000);
    await price(t, ev, 'AAA', '101'); // a crossing within the cool-down
    await t.clock.advance(40_000); // past the cool-down, the condition still true: no fire
    await price(t, ev, 'AAA', '102');
    expect(fired(t.events)).toHaveLength(1);
    await price(t, ev, 'AAA', '99');
    await price(t, ev, 'AAA', '103'); // the next crossing after the cool-down fires
    const events = fired(t.events);
    expect(events.map((e) => e.value)).toEqual(['101', '103']);
    expect(events[0]?.alert.coolDownUntil).toBe(toIso(Date.parse(events[0]?.at ?? '') + 60_000));
    ev.stop();
    await t.close();
  });

  it('measures a percent move against the close `window` days before (the latest close on or before that day)', async () => {
    const t = createTestEngine(); // the clock starts on Monday 2026-01-05
    await t.store.upsertDailyBars([
      {
        symbol: 'AAA',
        day: '2026-01-01',
        open: null,
        high: null,
        low: null,
        close: '90',
        adjClose: null,
        volume: null,
        source: 't',
      },
      {
        symbol: 'AAA',
        day: '2026-01-02',
        open: null,
        high: null,
        low: null,
        close: '100',
        adjClose: null,
        volume: null,
        source: 't',
      },
    ]);
    const ev = await started(t);
    // window 1: the reference day is Sunday 2026-01-04, whose latest close is Friday's 100.
    await createAlert(t.engine, { kind: 'change', symbol: 'AAA', threshold: '5', window: 1 });
    await createAlert(t.engine, { kind: 'change', symbol: 'AAA', threshold: '-5', window: 1 });
    for (const p of ['104.99', '105', '100', '95.01', '95']) await price(t, ev, 'AAA', p);
    const events = fired(t.events);
    expect(events.map((e) => [e.alert.threshold, e.value])).toEqual([
      ['5', '5'],
      ['-5', '-5'],
    ]);
    ev.stop();
    await t.close();
  });

  it('stops firing a deleted alert; a second delete is NOT_FOUND', async () => {
    const t = createTestEngine();
    const ev = await started(t);
    const a = await createAlert(t.engine, { kind: 'above', symbol: 'AAA', threshold: '100' });
    expect(ev.size).toBe(1);
    await deleteAlert(t.engine, a.id);
    expect(ev.size).toBe(0);
    await price(t, ev, 'AAA', '101');
    expect(fired(t.events)).toHaveLength(0);
    expect(await codeOf(deleteAlert(t.engine, a.id))).toBe('NOT_FOUND');
    ev.stop();
    await t.close();
  });
});

describe('portfolio alerts', () => {
  async function portfolioOf(engine: PortfolioEngine) {
    return engine.createPortfolio({ name: 'P', initialCash: 10000, ownerId: 'u1' });
  }

  it('fires a weight alert when a position passes its limit (percent of total value)', async () => {
    const t = createTestEngine({ prices: { AAA: '100' } });
    const ev = await started(t);
    const p = await portfolioOf(t.engine);
    const a = await createAlert(t.engine, { kind: 'weight', portfolioId: p.id, symbol: 'AAA', threshold: '50' });
    expect(a.ownerId).toBe('u1');
    await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 40 }); // 40 %
    await ev.idle();
    expect(fired(t.events)).toHaveLength(0);
    await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 20 }); // 60 %
    await ev.idle();
    await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 5 }); // 65 %: still over, no new fire
    await ev.idle();
    expect(fired(t.events).map((e) => e.value)).toEqual(['60']);
    expect(await listAlerts(t.engine, { ownerId: 'u1' })).toHaveLength(1);
    expect(await listAlerts(t.engine, { portfolioId: p.id })).toHaveLength(1);
    expect(await listAlerts(t.engine, { ownerId: 'someone-else' })).toHaveLength(0);
    ev.stop();
    await t.close();
  });
});

describe('portfolio alerts from daily snapshots', () => {
  it('fire a drawdown from the daily peak and a daily P&L beyond a negative threshold', async () => {
    const t = createTestEngine({ prices: { AAA: '100' } });
    const ev = await started(t);
    const p = await t.engine.createPortfolio({ name: 'P', initialCash: 10000 });
    const daily = (day: string, totalValue: string) => ({
      portfolioId: p.id,
      at: `${day}T21:00:00.000Z`,
      day,
      kind: 'daily' as const,
      cash: totalValue,
      flags: [],
      marketValue: '0',
      totalValue,
      costBasis: '0',
      unrealizedPnl: '0',
      realizedPnl: '0',
      netDeposits: '10000',
    });
    await t.store.insertSnapshots([daily('2026-01-01', '12000'), daily('2026-01-02', '10500')]);
    await createAlert(t.engine, { kind: 'drawdown', portfolioId: p.id, threshold: '20' });
    await createAlert(t.engine, { kind: 'drawdown', portfolioId: p.id, threshold: '10' });
    await createAlert(t.engine, { kind: 'daily-pnl', portfolioId: p.id, threshold: '-300' });
    await createAlert(t.engine, { kind: 'daily-pnl', portfolioId: p.id, threshold: '300' });
    await t.engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 50 }); // value stays 10,000
    await ev.idle();
    const got = fired(t.events).map((e) => [e.alert.kind, e.alert.threshold, e.value]);
    // Drawdown (12,000 − 10,000) / 12,000 = 16.67 %: over 10, not 20. P&L since the 2nd: −500.
    expect(got).toEqual([
      ['drawdown', '10', '16.666666666667'],
      ['daily-pnl', '-300', '-500'],
    ]);
    ev.stop();
    await t.close();
  });
});

describe('createAlert validation', () => {
  it('names the bad field', async () => {
    const t = createTestEngine();
    const p = await portfolioOf(t.engine);
    const cases: Array<[unknown, string]> = [
      [{ kind: 'sideways', symbol: 'AAA', threshold: '1' }, 'kind'],
      [{ kind: 'above', threshold: '1' }, 'symbol'],
      [{ kind: 'above', symbol: 'AAA', threshold: 'abc' }, 'threshold'],
      [{ kind: 'above', symbol: 'AAA', threshold: '-1' }, 'threshold'],
      [{ kind: 'change', symbol: 'AAA', threshold: '5' }, 'window'],
      [{ kind: 'change', symbol: 'AAA', threshold: '5', window: 0 }, 'window'],
      [{ kind: 'above', symbol: 'AAA', threshold: '1', window: 3 }, 'window'],
      [{ kind: 'weight', symbol: 'AAA', threshold: '50' }, 'portfolioId'],
      [{ kind: 'drawdown', portfolioId: p.id, threshold: '101' }, 'threshold'],
      [{ kind: 'drawdown', portfolioId: p.id, symbol: 'AAA', threshold: '10' }, 'symbol'],
      [{ kind: 'above', symbol: 'AAA', threshold: '1', coolDownMs: -1 }, 'coolDownMs'],
    ];
    for (const [input, field] of cases) {
      const error = await errorOf(createAlert(t.engine, input as never));
      expect([error.code, error.details.field]).toEqual(['VALIDATION_FAILED', field]);
    }
    expect(await codeOf(createAlert(t.engine, { kind: 'drawdown', portfolioId: 'pf_nope', threshold: '10' }))).toBe(
      'PORTFOLIO_NOT_FOUND',
    );
    await t.close();
  });

  async function portfolioOf(engine: PortfolioEngine) {
    return engine.createPortfolio({ name: 'P', initialCash: 1000 });
  }
});

/** Two engines on one database: the same price updates fire each crossing once in total; the last fire persists. */
async function twoEnginesFireOnce(open: () => Promise<Store>): Promise<void> {
  const clock = createManualClock('2026-01-05T10:00:00.000Z');
  const a = createTestEngine({ store: await open(), clock });
  const b = createTestEngine({ store: await open(), clock });
  const evA = await started(a);
  const evB = await started(b);
  const alert = await createAlert(a.engine, { kind: 'above', symbol: 'AAA', threshold: '100' });
  await evB.reload(); // what B's periodic reload does
  expect([evA.size, evB.size]).toEqual([1, 1]);

  const both = async (value: string) => {
    await clock.advance(1000); // each update is newer than the last, as a price book's are
    await Promise.all([price(a, evA, 'AAA', value), price(b, evB, 'AAA', value)]);
  };
  await both('101');
  expect(fired(a.events).length + fired(b.events).length).toBe(1);
  await both('102');
  await both('99');
  await both('105');
  expect(fired(a.events).length + fired(b.events).length).toBe(2);

  const last = [...fired(a.events), ...fired(b.events)].sort((x, y) => x.at.localeCompare(y.at)).at(-1);
  evA.stop();
  evB.stop();
  await a.engine.close();
  await b.engine.close();
  await a.store.close();
  await b.store.close();

  // Persisted: reopened, the alert keeps its last fire.
  const store = await open();
  const [row] = (await store.listAlerts?.({ id: alert.id })) ?? [];
  expect(row?.lastFiredAt).toBe(last?.at);
  expect(row?.threshold).toBe('100');
  expect(row?.active).toBe(true);
  await store.close();
}

describe('alerts on SQL stores', () => {
  it('two engines on one SQLite file evaluating the same price updates fire once in total', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliokit-alerts-'));
    dirs.push(dir);
    const filename = join(dir, 'alerts.db');
    await twoEnginesFireOnce(() => createSqliteStore({ filename }));
  });

  it('two engines on one PostgreSQL schema evaluating the same price updates fire once in total', async () => {
    const connectionString = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `fk_alerts_${randomBytes(5).toString('hex')}`;
    try {
      await twoEnginesFireOnce(() => createPostgresStore({ connectionString, schema }));
    } finally {
      const admin = await createPostgresStore({ connectionString, schema, migrate: false });
      await admin.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await admin.close();
    }
  });
});

/**
 * The store as it is, except that right before the first write of an alert update (`updateAlert`,
 * or `saveAlert` of an existing alert) a fire of that alert is claimed with `markAlertFired`: the
 * interleaving of an evaluator (here or on another instance) firing while a user edits the alert.
 */
function fireBeforeUpdate(real: Store, firedAt: string, coolDownUntil: string) {
  const claims: boolean[] = [];
  const claim = async (id: string) => {
    if (claims.length > 0) return;
    const [current] = (await real.listAlerts?.({ id })) ?? [];
    if (!current) return;
    claims.push((await real.markAlertFired?.(id, firedAt, coolDownUntil, current.lastFiredAt)) ?? false);
  };
  const store = new Proxy(real, {
    get(target, prop) {
      if (prop === 'updateAlert' && typeof target.updateAlert === 'function') {
        return async (...args: Parameters<NonNullable<Store['updateAlert']>>) => {
          await claim(args[0]);
          return target.updateAlert?.(...args);
        };
      }
      if (prop === 'saveAlert') {
        return async (...args: Parameters<NonNullable<Store['saveAlert']>>) => {
          await claim(args[0].id);
          return target.saveAlert?.(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, claims };
}

describe('updateAlert', () => {
  const T1 = '2026-01-05T10:00:01.000Z';
  const T2 = '2026-01-05T11:00:01.000Z';

  async function keepsAFireClaimedMeanwhile(real: Store): Promise<void> {
    const { store, claims } = fireBeforeUpdate(real, T1, T2);
    const t = createTestEngine({ store });
    try {
      const alert = await createAlert(t.engine, { kind: 'above', symbol: 'AAA', threshold: '100', coolDownMs: 60_000 });
      expect(claims).toEqual([]); // a new alert is not an update
      const updated = await updateAlert(t.engine, alert.id, { threshold: '120', coolDownMs: 3_600_000 });
      expect(claims).toEqual([true]); // the fire was claimed after updateAlert read the alert
      const expected = {
        ...alert,
        threshold: '120',
        coolDownMs: 3_600_000,
        lastFiredAt: T1,
        coolDownUntil: T2,
      };
      expect(updated).toEqual(expected);
      expect(await getAlert(t.engine, alert.id)).toEqual(expected);
      // The kept history is what the next claim compares with: one fire, not two.
      expect(await real.markAlertFired?.(alert.id, T2, T2, null)).toBe(false);
      // Pausing keeps it too, and an empty patch changes nothing.
      expect(await updateAlert(t.engine, alert.id, { active: false })).toEqual({ ...expected, active: false });
      expect(await updateAlert(t.engine, alert.id, {})).toEqual({ ...expected, active: false });
      expect(await codeOf(updateAlert(t.engine, 'al_missing', { active: false }))).toBe('NOT_FOUND');
      expect((await errorOf(updateAlert(t.engine, alert.id, { threshold: '-1' }))).details.field).toBe('threshold');
      expect(await getAlert(t.engine, alert.id)).toEqual({ ...expected, active: false });
    } finally {
      await t.close();
    }
  }

  it('keeps a fire claimed between its read and its write (memory store)', async () => {
    await keepsAFireClaimedMeanwhile(createMemoryStore());
  });

  it('keeps a fire claimed between its read and its write (SQLite file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foliokit-alerts-'));
    dirs.push(dir);
    const store = await createSqliteStore({ filename: join(dir, 'update.db') });
    try {
      await keepsAFireClaimedMeanwhile(store);
    } finally {
      await store.close();
    }
  });
});
