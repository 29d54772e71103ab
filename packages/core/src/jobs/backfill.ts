/**
 * Historical backfill: one snapshot per calendar day, valued as of that day. The state comes from
 * the ledger (every entry executed up to the end of the day, in executed order, backdated ones
 * included), the prices from the provider's daily closes (the last earlier close carried over
 * weekends and holidays; the store's price history when the provider is down). History is fetched
 * once per symbol per call (`backfill-history.ts`); the ledger is replayed once while walking the
 * days, not from scratch per day (`backfill-walk.ts`); rows are upserted per (portfolio, day).
 * This file holds the entry points: the range check, `backfill`, `backfillAll`, and the
 * every-portfolio pass the daily catch-up shares.
 */
import { z } from 'zod';
import { FoliokitError, isFoliokitError, portfolioNotFound, wrapError } from '../errors.js';
import type { BackfillAllReport, BackfillReport, PortfolioFailure, UnpricedSymbol } from '../events.js';
import type { SnapshotKind, SnapshotRow, TransactionRow } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import type { ResolvedSnapshotOptions } from '../snapshots/options.js';
import { dayOf, daysInclusive, endOfDay, parseDay } from '../time.js';
import { validate } from '../validation.js';
import { HistoryCache, type SymbolHistory } from './backfill-history.js';
import { walkDays } from './backfill-walk.js';

/** Input of `engine.backfill` and `engine.backfillAll`: a range of calendar days, both inclusive. */
export interface BackfillInput {
  /** First day, `YYYY-MM-DD`. */
  from: string;
  /** Last day, `YYYY-MM-DD`; not after today (UTC). */
  to: string;
}

const MAX_LISTED_FAILURES = 1000;

const backfillSchema = z.strictObject({ from: z.string(), to: z.string() });

/** Validates a backfill range. @throws `VALIDATION_FAILED`, `RANGE_TOO_LARGE` */
export function checkBackfillRange(input: BackfillInput, maxDays: number, nowMs: number): BackfillInput {
  const v = validate(backfillSchema, input, 'input');
  const from = parseDay(v.from, 'from');
  const to = parseDay(v.to, 'to');
  if (from > to) throw new FoliokitError('VALIDATION_FAILED', 'from must not be after to', { field: 'from' });
  if (to > dayOf(nowMs)) {
    throw new FoliokitError('VALIDATION_FAILED', 'to must not be after today (UTC)', { field: 'to' });
  }
  const days = daysInclusive(from, to);
  if (days > maxDays) {
    throw new FoliokitError('RANGE_TOO_LARGE', `A backfill covers at most ${maxDays} days (asked ${days})`, {
      field: 'from',
      maxDays,
      days,
    });
  }
  return { from, to };
}

/** Every ledger entry of a portfolio executed at or before `until`, oldest first. */
export async function loadLedger(host: SnapshotHost, portfolioId: string, until: string): Promise<TransactionRow[]> {
  const out: TransactionRow[] = [];
  const page = 5000;
  let before: { executedAt: string; id: string } | undefined;
  for (;;) {
    const rows = await host.store.listTransactions(portfolioId, {
      limit: page,
      order: 'asc',
      until,
      ...(before ? { before } : {}),
    });
    for (const r of rows) out.push(r);
    if (rows.length < page) break;
    const last = rows[rows.length - 1] as TransactionRow;
    before = { executedAt: last.executedAt, id: last.id };
  }
  return out;
}

/** The later of two ISO instants or days. */
function later(a: string, b: string): string {
  if (a > b) return a;
  return b;
}

/** Symbols traded in a ledger. */
function symbolsOf(entries: readonly TransactionRow[]): string[] {
  const out = new Set<string>();
  for (const t of entries) if (t.symbol !== null) out.add(t.symbol);
  return [...out];
}

/** Subtracts days from a `YYYY-MM-DD`. */
export function minusDays(day: string, n: number): string {
  return dayOf(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000);
}

/**
 * Values one portfolio over days from history and returns the rows (not written). `days`: the
 * days to emit, ascending (every day of `from..to` when null).
 */
export async function historyRows(
  host: SnapshotHost,
  cache: HistoryCache,
  portfolioId: string,
  range: { from: string; to: string },
  days: readonly string[] | null,
  kind: SnapshotKind,
): Promise<{ rows: SnapshotRow[]; firstDay: string | null; skippedDays: number; unpriced: UnpricedSymbol[] }> {
  const entries = await loadLedger(host, portfolioId, endOfDay(range.to));
  const total = daysInclusive(range.from, range.to);
  const first = entries[0];
  if (!first) return { rows: [], firstDay: null, skippedDays: days ? days.length : total, unpriced: [] };
  const firstEntryDay = first.executedAt.slice(0, 10);
  const start = later(firstEntryDay, range.from);
  if (start > range.to) return { rows: [], firstDay: null, skippedDays: days ? days.length : total, unpriced: [] };
  const symbols = symbolsOf(entries);
  const fetched = await Promise.all(symbols.map((s) => cache.get(s)));
  const histories = new Map<string, SymbolHistory>();
  for (let k = 0; k < symbols.length; k++) histories.set(symbols[k] as string, fetched[k] as SymbolHistory);
  const emit = days ? new Set(days.filter((d) => d >= start)) : null;
  const out = walkDays(portfolioId, entries, start, range.to, emit, kind, histories, host.clock.now());
  const skippedDays = days ? days.length - out.rows.length : daysInclusive(range.from, start) - 1;
  return { rows: out.rows, firstDay: out.rows[0]?.day ?? null, skippedDays, unpriced: [...out.unpriced.values()] };
}

