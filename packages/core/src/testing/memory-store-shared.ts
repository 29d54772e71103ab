/**
 * The memory store's tables that belong to no portfolio: latest prices, daily bars, job runs, and
 * the keys `runExclusive` holds (within this process).
 */
import type { DailyBarRow, ExclusiveResult, JobRunRow, Store, SymbolPriceRow } from '../ports/index.js';
import { isoOut } from '../sql/rows.js';
import { barIn, bySymbol, byText, copy, jobRunIn, jobRunOut, priceIn, type StoredJobRun } from './memory-store-rows.js';

/** The store methods on the shared tables. */
export type SharedTableMethods = Pick<Store, 'upsertPrices' | 'getPrices' | 'upsertDailyBars' | 'listDailyBars'> &
  Required<Pick<Store, 'runExclusive' | 'getJobRun' | 'saveJobRun' | 'listJobRuns' | 'deleteJobRuns'>>;

const runId = (job: string, runKey: string) => `${job}\u0000${runKey}`;

/** Creates empty shared tables and the store methods on them. */
export function createSharedTables(): SharedTableMethods {
  const prices = new Map<string, SymbolPriceRow>();
  const bars = new Map<string, Map<string, DailyBarRow>>();
  const jobRuns = new Map<string, StoredJobRun>();
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

    async getJobRun(job, runKey) {
      const r = jobRuns.get(runId(job, runKey));
      return r ? jobRunOut(r) : null;
    },

    async saveJobRun(row: JobRunRow) {
      const r = jobRunIn(row);
      jobRuns.set(runId(r.job, r.runKey), r);
    },

    async listJobRuns(job, query) {
      const out = [...jobRuns.values()]
        .filter(
          (r) =>
            r.job === job &&
            (query.fromKey === undefined || r.runKey >= query.fromKey) &&
            (query.toKey === undefined || r.runKey <= query.toKey) &&
            (query.status === undefined || r.status === query.status),
        )
        .sort((a, b) => byText(a.runKey, b.runKey));
      if (query.order === 'desc') out.reverse();
      return out.slice(0, query.limit).map(jobRunOut);
    },

    async deleteJobRuns(query) {
      const before = isoOut(query.startedBefore);
      let n = 0;
      for (const [key, r] of jobRuns) {
        if (r.status !== 'running' && r.startedAt < before && (query.job === undefined || r.job === query.job)) {
          jobRuns.delete(key);
          n++;
        }
      }
      return n;
    },
  };
}
