/**
 * The scheduler and the built-in jobs through the engine, on the memory store and a manual clock:
 * interval and daily snapshots, catch-up after downtime, jobs added by others, job-run records,
 * and several engines sharing one store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  DAILY_JOB,
  type DailyBar,
  type DailyJobReport,
  INTERVAL_JOB,
  type JobRunRow,
  type JobStatus,
  type PortfolioEngine,
  PRICE_POLLER_JOB,
  type Store,
} from '../index.js';
import type { ManualClock } from '../testing/clock.js';
import { createTestEngine, listAllSnapshots, type TestEngine } from '../testing/harness.js';
import type { TestProvider } from '../testing/provider.js';

const open: TestEngine[] = [];

function setup(
  start: string,
  opts: { batchSize?: number; store?: Store; clock?: ManualClock; provider?: TestProvider } = {},
): TestEngine {
  const { batchSize, ...shared } = opts;
  const ctx = createTestEngine({
    start,
    ...shared,
    prices: { AAPL: '150', MSFT: '400', AAA: '99' },
    engine: { snapshots: { batchSize: batchSize ?? 1000 } },
  });
  open.push(ctx);
  return ctx;
}

afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

const job = (engine: PortfolioEngine, name: string): JobStatus => {
  const j = engine.getSchedulerStatus().jobs.find((x) => x.name === name);
  if (!j) throw new Error(`no job ${name}`);
  return j;
};

/** The job-run records of one job, or of every built-in job, by run key. */
async function jobRuns(store: Store, only?: string): Promise<JobRunRow[]> {
  if (!store.listJobRuns) throw new Error(`store ${store.name} keeps no job runs`);
  const out: JobRunRow[] = [];
  for (const name of only ? [only] : [DAILY_JOB, INTERVAL_JOB, PRICE_POLLER_JOB]) {
    out.push(...(await store.listJobRuns(name, { limit: 10_000 })));
  }
  return out.sort((a, b) => (a.runKey < b.runKey ? -1 : a.runKey > b.runKey ? 1 : 0));
}

describe('interval snapshots', () => {
  it('snapshots portfolios with open positions every 30 s, on the injected clock', async () => {
    const { engine, clock, store, events } = setup('2026-01-05T10:00:00.000Z');
    const a = await engine.createPortfolio({ name: 'A', initialCash: '1000' });
    await engine.trade(a.id, { symbol: 'AAPL', side: 'buy', quantity: 2 });
    const b = await engine.createPortfolio({ name: 'B', initialCash: '500' });
    events.length = 0;
    const status = engine.startScheduler({ prices: false, daily: false });
    expect(status.jobs).toEqual([
      expect.objectContaining({
        name: 'interval-snapshots',
        schedule: 'every 30000 ms',
        nextRunAt: '2026-01-05T10:00:30.000Z',
        running: false,
      }),
    ]);
    await clock.advance(30_000);
    await engine.whenJobsIdle();
    expect((await store.listSnapshots(a.id, { kinds: ['interval'] })).map((r) => r.at)).toEqual([
      '2026-01-05T10:00:30.000Z',
    ]);
    await clock.advance(60_000);
    await engine.whenJobsIdle();
    const mine = await store.listSnapshots(a.id, { kinds: ['interval'] });
    expect(mine.map((r) => r.at)).toEqual([
      '2026-01-05T10:00:30.000Z',
      '2026-01-05T10:01:00.000Z',
      '2026-01-05T10:01:30.000Z',
    ]);
    expect(mine.every((r) => r.totalValue === '1000')).toBe(true);
    expect(await store.listSnapshots(b.id, {})).toEqual([]);
    expect(job(engine, 'interval-snapshots')).toMatchObject({
      runCount: 3,
      lastResult: 'completed',
      lastReport: { recorded: 1, withoutPositions: 1, failed: 0 },
      consecutiveFailures: 0,
      nextRunAt: '2026-01-05T10:02:00.000Z',
    });
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'snapshot.recorded')).toHaveLength(3);
    expect(types.filter((t) => t === 'job.completed')).toHaveLength(3);
    await engine.stopScheduler();
    expect(clock.pending()).toBe(0);
    expect(engine.getSchedulerStatus()).toMatchObject({ running: false, jobs: [] });
    await clock.advance(120_000);
    expect(await listAllSnapshots(store, { kinds: ['interval'] })).toHaveLength(3);
  });
});

