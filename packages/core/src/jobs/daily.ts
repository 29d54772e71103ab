/**
 * The daily job: one `daily` snapshot per portfolio per day, for every portfolio, in batches (a
 * keyset page of portfolios, one read of their holdings, one price fetch for the page's symbols,
 * one upsert of the page's rows). A portfolio that cannot be valued is reported and skipped; the
 * others are written. Rows are upserted per (portfolio, day): a rerun replaces, never duplicates.
 *
 * Two ways to value a day:
 * - `latest` (the scheduled run at the end of the day, and `runDailySnapshots` for today or the
 *   day that just ended): the portfolios as they are now, at the latest prices. A position priced
 *   nowhere fails its portfolio (`PRICE_UNAVAILABLE`) rather than writing a total that leaves it out.
 * - `history` (catch-up of days missed while no scheduler ran, and `runDailySnapshots` for an
 *   earlier day, see {@link isPastDay}): the ledger as of the end of that day and that day's
 *   close, exactly as backfill values a day (see `backfill.ts`), because today's prices would
 *   misstate a past day; a portfolio created later whose backdated entries cover the day counts.
 */
import { z } from 'zod';
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type { PortfolioFailure } from '../events.js';
import type { PortfolioRow, SnapshotRow, Store } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import type { ResolvedSnapshotOptions } from '../snapshots/options.js';
import { dayOf, endOfDay, parseDay, toIso } from '../time.js';
import { validate } from '../validation.js';
import { computeSnapshot, snapshotBase } from '../valuation/snapshot.js';
import { historyForAll } from './backfill.js';
import { earlier } from './backfill-walk.js';

/** What a daily run did for one day. */
export interface DailySnapshotReport {
  day: string;
  /** `latest`: valued now at the latest prices; `history`: valued from the ledger and closes of that day (catch-up). */
  method: 'latest' | 'history';
  /** Portfolios looked at. */
  processed: number;
  /** Portfolios with a daily snapshot written for the day. */
  succeeded: number;
  /**
   * Portfolios with nothing to value that day: created after it (`latest`), or with no ledger
   * entry by its end (`history`).
   */
  skipped: number;
  /** The first 1,000 failures, each with the portfolio, the error code and a message. */
  failed: PortfolioFailure[];
  /** Every failure, counted. */
  failedCount: number;
  durationMs: number;
}

/** Input of `engine.runDailySnapshots`. */
export interface RunDailySnapshotsInput {
  /** The day to record, `YYYY-MM-DD`, not after today. @default yesterday (UTC): the day that just ended at 00:00 UTC */
  day?: string;
}

const MAX_LISTED_FAILURES = 1000;
const inputSchema = z.strictObject({ day: z.string().optional() });

/**
 * Whether `day` is past for a daily run at `nowMs`: it ended before yesterday (UTC). Today and
 * yesterday (the day that just ended, the default of `runDailySnapshots`) are valued live; a past
 * day from the ledger and closes of that day, as backfill values it.
 */
export function isPastDay(day: string, nowMs: number): boolean {
  return day < dayOf(nowMs - 86_400_000);
}

/** Validates the input of `runDailySnapshots`. */
export function checkDailyInput(input: RunDailySnapshotsInput, nowMs: number): string {
  const v = validate(inputSchema, input, 'input');
  if (v.day === undefined) return dayOf(nowMs - 86_400_000);
  const day = parseDay(v.day, 'day');
  if (day > dayOf(nowMs))
    throw new FoliokitError('VALIDATION_FAILED', 'day must not be after today (UTC)', { field: 'day' });
  return day;
}

class Failures {
  readonly list: PortfolioFailure[] = [];
  count = 0;
  add(portfolioId: string, error: unknown, fallback: string): void {
    const e = isFoliokitError(error) ? error : wrapError(error, 'STORE_ERROR', fallback);
    this.count++;
    if (this.list.length < MAX_LISTED_FAILURES) this.list.push({ portfolioId, code: e.code, message: e.message });
  }
}

/** Upserts a batch; when the batch fails, row by row, so one bad row fails only its portfolio. */
async function writeBatch(store: Store, rows: SnapshotRow[], failures: Failures): Promise<number> {
  if (rows.length === 0) return 0;
  try {
    await store.insertSnapshots(rows, { replace: 'day' });
    return rows.length;
  } catch {
    let ok = 0;
    for (const row of rows) {
      try {
        await store.insertSnapshots([row], { replace: 'day' });
        ok++;
      } catch (error) {
        failures.add(row.portfolioId, error, 'Writing the daily snapshot failed');
      }
    }
    return ok;
  }
}

