/**
 * Backfill through the engine, on the memory store: each day valued as of that day from the ledger
 * and daily closes, checked by hand; idempotent reruns; range limits; progress events; backfillAll.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DailyBar, FoliokitError, type PortfolioEngine, type SnapshotOptions, type Store } from '../index.js';
import { dec, fmt } from '../money/decimal.js';
import { createManualClock } from '../testing/clock.js';
import { codeOf, createTestEngine, type TestEngine } from '../testing/harness.js';
import { createTestProvider } from '../testing/provider.js';

interface Ctx extends TestEngine {
  historyCalls: string[];
}

const bars = (rows: Array<[string, string]>): DailyBar[] => rows.map(([day, close]) => ({ day, close }));

// AAA trades every weekday except the holidays 2026-01-01 and 2026-01-12. BBB lists on 2026-01-06.
const AAA = bars([
  ['2025-12-30', '9.5'],
  ['2025-12-31', '10'],
  ['2026-01-02', '11'],
  ['2026-01-05', '12'],
  ['2026-01-06', '12.5'],
  ['2026-01-07', '13'],
  ['2026-01-08', '12'],
  ['2026-01-09', '14'],
  ['2026-01-13', '15'],
]);
const BBB = bars([
  ['2026-01-06', '50'],
  ['2026-01-07', '52'],
  ['2026-01-08', '51'],
  ['2026-01-09', '49.5'],
  ['2026-01-13', '55'],
]);

function setup(snapshots: SnapshotOptions = {}): Ctx {
  const clock = createManualClock('2026-01-20T12:00:00.000Z');
  const provider = createTestProvider({ prices: { AAA: '16', BBB: '56' }, history: { AAA, BBB }, clock });
  const historyCalls: string[] = [];
  const inner = provider.getDailyHistory.bind(provider);
  provider.getDailyHistory = (symbol, range, opts) => {
    historyCalls.push(symbol);
    return inner(symbol, range, opts);
  };
  return { ...createTestEngine({ clock, provider, engine: { snapshots } }), historyCalls };
}

/** The hand-checked portfolio: every entry backdated into early January 2026. */
async function handChecked(engine: PortfolioEngine): Promise<string> {
  const p = await engine.createPortfolio({ name: 'Hand-checked' });
  await engine.deposit(p.id, { amount: '1000', at: '2026-01-02T15:00:00Z' });
  await engine.trade(p.id, {
    symbol: 'AAA',
    side: 'buy',
    quantity: 10,
    price: '11',
    fee: '1',
    at: '2026-01-02T16:00:00Z',
  });
  await engine.trade(p.id, { symbol: 'BBB', side: 'buy', quantity: 2, price: '48', at: '2026-01-05T10:00:00Z' });
  await engine.trade(p.id, { symbol: 'AAA', side: 'sell', quantity: 4, price: '13', at: '2026-01-07T14:00:00Z' });
  await engine.withdraw(p.id, { amount: '100', at: '2026-01-09T20:00:00Z' });
  await engine.trade(p.id, { symbol: 'AAA', side: 'buy', quantity: 1, price: '14.5', at: '2026-01-12T09:00:00Z' });
  return p.id;
}

/**
 * Expected by hand. Cash: 1000 → buy 10 AAA at 11 + fee 1 = 111 → 889 → buy 2 BBB at 48 = 96 → 793
 * → sell 4 AAA at 13 = 52 → 845 (average cost removed 111 × 4/10 = 44.4, realized 7.6; AAA 6 left,
 * cost 66.6) → withdraw 100 → 745 → buy 1 AAA at 14.5 → 730.5 (AAA 7, cost 81.1).
 * Closes carry over the weekend and the 01-12 holiday; BBB has no close before 01-06.
 */