describe('daily job', () => {
  it('runs at 00:00 UTC for the day that ended, one row per portfolio, and names failures', async () => {
    const { engine, clock, store, events } = setup('2026-01-05T23:59:30.000Z');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await engine.createPortfolio({ name: `P${i}`, initialCash: '1000' });
      await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: 1 });
      ids.push(p.id);
    }
    const bad = await engine.createPortfolio({ name: 'bad', initialCash: '10' });
    await engine.trade(bad.id, { symbol: 'NOPE', side: 'buy', quantity: 1, price: '1' });
    const status = engine.startScheduler({ prices: false, interval: false });
    expect(job(engine, 'daily-snapshots')).toMatchObject({
      schedule: 'cron 0 0 * * * (UTC)',
      nextRunAt: '2026-01-06T00:00:00.000Z',
    });
    expect(status.running).toBe(true);
    // First start: the catch-up finds no earlier run, so there is nothing it missed.
    await clock.advance(0);
    await engine.whenJobsIdle();
    expect(job(engine, 'daily-snapshots').lastReport).toMatchObject({
      day: '2026-01-04',
      processed: 0,
      note: expect.any(String),
    });
    expect(await listAllSnapshots(store, { kinds: ['daily'] })).toEqual([]);
    await clock.advanceTo('2026-01-06T00:00:01.000Z');
    await engine.whenJobsIdle();
    const daily = (await listAllSnapshots(store, { kinds: ['daily'] })).map((r) => ({
      portfolioId: r.portfolioId,
      day: r.day,
      at: r.at,
      totalValue: r.totalValue,
    }));
    expect(daily).toEqual(
      ids.map((id) => ({ portfolioId: id, day: '2026-01-05', at: '2026-01-05T23:59:59.999Z', totalValue: '1000' })),
    );
    const completed = events.filter((e) => e.type === 'job.completed').at(-1);
    expect(completed).toMatchObject({
      job: 'daily-snapshots',
      runKey: '2026-01-05',
      trigger: 'schedule',
      report: {
        day: '2026-01-05',
        method: 'latest',
        processed: 4,
        succeeded: 3,
        failedCount: 1,
        failed: [{ portfolioId: bad.id, code: 'PRICE_UNAVAILABLE' }],
        caughtUp: [],
      },
    });
    expect(job(engine, 'daily-snapshots')).toMatchObject({
      nextRunAt: '2026-01-07T00:00:00.000Z',
      runCount: 2,
      lastResult: 'completed',
    });
    expect((await jobRuns(store)).map((r) => ({ job: r.job, runKey: r.runKey, status: r.status }))).toEqual([
      { job: 'daily-snapshots', runKey: '2026-01-04', status: 'completed' },
      { job: 'daily-snapshots', runKey: '2026-01-05', status: 'completed' },
    ]);
    // A manual run of the latest due tick is a no-op: that tick is done.
    expect(await engine.runJob('daily-snapshots')).toEqual({
      status: 'skipped',
      runKey: '2026-01-05',
      reason: 'completed-elsewhere',
    });
    await engine.stopScheduler();
    expect(clock.pending()).toBe(0);
  });

  it('follows a cron expression in a time zone; the day is the zone’s day that just ended', async () => {
    const { engine, clock, store } = setup('2026-01-06T04:00:00.000Z');
    const p = await engine.createPortfolio({ name: 'NY', initialCash: '10' });
    engine.startScheduler({
      prices: false,
      interval: false,
      daily: { cron: '0 0 * * *', timezone: 'America/New_York', catchUpDays: 0 },
    });
    expect(job(engine, 'daily-snapshots')).toMatchObject({
      schedule: 'cron 0 0 * * * (America/New_York)',
      nextRunAt: '2026-01-06T05:00:00.000Z',
    });
    await clock.advanceTo('2026-01-06T05:00:00.000Z');
    await engine.whenJobsIdle();
    expect((await store.listSnapshots(p.id, { kinds: ['daily'] })).map((r) => ({ day: r.day, at: r.at }))).toEqual([
      // The day ends at the zone's midnight.
      { day: '2026-01-05', at: '2026-01-06T04:59:59.999Z' },
    ]);
    expect(() => engine.startScheduler()).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    await engine.stopScheduler();
    expect(() => engine.startScheduler({ prices: false, daily: { cron: 'every day' } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => engine.startScheduler({ prices: false, daily: { timezone: 'Mars/Olympus' } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => engine.startScheduler({ prices: false, interval: { everyMs: 5 } })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(engine.getSchedulerStatus().running).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('stopScheduler during a run waits for it: the day is written whole, no timer is left', async () => {
    const { engine, clock, store, provider } = setup('2026-01-05T23:58:00.000Z', { batchSize: 2 });
    for (let i = 0; i < 7; i++) {
      const p = await engine.createPortfolio({ name: `S${i}`, initialCash: '1000' });
      await engine.trade(p.id, { symbol: i % 2 ? 'AAPL' : 'MSFT', side: 'buy', quantity: 1 });
    }
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let blocked = 0;
    const inner = provider.getQuotes.bind(provider);
    provider.getQuotes = async (symbols, o) => {
      blocked++;
      await gate;
      return inner(symbols, o);
    };
    engine.startScheduler({ prices: false, interval: false, daily: { catchUpDays: 0 } });
    await clock.advanceTo('2026-01-06T00:00:00.000Z');
    expect(job(engine, 'daily-snapshots').running).toBe(true);
    expect(blocked).toBe(1);
    let stopped = false;
    const stopping = engine.stopScheduler().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    expect(clock.pending()).toBe(0);
    expect(() => engine.startScheduler()).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    release();
    await stopping;
    const daily = await listAllSnapshots(store, { kinds: ['daily'] });
    expect(daily.filter((r) => r.day === '2026-01-05')).toHaveLength(7);
    expect((await jobRuns(store)).map((r) => ({ runKey: r.runKey, status: r.status }))).toEqual([
      { runKey: '2026-01-05', status: 'completed' },
    ]);
    expect(clock.pending()).toBe(0);
    expect(engine.getSchedulerStatus().running).toBe(false);
  });
});

describe('catch-up after downtime', () => {
  it('values the missed days from history, within the window, and a rerun adds nothing', async () => {
    const { engine, clock, store, provider } = setup('2026-01-05T23:59:00.000Z');
    const history: DailyBar[] = [
      { day: '2026-01-05', close: '10' },
      { day: '2026-01-06', close: '11' },
      { day: '2026-01-07', close: '12' },
      { day: '2026-01-08', close: '13' },
      { day: '2026-01-09', close: '14' },
    ];
    provider.setHistory('AAA', history);
    provider.setPrice('AAA', '10');
    const a = await engine.createPortfolio({ name: 'A', initialCash: '1000' });
    await engine.trade(a.id, { symbol: 'AAA', side: 'buy', quantity: 10 });
    const b = await engine.createPortfolio({ name: 'B', initialCash: '500' });
    const daily = { catchUpDays: 3 };
    engine.startScheduler({ prices: false, interval: false, daily });
    await clock.advanceTo('2026-01-06T00:00:01.000Z');
    await engine.whenJobsIdle();
    await engine.stopScheduler();

    // Down from Jan 6 to Jan 10 09:00: four midnights pass. A trades meanwhile.
    clock.set('2026-01-08T15:00:00.000Z');
    await engine.trade(a.id, { symbol: 'AAA', side: 'buy', quantity: 5, price: '12' });
    clock.set('2026-01-10T09:00:00.000Z');
    provider.setPrice('AAA', '99'); // today's price must not value past days
    engine.startScheduler({ prices: false, interval: false, daily });
    await clock.advance(0);
    await engine.whenJobsIdle();

    const report = job(engine, 'daily-snapshots').lastReport as DailyJobReport;
    expect(report).toMatchObject({ day: '2026-01-09', method: 'history', processed: 2, succeeded: 2 });
    expect(report.caughtUp.map((r) => [r.day, r.method, r.succeeded])).toEqual([
      ['2026-01-07', 'history', 2],
      ['2026-01-08', 'history', 2],
    ]);
    const byDay = async (id: string) =>
      (await store.listSnapshots(id, { kinds: ['daily'] }))
        .sort((x, y) => (x.day < y.day ? -1 : x.day > y.day ? 1 : 0))
        .map((r) => ({ day: r.day, totalValue: r.totalValue }));
    // Jan 5 by the scheduled run (10 × 10 + 900); Jan 6 is outside the 3-day window (left to backfill);
    // Jan 7: 10 × 12 + 900; Jan 8: 15 × 13 + 840; Jan 9: 15 × 14 + 840.
    expect(await byDay(a.id)).toEqual([
      { day: '2026-01-05', totalValue: '1000' },
      { day: '2026-01-07', totalValue: '1020' },
      { day: '2026-01-08', totalValue: '1035' },
      { day: '2026-01-09', totalValue: '1050' },
    ]);
    expect((await byDay(b.id)).map((r) => r.totalValue)).toEqual(['500', '500', '500', '500']);

    // Restarting adds nothing; the next midnight records Jan 10 at the latest prices.
    await engine.stopScheduler();
    engine.startScheduler({ prices: false, interval: false, daily });
    await clock.advance(0);
    await engine.whenJobsIdle();
    expect(await byDay(a.id)).toHaveLength(4);
    await clock.advanceTo('2026-01-11T00:00:00.000Z');
    await engine.whenJobsIdle();
    expect((await byDay(a.id)).at(-1)).toEqual({ day: '2026-01-10', totalValue: String(840 + 15 * 99) });
    expect((job(engine, 'daily-snapshots').lastReport as DailyJobReport).caughtUp).toEqual([]);
    const all = await listAllSnapshots(store, { kinds: ['daily'] });
    expect({ c: all.length, d: new Set(all.map((r) => `${r.portfolioId} ${r.day}`)).size }).toEqual({ c: 10, d: 10 });
  });
});

describe('a restart just after midnight', () => {
  it('values the day that just ended at the latest prices, as the missed tick would have', async () => {
    const { engine, clock, store, provider } = setup('2026-01-05T23:59:00.000Z');
    provider.setHistory('AAA', [{ day: '2026-01-05', close: '10' }]); // no close for Jan 6 published yet
    provider.setPrice('AAA', '10');
    const a = await engine.createPortfolio({ name: 'A', initialCash: '1000' });
    await engine.trade(a.id, { symbol: 'AAA', side: 'buy', quantity: 10 });
    engine.startScheduler({ prices: false, interval: false });
    await clock.advanceTo('2026-01-06T00:00:01.000Z');
    await engine.whenJobsIdle();
    await engine.stopScheduler();
    clock.set('2026-01-07T00:20:00.000Z'); // down over the Jan 7 midnight, back 20 minutes later
    provider.setPrice('AAA', '12');
    engine.startScheduler({ prices: false, interval: false });
    await clock.advance(0);
    await engine.whenJobsIdle();
    expect(job(engine, 'daily-snapshots').lastReport).toMatchObject({
      day: '2026-01-06',
      method: 'latest',
      caughtUp: [],
    });
    expect(
      (await store.listSnapshots(a.id, { kinds: ['daily'] })).map((r) => ({ day: r.day, totalValue: r.totalValue })),
    ).toEqual([
      { day: '2026-01-05', totalValue: '1000' },
      { day: '2026-01-06', totalValue: '1020' },
    ]);
    await engine.stopScheduler();
  });
});

describe('jobs added by others', () => {
  it('counts failures and consecutive failures, skips overlapping ticks, and validates definitions', async () => {
    const { engine, clock, events } = setup('2026-01-05T10:00:00.000Z');
    let calls = 0;
    engine.addJob({
      name: 'flaky',
      schedule: { everyMs: 10_000 },
      async run() {
        calls++;
        if (calls <= 2) throw new Error(`boom ${calls}`);
        return { calls };
      },
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let slowRuns = 0;
    engine.addJob({
      name: 'slow',
      schedule: { everyMs: 1000 },
      async run() {
        slowRuns++;
        await gate;
        return null;
      },
    });
    expect(() => engine.addJob({ name: 'flaky', schedule: { everyMs: 1000 }, run: async () => null })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => engine.addJob({ name: 'Bad Name', schedule: { everyMs: 1000 }, run: async () => null })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => engine.addJob({ name: 'x', schedule: { cron: '61 * * * *' }, run: async () => null })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    engine.startScheduler({ prices: false, interval: false, daily: false });
    await clock.advance(10_000);
    await clock.advance(10_000);
    expect(job(engine, 'flaky')).toMatchObject({
      runCount: 2,
      failureCount: 2,
      consecutiveFailures: 2,
      lastResult: 'failed',
      lastError: { code: 'JOB_FAILED', message: 'boom 2' },
    });
    expect(events.filter((e) => e.type === 'job.failed')).toHaveLength(2);
    await clock.advance(10_000);
    expect(job(engine, 'flaky')).toMatchObject({
      runCount: 3,
      failureCount: 2,
      consecutiveFailures: 0,
      lastReport: { calls: 3 },
    });
    // 'slow' started at the first second and has held every later tick.
    expect(slowRuns).toBe(1);
    expect(job(engine, 'slow')).toMatchObject({ running: true, skippedCount: 29 });
    release();
    await engine.whenJobsIdle();
    expect(await engine.removeJob('slow')).toBe(true);
    expect(await engine.removeJob('slow')).toBe(false);
    await engine.stopScheduler();
    expect(clock.pending()).toBe(0);
    // User jobs stay registered across a restart; the built-in ones come and go with it.
    engine.startScheduler({ prices: false, interval: false, daily: false });
    expect(engine.getSchedulerStatus().jobs.map((j) => j.name)).toEqual(['flaky']);
    await engine.close();
    expect(clock.pending()).toBe(0);
  });
});

describe('job-run records', () => {
  it('are pruned: an interval job keeps about a day (or ten periods), a cron job its retention', async () => {
    const { engine, clock, store } = setup('2026-01-05T00:00:00.000Z');
    engine.addJob({ name: 'hourly', schedule: { everyMs: 3_600_000 }, run: async () => ({ ok: true }) });
    engine.addJob({ name: 'nightly', schedule: { cron: '0 0 * * *' }, run: async () => ({ ok: true }) });
    engine.startScheduler({ prices: false, interval: false, daily: false, jobRunRetentionDays: 2 });
    await clock.advanceTo('2026-01-07T06:00:00.000Z');
    await engine.whenJobsIdle();
    const count = async (name: string) => (await jobRuns(store, name)).length;
    // 54 hourly ticks ran; records older than ten periods (10 h) go, pruned at most hourly.
    expect(job(engine, 'hourly').runCount).toBe(54);
    expect(await count('hourly')).toBeGreaterThanOrEqual(10);
    expect(await count('hourly')).toBeLessThanOrEqual(25);
    expect(await count('nightly')).toBe(2);
    await clock.advanceTo('2026-01-10T06:00:00.000Z');
    await engine.whenJobsIdle();
    expect(await count('nightly')).toBeLessThanOrEqual(3);
    await engine.stopScheduler();
  });
});

describe('several engines on one store (one process)', () => {
  it('runs each tick once', async () => {
    const first = setup('2026-01-05T23:59:00.000Z');
    const others = [
      setup('', { store: first.store, clock: first.clock, provider: first.provider }),
      setup('', { store: first.store, clock: first.clock, provider: first.provider }),
    ];
    for (let i = 0; i < 5; i++) {
      const p = await first.engine.createPortfolio({ name: `M${i}`, initialCash: '100' });
      await first.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '0.5' });
    }
    for (const c of [first, ...others]) c.engine.startScheduler({ prices: false, interval: { everyMs: 30_000 } });
    await first.clock.advanceTo('2026-01-06T00:00:30.000Z');
    for (const c of [first, ...others]) await c.engine.whenJobsIdle();
    await first.clock.advance(20_000); // retries of held ticks find them done
    for (const c of [first, ...others]) await c.engine.whenJobsIdle();
    expect(await listAllSnapshots(first.store, { kinds: ['daily'] })).toHaveLength(5);
    // Interval ticks 23:59:30, 00:00:00, 00:00:30 → 3 per portfolio, not 9.
    expect(await listAllSnapshots(first.store, { kinds: ['interval'] })).toHaveLength(15);
    const ran = [first, ...others].map((c) => job(c.engine, 'daily-snapshots').runCount);
    expect(ran.reduce((x, y) => x + y, 0)).toBe(2); // the first-start catch-up and the midnight run
    for (const c of [first, ...others]) await c.engine.stopScheduler();
    expect(first.clock.pending()).toBe(0);
  });
});
