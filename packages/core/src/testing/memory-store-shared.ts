/**
 * The memory store's tables that belong to no portfolio: latest prices, daily bars, job runs, and
 * the keys `runExclusive` holds (within this process).
 */

import { memoryJobRuns } from '../jobs/job-runs.js';
import type { DailyBarRow, ExclusiveResult, JobRunRow, Store, SymbolPriceRow } from '../ports/index.js';
import { isoOut } from '../sql/rows.js';
import { barIn, bySymbol, byText, copy, jobRunIn, jobRunOut, priceIn } from './memory-store-rows.js';

/** The store methods on the shared tables. */
export type SharedTableMethods = Pick<Store, 'upsertPrices' | 'getPrices' | 'upsertDailyBars' | 'listDailyBars'> &
  Required<Pick<Store, 'runExclusive' | 'getJobRun' | 'saveJobRun' | 'listJobRuns' | 'deleteJobRuns'>>;

/** A job run as a SQL store would give it back: normalised instants, `report` through JSON, a copy. */
const throughStorage = (row: JobRunRow): JobRunRow => jobRunOut(jobRunIn(row));

/** Creates empty shared tables and the store methods on them. */
export function createSharedTables(): SharedTableMethods {
  const prices = new Map<string, SymbolPriceRow>();
  const bars = new Map<string, Map<string, DailyBarRow>>();
  const jobRuns = memoryJobRuns();
  const held = new Set<string>();

  return {
    async upsertPrices(rows) {
      // Normalise every row first: a bad one writes nothing.
      for (const p of rows.map(priceIn)) {
        const kept = prices.get(p.symbol);
        if (!kept || p.at >= kept.at) prices.set(p.symbol, p);
      }
    },

    async getPrices(symbols) {
      const wanted = symbols === undefined ? null : new Set(symbols);
      return [...prices.values()]
        .filter((p) => wanted === null || wanted.has(p.symbol))
        .sort(bySymbol)
        .map(copy);
    },

    async upsertDailyBars(rows) {
      for (const b of rows.map(barIn)) {
        let days = bars.get(b.symbol);
        if (!days) bars.set(b.symbol, (days = new Map()));
        days.set(b.day, b);
      }
    },

    async listDailyBars(symbol, range) {
      return [...(bars.get(symbol)?.values() ?? [])]
        .filter((b) => b.day >= range.from && b.day <= range.to)
        .sort((a, b) => byText(a.day, b.day))
        .map(copy);
    },

    async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<ExclusiveResult<T>> {
      if (held.has(key)) return { ran: false };
      held.add(key);
      try {
        return { ran: true, value: await fn() };
      } finally {
        held.delete(key);
      }
    },

    // Job runs: the scheduler's own in-memory records, each row passed through JSON like a SQL
    // store's `report` column, and copied in and out.
    async getJobRun(job, runKey) {
      const r = await jobRuns.get(job, runKey);
      return r ? throughStorage(r) : null;
    },

    saveJobRun: (row: JobRunRow) => jobRuns.save(throughStorage(row)),

    async listJobRuns(job, query) {
      return (await jobRuns.list(job, query)).map(throughStorage);
    },

    deleteJobRuns: (query) => jobRuns.prune(isoOut(query.startedBefore), query.job),
  };
}
