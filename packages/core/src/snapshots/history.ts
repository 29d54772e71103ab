/**
 * The value series of a portfolio (`engine.getHistory`): the recorded snapshots in a range,
 * optionally downsampled to the last snapshot of each hour or day.
 */
import { z } from 'zod';
import { FoliokitError, portfolioNotFound } from '../errors.js';
import type { SnapshotKind, SnapshotRow } from '../ports/index.js';
import { SNAPSHOT_KINDS } from '../ports/index.js';
import { parseInstant, toIso } from '../time.js';
import { validate } from '../validation.js';
import type { SnapshotHost } from './host.js';

/** A recorded snapshot, as the public API shows it. Decimals are strings. */
export type Snapshot = SnapshotRow;

/** Downsampling intervals of `engine.getHistory`. */
export const HISTORY_INTERVALS = ['raw', '1h', '1d'] as const;
export type HistoryInterval = (typeof HISTORY_INTERVALS)[number];

/** Input of `engine.getHistory`. */
export interface GetHistoryInput {
  /**
   * First instant (inclusive): an ISO instant or a day `YYYY-MM-DD` (its 00:00 UTC).
   * @default `to` minus 1 day (`raw`), 31 days (`1h`), 3660 days (`1d`)
   */
  from?: string | Date;
  /** Last instant (inclusive). A day means its end (23:59:59.999 UTC). @default now */
  to?: string | Date;
  /** Only these kinds. @default every kind */
  kinds?: SnapshotKind[];
  /**
   * `raw`: every snapshot. `1h` / `1d`: the last snapshot of each UTC hour / day (by `at` for
   * hours, by the snapshot's `day` for days). @default 'raw'
   */
  interval?: HistoryInterval;
  /** Most points returned. @default 1000, at most 10,000 */
  limit?: number;
}

/** The answer of `engine.getHistory`. */
export interface History {
  portfolioId: string;
  interval: HistoryInterval;
  from: string;
  to: string;
  /** Ordered by `at`, oldest first. */
  items: Snapshot[];
  /** True when `limit` cut the series: ask again from just after the last item. */
  truncated: boolean;
}

/** Longest range per interval, in days: beyond, `RANGE_TOO_LARGE`. */
export const HISTORY_MAX_DAYS: Record<HistoryInterval, number> = { raw: 3660, '1h': 366, '1d': 3660 };
const HISTORY_DEFAULT_DAYS: Record<HistoryInterval, number> = { raw: 1, '1h': 31, '1d': 3660 };
const DAY_MS = 86_400_000;
const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;

const historySchema = z.strictObject({
  from: z.union([z.string(), z.date()]).optional(),
  to: z.union([z.string(), z.date()]).optional(),
  kinds: z.array(z.enum(SNAPSHOT_KINDS)).min(1).max(SNAPSHOT_KINDS.length).optional(),
  interval: z.enum(HISTORY_INTERVALS).default('raw'),
  limit: z.number().int().min(1).max(10_000).default(1000),
});

/** The value series of a portfolio. See {@link GetHistoryInput}. */
export async function getHistory(host: SnapshotHost, portfolioId: string, input: GetHistoryInput): Promise<History> {
  const v = validate(historySchema, input, 'input');
  const nowMs = host.clock.now();
  const toMs =
    v.to === undefined
      ? nowMs
      : typeof v.to === 'string' && DAY_ONLY.test(v.to)
        ? parseInstant(v.to, 'to') + DAY_MS - 1
        : parseInstant(v.to, 'to');
  const fromMs =
    v.from === undefined ? toMs - HISTORY_DEFAULT_DAYS[v.interval] * DAY_MS + 1 : parseInstant(v.from, 'from');
  if (fromMs > toMs) {
    throw new FoliokitError('VALIDATION_FAILED', 'from must not be after to', { field: 'from' });
  }
  const maxDays = HISTORY_MAX_DAYS[v.interval];
  if (toMs - fromMs >= maxDays * DAY_MS) {
    throw new FoliokitError(
      'RANGE_TOO_LARGE',
      `A ${v.interval} history spans at most ${maxDays} days; ask for a shorter range or a coarser interval`,
      { field: 'from', maxDays },
    );
  }
  const portfolio = await host.store.getPortfolio(portfolioId);
  if (!portfolio) throw portfolioNotFound(portfolioId);
  const from = toIso(fromMs);
  const to = toIso(toMs);
  const bucket = v.interval === '1h' ? 'hour' : v.interval === '1d' ? 'day' : undefined;
  const rows = await host.store.listSnapshots(portfolioId, {
    from,
    to,
    limit: v.limit + 1,
    ...(v.kinds ? { kinds: v.kinds } : {}),
    ...(bucket ? { bucket } : {}),
  });
  const series = bucket ? downsample(rows, bucket) : rows;
  return {
    portfolioId,
    interval: v.interval,
    from,
    to,
    items: series.slice(0, v.limit),
    truncated: series.length > v.limit,
  };
}

/**
 * Keeps the last snapshot of each bucket (rows ordered by `at`). Idempotent, so rows a store has
 * already downsampled come out unchanged.
 */
export function downsample(rows: readonly SnapshotRow[], bucket: 'hour' | 'day'): SnapshotRow[] {
  const out: SnapshotRow[] = [];
  let lastKey: string | null = null;
  for (const r of rows) {
    const key = bucket === 'day' ? r.day : r.at.slice(0, 13);
    if (key === lastKey) out[out.length - 1] = r;
    else {
      out.push(r);
      lastKey = key;
    }
  }
  return out;
}