const EXPECTED: Array<{
  day: string;
  cash: string;
  marketValue: string;
  costBasis: string;
  realizedPnl: string;
  netDeposits: string;
  flags: string[];
}> = [
  // day          cash     Σ qty × close                   cost of priced positions
  {
    day: '2026-01-02',
    cash: '889',
    marketValue: '110',
    costBasis: '111',
    realizedPnl: '0',
    netDeposits: '1000',
    flags: [],
  }, // 10 × 11
  {
    day: '2026-01-03',
    cash: '889',
    marketValue: '110',
    costBasis: '111',
    realizedPnl: '0',
    netDeposits: '1000',
    flags: [],
  }, // Sat: Friday's close
  {
    day: '2026-01-04',
    cash: '889',
    marketValue: '110',
    costBasis: '111',
    realizedPnl: '0',
    netDeposits: '1000',
    flags: [],
  }, // Sun
  {
    day: '2026-01-05',
    cash: '793',
    marketValue: '120',
    costBasis: '111',
    realizedPnl: '0',
    netDeposits: '1000',
    flags: ['BBB:unpriced'],
  }, // 10 × 12; BBB not listed yet
  {
    day: '2026-01-06',
    cash: '793',
    marketValue: '225',
    costBasis: '207',
    realizedPnl: '0',
    netDeposits: '1000',
    flags: [],
  }, // 10 × 12.5 + 2 × 50
  {
    day: '2026-01-07',
    cash: '845',
    marketValue: '182',
    costBasis: '162.6',
    realizedPnl: '7.6',
    netDeposits: '1000',
    flags: [],
  }, // 6 × 13 + 2 × 52
  {
    day: '2026-01-08',
    cash: '845',
    marketValue: '174',
    costBasis: '162.6',
    realizedPnl: '7.6',
    netDeposits: '1000',
    flags: [],
  }, // 6 × 12 + 2 × 51
  {
    day: '2026-01-09',
    cash: '745',
    marketValue: '183',
    costBasis: '162.6',
    realizedPnl: '7.6',
    netDeposits: '900',
    flags: [],
  }, // 6 × 14 + 2 × 49.5
  {
    day: '2026-01-10',
    cash: '745',
    marketValue: '183',
    costBasis: '162.6',
    realizedPnl: '7.6',
    netDeposits: '900',
    flags: [],
  }, // Sat
  {
    day: '2026-01-11',
    cash: '745',
    marketValue: '183',
    costBasis: '162.6',
    realizedPnl: '7.6',
    netDeposits: '900',
    flags: [],
  }, // Sun
  {
    day: '2026-01-12',
    cash: '730.5',
    marketValue: '197',
    costBasis: '177.1',
    realizedPnl: '7.6',
    netDeposits: '900',
    flags: [],
  }, // holiday: 7 × 14 + 2 × 49.5
  {
    day: '2026-01-13',
    cash: '730.5',
    marketValue: '215',
    costBasis: '177.1',
    realizedPnl: '7.6',
    netDeposits: '900',
    flags: [],
  }, // 7 × 15 + 2 × 55
];
const TOTALS = ['999', '999', '999', '913', '1018', '1027', '1019', '928', '928', '928', '927.5', '945.5'];
const UNREALIZED = ['-1', '-1', '-1', '9', '18', '19.4', '11.4', '20.4', '20.4', '20.4', '19.9', '37.9'];

let ctx: Ctx;
beforeEach(() => {
  ctx = setup();
});
afterEach(async () => {
  await ctx.close();
});

