/**
 * Job-run records: one row per (job, run key) telling whether a tick ran, failed or is running —
 * the store's, when it keeps them, else in memory — and this instance's id.
 */
import { hostname } from 'node:os';
import type { JobRunQuery, JobRunRow, Store } from '../ports/index.js';

/** The job-run records, as the scheduler and jobs see them (the store's, or in memory). */
export interface JobRuns {
  get(job: string, runKey: string): Promise<JobRunRow | null>;
  save(row: JobRunRow): Promise<void>;
  list(job: string, query: JobRunQuery): Promise<JobRunRow[]>;
  /** Deletes finished runs (of one job, or all) started before an instant. */
  prune(startedBefore: string, job?: string): Promise<number>;
}

/** Job runs kept in memory: the fallback for a store without job-run records. */
export function memoryJobRuns(): JobRuns {
  const rows = new Map<string, JobRunRow>();
  const k = (job: string, key: string) => `${job}\u0000${key}`;
  return {
    get: async (job, key) => rows.get(k(job, key)) ?? null,
    save: async (row) => void rows.set(k(row.job, row.runKey), { ...row }),
    async list(job, q) {
      const out = [...rows.values()]
        .filter(
          (r) =>
            r.job === job &&
            (q.fromKey === undefined || r.runKey >= q.fromKey) &&
            (q.toKey === undefined || r.runKey <= q.toKey) &&
            (q.status === undefined || r.status === q.status),
        )
        .sort((a, b) => (a.runKey < b.runKey ? -1 : a.runKey > b.runKey ? 1 : 0));
      if (q.order === 'desc') out.reverse();
      return out.slice(0, q.limit);
    },
    async prune(before, job) {
      let n = 0;
      for (const [key, r] of rows) {
        if (r.status !== 'running' && r.startedAt < before && (job === undefined || r.job === job)) {
          rows.delete(key);
          n++;
        }
      }
      return n;
    },
  };
}

/** The store's job-run records, or memory when it has none. */
export function jobRunsOf(store: Store): JobRuns {
  if (store.getJobRun && store.saveJobRun && store.listJobRuns) {
    return {
      get: (job, key) => (store.getJobRun as NonNullable<Store['getJobRun']>)(job, key),
      save: (row) => (store.saveJobRun as NonNullable<Store['saveJobRun']>)(row),
      list: (job, q) => (store.listJobRuns as NonNullable<Store['listJobRuns']>)(job, q),
      prune: (before, job) =>
        store.deleteJobRuns
          ? store.deleteJobRuns({ startedBefore: before, ...(job !== undefined ? { job } : {}) })
          : Promise.resolve(0),
    };
  }
  return memoryJobRuns();
}

/** A default instance id: host, process and a random suffix. */
export function defaultInstanceId(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}
