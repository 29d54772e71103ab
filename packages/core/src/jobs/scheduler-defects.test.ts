/**
 * Issue #9, defect 12 (b, d) on the memory store and a manual clock: a bad time zone is named as
 * the time-zone field, and built-in jobs and users' jobs never collide.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DAILY_JOB, INTERVAL_JOB, isFoliokitError, PRICE_POLLER_JOB } from '../index.js';
import { createTestEngine, type TestEngine } from '../testing/harness.js';

const open: TestEngine[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

function setup(): TestEngine {
  const ctx = createTestEngine({ start: '2026-01-05T10:00:00.000Z', prices: { AAPL: '150' } });
  open.push(ctx);
  return ctx;
}

/** The code and field a call throws, or `'OK'`. */
function failure(call: () => unknown): { code: string; field?: unknown } | 'OK' {
  try {
    call();
    return 'OK';
  } catch (error) {
    if (isFoliokitError(error)) return { code: error.code, field: error.details.field };
    throw error;
  }
}

const noop = async () => null;

describe('defect 12b: a bad time zone names the time-zone field', () => {
  it('in the daily job options of startScheduler', () => {
    const { engine, clock } = setup();
    expect(failure(() => engine.startScheduler({ prices: false, daily: { timezone: 'Mars/Olympus' } }))).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'daily.timezone',
    });
    // A bad expression in a good zone still names the expression.
    expect(
      failure(() => engine.startScheduler({ prices: false, daily: { cron: 'every day', timezone: 'Europe/Paris' } })),
    ).toEqual({ code: 'VALIDATION_FAILED', field: 'daily.cron' });
    expect(engine.getSchedulerStatus().running).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('in a job added with addJob', () => {
    const { engine } = setup();
    expect(
      failure(() =>
        engine.addJob({ name: 'nightly', schedule: { cron: '0 0 * * *', timezone: 'Not/AZone' }, run: noop }),
      ),
    ).toEqual({ code: 'VALIDATION_FAILED', field: 'schedule.timezone' });
    expect(engine.getSchedulerStatus().jobs).toEqual([]);
  });
});

describe("defect 12d: built-in jobs and users' jobs never collide", () => {
  it("a user job may not take a built-in job's name", () => {
    const { engine } = setup();
    for (const name of [DAILY_JOB, INTERVAL_JOB, PRICE_POLLER_JOB]) {
      expect([name, failure(() => engine.addJob({ name, schedule: { everyMs: 60_000 }, run: noop }))]).toEqual([
        name,
        { code: 'VALIDATION_FAILED', field: 'name' },
      ]);
    }
    expect(engine.getSchedulerStatus().jobs).toEqual([]);
  });

  it("stopScheduler removes only the built-in jobs it registered, never a user's job", async () => {
    const { engine, clock } = setup();
    const ran: string[] = [];
    engine.addJob({
      name: 'my-report',
      schedule: { everyMs: 60_000 },
      run: async (ctx) => {
        ran.push(ctx.runKey);
        return null;
      },
    });
    engine.startScheduler({ daily: false });
    expect(engine.getSchedulerStatus().jobs.map((j) => j.name)).toEqual(['my-report', INTERVAL_JOB, PRICE_POLLER_JOB]);
    await engine.stopScheduler();
    expect(engine.getSchedulerStatus().jobs.map((j) => j.name)).toEqual(['my-report']);
    // Started again, the user's job runs again beside fresh built-ins.
    engine.startScheduler({ interval: false, prices: false });
    expect(engine.getSchedulerStatus().jobs.map((j) => j.name)).toEqual(['my-report', DAILY_JOB]);
    await clock.advance(60_000);
    await engine.whenJobsIdle();
    expect(ran).toHaveLength(1);
    await engine.stopScheduler();
    expect(engine.getSchedulerStatus().jobs.map((j) => j.name)).toEqual(['my-report']);
    expect(clock.pending()).toBe(0);
  });
});