/** The backfill snapshots of a portfolio, by day. */
async function backfillRows(store: Store, portfolioId: string) {
  const rows = await store.listSnapshots(portfolioId, { kinds: ['backfill'] });
  return rows.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

describe('backfill', () => {
  it('values each day as of that day: ledger replayed to its end, that day’s close carried over gaps', async () => {
    const id = await handChecked(ctx.engine);
    const report = await ctx.engine.backfill(id, { from: '2025-12-29', to: '2026-01-13' });
    expect(report).toMatchObject({
      portfolioId: id,
      from: '2025-12-29',
      to: '2026-01-13',
      firstDay: '2026-01-02',
      written: 12,
      skippedDays: 4, // 12-29 .. 01-01: before the first (backdated) entry
      unpriced: [{ symbol: 'BBB', days: 1, firstDay: '2026-01-05', lastDay: '2026-01-05', reason: 'no-close-yet' }],
    });
    const rows = await backfillRows(ctx.store, id);
    expect(rows.map((r) => r.day)).toEqual(EXPECTED.map((e) => e.day));
    rows.forEach((r, i) => {
      const e = EXPECTED[i] as (typeof EXPECTED)[number];
      expect(
        {
          day: r.day,
          at: r.at,
          cash: r.cash,
          marketValue: r.marketValue,
          totalValue: r.totalValue,
          costBasis: r.costBasis,
          unrealizedPnl: r.unrealizedPnl,
          realizedPnl: r.realizedPnl,
          netDeposits: r.netDeposits,
          flags: r.flags,
        },
        e.day,
      ).toEqual({ ...e, at: `${e.day}T23:59:59.999Z`, totalValue: TOTALS[i], unrealizedPnl: UNREALIZED[i] });
    });
  });

  it('uses a close from before `from` for the first days (lookback) and fetches history once per symbol', async () => {
    const id = await handChecked(ctx.engine);
    // Starts on a Saturday: Friday's close (before the range) values AAA.
    const report = await ctx.engine.backfill(id, { from: '2026-01-03', to: '2026-01-06' });
    expect(report).toMatchObject({ firstDay: '2026-01-03', written: 4, skippedDays: 0 });
    expect((await backfillRows(ctx.store, id)).map((r) => r.totalValue)).toEqual(['999', '999', '913', '1018']);
    expect(ctx.historyCalls.sort()).toEqual(['AAA', 'BBB']);
  });

  it('is idempotent: reruns and concurrent runs leave one row per day', async () => {
    const id = await handChecked(ctx.engine);
    await ctx.engine.backfill(id, { from: '2026-01-01', to: '2026-01-13' });
    await ctx.engine.backfill(id, { from: '2026-01-01', to: '2026-01-13' });
    await Promise.all([
      ctx.engine.backfill(id, { from: '2026-01-05', to: '2026-01-13' }),
      ctx.engine.backfill(id, { from: '2026-01-01', to: '2026-01-08' }),
    ]);
    const rows = await backfillRows(ctx.store, id);
    const perDay = new Map<string, number>();
    for (const r of rows) perDay.set(r.day, (perDay.get(r.day) ?? 0) + 1);
    expect(perDay.size).toBe(12);
    expect([...perDay.values()].every((n) => n === 1)).toBe(true);
    expect(rows.map((r) => r.totalValue)).toEqual(TOTALS);
  });

  it('counts backdated entries: a portfolio created today backfills from its first entry', async () => {
    const id = await handChecked(ctx.engine);
    const portfolio = await ctx.engine.getPortfolio(id);
    expect(portfolio.createdAt).toBe('2026-01-20T12:00:00.000Z');
    const report = await ctx.engine.backfill(id, { from: '2026-01-01', to: '2026-01-02' });
    expect(report).toMatchObject({ firstDay: '2026-01-02', written: 1, skippedDays: 1 });
    const empty = await ctx.engine.createPortfolio({ name: 'empty' });
    expect(await ctx.engine.backfill(empty.id, { from: '2026-01-01', to: '2026-01-13' })).toMatchObject({
      firstDay: null,
      written: 0,
      skippedDays: 13,
    });
  });

  it('validates the range', async () => {
    const id = await handChecked(ctx.engine);
    expect(await codeOf(ctx.engine.backfill(id, { from: '2026-01-10', to: '2026-01-01' }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.backfill(id, { from: '2015-01-01', to: '2026-01-13' }))).toBe('RANGE_TOO_LARGE');
    expect(await codeOf(ctx.engine.backfill(id, { from: '2016-01-06', to: '2026-01-13' }))).toBe('RANGE_TOO_LARGE'); // 3,661 days
    expect(await codeOf(ctx.engine.backfill(id, { from: '2016-01-07', to: '2026-01-13' }))).toBe('OK'); // 3,660 days
    expect(await codeOf(ctx.engine.backfill(id, { from: '2026-01-01', to: '2026-01-21' }))).toBe('VALIDATION_FAILED'); // tomorrow
    expect(await codeOf(ctx.engine.backfill(id, { from: '2026-13-01', to: '2026-01-21' }))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.backfill(id, { from: '2026-01-01' } as never))).toBe('VALIDATION_FAILED');
    expect(await codeOf(ctx.engine.backfill('pf_none', { from: '2026-01-01', to: '2026-01-02' }))).toBe(
      'PORTFOLIO_NOT_FOUND',
    );
    expect(await codeOf(ctx.engine.backfillAll({ from: '2026-01-02', to: '2026-01-01' }))).toBe('VALIDATION_FAILED');
  });

  it('honours a smaller maxBackfillDays', async () => {
    await ctx.close();
    ctx = setup({ maxBackfillDays: 5 });
    const id = await handChecked(ctx.engine);
    await expect(ctx.engine.backfill(id, { from: '2026-01-01', to: '2026-01-06' })).rejects.toMatchObject({
      code: 'RANGE_TOO_LARGE',
    });
    await expect(ctx.engine.backfill(id, { from: '2026-01-02', to: '2026-01-06' })).resolves.toMatchObject({
      written: 5,
    });
  });

  it('emits progress and one completion event, not one event per row', async () => {
    const id = await handChecked(ctx.engine);
    ctx.events.length = 0;
    const report = await ctx.engine.backfill(id, { from: '2026-01-01', to: '2026-01-13' });
    expect(ctx.events.map((e) => e.type)).toEqual(['backfill.progress', 'backfill.progress', 'backfill.completed']);
    expect(ctx.events[1]).toMatchObject({ portfolioId: id, unit: 'days', done: 13, total: 13 });
    expect(ctx.events[2]).toMatchObject({ type: 'backfill.completed', portfolioId: id, report });
  });

  it('reports a symbol the provider does not know, and fails loudly when the provider is down', async () => {
    const p = await ctx.engine.createPortfolio({ name: 'x' });
    await ctx.engine.deposit(p.id, { amount: '100', at: '2026-01-05T00:00:00Z' });
    await ctx.engine.trade(p.id, { symbol: 'GONE', side: 'buy', quantity: 1, price: '10', at: '2026-01-05T01:00:00Z' });
    const r = await ctx.engine.backfill(p.id, { from: '2026-01-05', to: '2026-01-07' });
    expect(r.unpriced).toEqual([
      { symbol: 'GONE', days: 3, firstDay: '2026-01-05', lastDay: '2026-01-07', reason: 'unknown-symbol' },
    ]);
    expect((await backfillRows(ctx.store, p.id)).map((row) => [row.totalValue, row.flags])).toEqual([
      ['90', ['GONE:unpriced']],
      ['90', ['GONE:unpriced']],
      ['90', ['GONE:unpriced']],
    ]);
    ctx.provider.failing = true;
    await expect(ctx.engine.backfill(p.id, { from: '2026-01-05', to: '2026-01-07' })).rejects.toMatchObject({
      code: 'PRICE_UNAVAILABLE',
    });
  });
});

describe('backfillAll', () => {
  it('backfills every portfolio with history fetched once per symbol; a failing portfolio is reported, others done', async () => {
    await ctx.close();
    ctx = setup({ batchSize: 2 });
    const a = await handChecked(ctx.engine);
    const b = await handChecked(ctx.engine);
    const c = await ctx.engine.createPortfolio({ name: 'cash', initialCash: '5' }); // created 01-20: nothing before
    const d = await ctx.engine.createPortfolio({ name: 'bad' });
    await ctx.engine.deposit(d.id, { amount: '100', at: '2026-01-05T00:00:00Z' });
    await ctx.engine.trade(d.id, { symbol: 'FAIL', side: 'buy', quantity: 1, price: '1', at: '2026-01-05T01:00:00Z' });
    const inner = ctx.provider.getDailyHistory;
    ctx.provider.getDailyHistory = async (symbol, range, opts) => {
      if (symbol === 'FAIL') throw new FoliokitError('PROVIDER_UNAVAILABLE', 'history server down');
      return inner(symbol, range, opts);
    };
    ctx.events.length = 0;
    const report = await ctx.engine.backfillAll({ from: '2026-01-01', to: '2026-01-13' });
    expect(report).toMatchObject({
      from: '2026-01-01',
      to: '2026-01-13',
      processed: 4,
      succeeded: 3,
      written: 24,
      failedCount: 1,
      failed: [{ portfolioId: d.id, code: 'PRICE_UNAVAILABLE' }],
      unpriced: [{ symbol: 'BBB', portfolios: 2, days: 2 }],
    });
    expect((await backfillRows(ctx.store, a)).map((r) => r.totalValue)).toEqual(TOTALS);
    expect((await backfillRows(ctx.store, b)).map((r) => r.totalValue)).toEqual(TOTALS);
    expect(await backfillRows(ctx.store, c.id)).toEqual([]);
    expect(await backfillRows(ctx.store, d.id)).toEqual([]);
    expect(ctx.historyCalls.sort()).toEqual(['AAA', 'BBB']);
    const types = ctx.events.map((e) => e.type);
    expect(types.filter((t) => t === 'backfill.completed')).toHaveLength(1);
    expect(types.filter((t) => t === 'snapshot.recorded')).toHaveLength(0);
    expect(ctx.events.at(-1)).toMatchObject({ type: 'backfill.completed', portfolioId: null, report });
  });
});

// How fast this walk runs is a figure of `pnpm bench jobs`, never an assertion here.
describe('a wide, long backfill', () => {
  it('walks 50 symbols × 10 years: one row per day, the last valued at each symbol’s last close', async () => {
    const symbols = Array.from({ length: 50 }, (_, i) => `S${String(i).padStart(2, '0')}`);
    const start = Date.parse('2016-01-22T00:00:00Z');
    const days = 3650;
    const history: Record<string, DailyBar[]> = {};
    for (const [k, s] of symbols.entries()) {
      const list: DailyBar[] = [];
      for (let d = 0; d < days + 14; d++) {
        const ms = start - 14 * 86_400_000 + d * 86_400_000;
        const wd = new Date(ms).getUTCDay();
        if (wd === 0 || wd === 6) continue;
        list.push({ day: new Date(ms).toISOString().slice(0, 10), close: `${100 + k}.${(d * 7 + k) % 100}` });
      }
      history[s] = list;
    }
    for (const s of symbols) ctx.provider.setHistory(s, history[s] as DailyBar[]);
    const p = await ctx.engine.createPortfolio({ name: 'big' });
    await ctx.engine.deposit(p.id, { amount: '100000000', at: '2016-01-22T10:00:00Z' });
    for (const s of symbols)
      await ctx.engine.trade(p.id, {
        symbol: s,
        side: 'buy',
        quantity: '10.5',
        price: '100',
        at: '2016-01-22T11:00:00Z',
      });
    const r = await ctx.engine.backfill(p.id, { from: '2016-01-22', to: '2026-01-19' });
    expect(r.written).toBe(3651);
    expect(r.unpriced).toEqual([]);
    let expected = dec(0);
    for (const s of symbols) {
      const last = (history[s] as DailyBar[]).filter((b) => b.day <= '2026-01-19').at(-1) as DailyBar;
      expected = expected.plus(dec(last.close).times('10.5'));
    }
    const h = await ctx.engine.getHistory(p.id, { from: '2026-01-19', to: '2026-01-19', kinds: ['backfill'] });
    expect(h.items).toHaveLength(1);
    expect(h.items[0]?.marketValue).toBe(fmt(expected));
  });
});