/** Values one page of portfolios at the latest prices. */
async function latestBatch(
  host: SnapshotHost,
  page: readonly PortfolioRow[],
  day: string,
  at: string,
  failures: Failures,
): Promise<SnapshotRow[]> {
  // Cash and positions come from one consistent read, not from the page listed earlier.
  const states = await host.store.readPortfolioStates(page.map((p) => p.id));
  const symbols = new Set<string>();
  for (const st of states) for (const h of st.positions) symbols.add(h.symbol);
  const prices = symbols.size > 0 ? await host.latestPrices([...symbols]) : new Map();
  const rows: SnapshotRow[] = [];
  for (const { portfolio: p, positions } of states) {
    try {
      const { row, unpriced } = computeSnapshot(snapshotBase(p.id, p, 'daily', at, day), positions, prices);
      if (unpriced.length > 0) {
        throw new FoliokitError('PRICE_UNAVAILABLE', `No price anywhere for ${unpriced.join(', ')}`, {
          field: 'symbol',
          symbols: unpriced,
        });
      }
      rows.push(row);
    } catch (error) {
      failures.add(p.id, error, 'Valuing the portfolio failed');
    }
  }
  return rows;
}

/**
 * Records `day` for every portfolio at the latest prices. `dayEnd`: the instant the day ends (the
 * scheduled tick of a job in another time zone); portfolios created after it are skipped, and rows
 * are stamped with it (or now, if earlier). @default the end of the UTC day
 *
 * A past day ({@link isPastDay}: a manual run for a day before yesterday) is not valued at today's
 * prices: it is valued from history, as {@link runDailyHistory} values a caught-up day.
 */
export async function runDailyLatest(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  day: string,
  dayEnd: string = endOfDay(day),
): Promise<DailySnapshotReport> {
  const nowMs = host.clock.now();
  if (isPastDay(day, nowMs)) return (await runDailyHistory(host, options, [day]))[0] as DailySnapshotReport;
  const started = performance.now();
  const eod = dayEnd;
  const nowIso = toIso(nowMs);
  const at = earlier(eod, nowIso);
  const failures = new Failures();
  let processed = 0;
  let succeeded = 0;
  let skipped = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await host.store.listPortfolios({ limit: options.batchSize, ...(afterId ? { afterId } : {}) });
    if (page.length === 0) break;
    afterId = (page[page.length - 1] as PortfolioRow).id;
    const eligible = page.filter((p) => p.createdAt <= eod);
    skipped += page.length - eligible.length;
    processed += page.length;
    if (eligible.length > 0) {
      try {
        const rows = await latestBatch(host, eligible, day, at, failures);
        succeeded += await writeBatch(host.store, rows, failures);
      } catch (error) {
        // A whole batch failed (its holdings or prices could not be read): report each, go on.
        for (const p of eligible) failures.add(p.id, error, 'Valuing the batch failed');
        host.logger.error('A daily snapshot batch failed', { day, portfolios: eligible.length, error: String(error) });
      }
    }
    if (page.length < options.batchSize) break;
  }
  return {
    day,
    method: 'latest',
    processed,
    succeeded,
    skipped,
    failed: failures.list,
    failedCount: failures.count,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Records several past days for every portfolio from the ledger and the daily closes (history
 * fetched once per symbol for all of them). Returns one report per day.
 */
export async function runDailyHistory(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  days: readonly string[],
): Promise<DailySnapshotReport[]> {
  if (days.length === 0) return [];
  const started = performance.now();
  const sorted = [...days].sort();
  const range = { from: sorted[0] as string, to: sorted[sorted.length - 1] as string };
  const r = await historyForAll(host, options, range, sorted, 'daily');
  const durationMs = Math.round(performance.now() - started);
  return sorted.map((day) => {
    const succeeded = r.perDay.get(day) ?? 0;
    return {
      day,
      method: 'history' as const,
      processed: r.processed,
      succeeded,
      skipped: r.processed - succeeded - r.failedCount,
      failed: r.failed,
      failedCount: r.failedCount,
      durationMs,
    };
  });
}