/** `engine.backfill`: one portfolio. */
export async function backfillPortfolio(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  portfolioId: string,
  input: BackfillInput,
): Promise<BackfillReport> {
  const started = performance.now();
  const range = checkBackfillRange(input, options.maxBackfillDays, host.clock.now());
  const portfolio = await host.store.getPortfolio(portfolioId);
  if (!portfolio) throw portfolioNotFound(portfolioId);
  const total = daysInclusive(range.from, range.to);
  host.emit({ type: 'backfill.progress', portfolioId, unit: 'days', done: 0, total });
  const cache = new HistoryCache(host, { from: minusDays(range.from, options.backfillLookbackDays), to: range.to });
  const r = await historyRows(host, cache, portfolioId, range, null, 'backfill');
  if (r.rows.length > 0) await host.store.insertSnapshots(r.rows, { replace: 'day' });
  const report: BackfillReport = {
    portfolioId,
    from: range.from,
    to: range.to,
    firstDay: r.firstDay,
    written: r.rows.length,
    skippedDays: r.skippedDays,
    unpriced: r.unpriced,
    durationMs: Math.round(performance.now() - started),
  };
  host.emit({ type: 'backfill.progress', portfolioId, unit: 'days', done: total, total });
  host.emit({ type: 'backfill.completed', portfolioId, report });
  return report;
}

/**
 * Values every portfolio over `days` from history (history fetched once per symbol for the whole
 * call) and upserts the rows per portfolio. Shared by `backfillAll` and the daily catch-up.
 */
export async function historyForAll(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  range: { from: string; to: string },
  days: readonly string[] | null,
  kind: SnapshotKind,
  onPage?: (done: number) => void,
): Promise<Omit<BackfillAllReport, 'from' | 'to' | 'durationMs'> & { perDay: Map<string, number> }> {
  const cache = new HistoryCache(host, { from: minusDays(range.from, options.backfillLookbackDays), to: range.to });
  const failed: PortfolioFailure[] = [];
  let failedCount = 0;
  let processed = 0;
  let succeeded = 0;
  let written = 0;
  const perDay = new Map<string, number>();
  const unpriced = new Map<string, { symbol: string; portfolios: number; days: number }>();
  let afterId: string | undefined;
  for (;;) {
    const page = await host.store.listPortfolios({ limit: options.batchSize, ...(afterId ? { afterId } : {}) });
    if (page.length === 0) break;
    afterId = (page[page.length - 1] as { id: string }).id;
    for (const p of page) {
      processed++;
      try {
        const r = await historyRows(host, cache, p.id, range, days, kind);
        if (r.rows.length > 0) await host.store.insertSnapshots(r.rows, { replace: 'day' });
        written += r.rows.length;
        for (const row of r.rows) perDay.set(row.day, (perDay.get(row.day) ?? 0) + 1);
        for (const u of r.unpriced) {
          const agg = unpriced.get(u.symbol) ?? { symbol: u.symbol, portfolios: 0, days: 0 };
          agg.portfolios++;
          agg.days += u.days;
          unpriced.set(u.symbol, agg);
        }
        succeeded++;
      } catch (error) {
        const e = isFoliokitError(error) ? error : wrapError(error, 'STORE_ERROR', 'Backfill failed');
        failedCount++;
        if (failed.length < MAX_LISTED_FAILURES) failed.push({ portfolioId: p.id, code: e.code, message: e.message });
        host.logger.warn('A portfolio could not be valued from history', { portfolioId: p.id, code: e.code });
      }
    }
    onPage?.(processed);
    if (page.length < options.batchSize) break;
  }
  return {
    processed,
    succeeded,
    written,
    failed,
    failedCount,
    unpriced: [...unpriced.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)),
    perDay,
  };
}

/** `engine.backfillAll`: every portfolio, one at a time, history shared. */
export async function backfillEveryPortfolio(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  input: BackfillInput,
): Promise<BackfillAllReport> {
  const started = performance.now();
  const range = checkBackfillRange(input, options.maxBackfillDays, host.clock.now());
  host.emit({ type: 'backfill.progress', portfolioId: null, unit: 'portfolios', done: 0, total: null });
  const r = await historyForAll(host, options, range, null, 'backfill', (done) =>
    host.emit({ type: 'backfill.progress', portfolioId: null, unit: 'portfolios', done, total: null }),
  );
  const { perDay: _perDay, ...rest } = r;
  const report: BackfillAllReport = {
    from: range.from,
    to: range.to,
    ...rest,
    durationMs: Math.round(performance.now() - started),
  };
  host.emit({
    type: 'backfill.progress',
    portfolioId: null,
    unit: 'portfolios',
    done: r.processed,
    total: r.processed,
  });
  host.emit({ type: 'backfill.completed', portfolioId: null, report });
  return report;
}
