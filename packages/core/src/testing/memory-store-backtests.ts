/**
 * The memory store's backtest tables: runs and users' saved strategy parameters. Rows are kept as
 * the SQL stores keep them (JSON as text, instants normalised), so what comes back is a fresh copy
 * parsed from that text, exactly as a SQL store would give it back.
 */
import type { BacktestRunRow, Store, StrategyParamsRow } from '../ports/index.js';
import { isoOut } from '../sql/rows.js';
import { byText } from './memory-store-rows.js';

/** The store methods on the backtest tables. */
export type BacktestTableMethods = Required<
  Pick<
    Store,
    | 'saveBacktestRun'
    | 'getBacktestRun'
    | 'listBacktestRuns'
    | 'updateBacktestRun'
    | 'getStrategyParams'
    | 'setStrategyParams'
  >
>;

/** A run as kept: `request`, `result` and `error` as JSON text (null for SQL NULL). */
type StoredRun = Omit<BacktestRunRow, 'request' | 'result' | 'error'> & {
  request: string;
  result: string | null;
  error: string | null;
};

/** A JSON value as a JSON text column keeps it: null (and undefined) as SQL NULL. */
const jsonIn = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);
const jsonOut = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));
const isoOrNull = (value: string | null | undefined): string | null =>
  value === null || value === undefined ? null : isoOut(value);

function runIn(r: BacktestRunRow): StoredRun {
  return {
    id: r.id,
    ownerId: r.ownerId,
    kind: r.kind,
    status: r.status,
    request: JSON.stringify(r.request ?? null),
    progressDone: r.progressDone,
    progressTotal: r.progressTotal,
    result: jsonIn(r.result),
    error: jsonIn(r.error),
    createdAt: isoOut(r.createdAt),
    startedAt: isoOrNull(r.startedAt),
    finishedAt: isoOrNull(r.finishedAt),
  };
}

function runOut(r: StoredRun): BacktestRunRow {
  return { ...r, request: jsonOut(r.request), result: jsonOut(r.result), error: jsonOut(r.error) };
}

/** Creates empty backtest tables and the store methods on them. */
export function createBacktestTables(): BacktestTableMethods {
  const runs = new Map<string, StoredRun>();
  /** Saved params by owner, then strategy: JSON text and instant. */
  const params = new Map<string, Map<string, { params: string; updatedAt: string }>>();

  return {
    async saveBacktestRun(row) {
      const stored = runIn(row);
      runs.set(stored.id, stored);
    },

    async getBacktestRun(id) {
      const r = runs.get(id);
      return r ? runOut(r) : null;
    },

    async listBacktestRuns(query) {
      const statuses = query.statuses && query.statuses.length > 0 ? new Set<string>(query.statuses) : null;
      return [...runs.values()]
        .filter(
          (r) =>
            (query.ownerId === undefined || r.ownerId === query.ownerId) &&
            (query.beforeId === undefined || r.id < query.beforeId) &&
            (statuses === null || statuses.has(r.status)),
        )
        .sort((a, b) => byText(b.id, a.id))
        .slice(0, query.limit)
        .map(runOut);
    },

    async updateBacktestRun(id, fromStatuses, patch) {
      const r = runs.get(id);
      if (!r || !fromStatuses.includes(r.status)) return false;
      // Check and write in one synchronous step: nothing can run in between.
      const next: StoredRun = { ...r };
      if (patch.status !== undefined) next.status = patch.status;
      if (patch.progressDone !== undefined) next.progressDone = patch.progressDone;
      if (patch.progressTotal !== undefined) next.progressTotal = patch.progressTotal;
      if (patch.result !== undefined) next.result = jsonIn(patch.result);
      if (patch.error !== undefined) next.error = jsonIn(patch.error);
      if (patch.startedAt !== undefined) next.startedAt = isoOrNull(patch.startedAt);
      if (patch.finishedAt !== undefined) next.finishedAt = isoOrNull(patch.finishedAt);
      runs.set(id, next);
      return true;
    },

    async getStrategyParams(ownerId, strategy): Promise<StrategyParamsRow | null> {
      const kept = params.get(ownerId)?.get(strategy);
      return kept ? { ownerId, strategy, params: jsonOut(kept.params), updatedAt: kept.updatedAt } : null;
    },

    async setStrategyParams(row) {
      const kept = { params: JSON.stringify(row.params ?? null), updatedAt: isoOut(row.updatedAt) };
      let byStrategy = params.get(row.ownerId);
      if (!byStrategy) params.set(row.ownerId, (byStrategy = new Map()));
      byStrategy.set(row.strategy, kept);
    },
  };
}
