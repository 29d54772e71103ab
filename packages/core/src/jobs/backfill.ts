/**
 * Historical backfill: one snapshot per calendar day, valued as of that day. The state comes from
 * the ledger (every entry executed up to the end of the day, in executed order, backdated ones
 * included), the prices from the provider's daily closes (the last earlier close carried over
 * weekends and holidays; the store's price history when the provider is down). History is fetched once per symbol per call; the ledger is replayed
 * once while walking the days, not from scratch per day; rows are upserted per (portfolio, day).
 *
 * The daily job's catch-up values missed days the same way (see `daily.ts`).
 */
import { z } from 'zod';
import { validate } from '../engine/validation.js';
import { type ErrorCode, FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type { BackfillAllReport, BackfillReport, PortfolioFailure, UnpricedSymbol } from '../events.js';
import { applyLedgerEntry, emptyReplayState } from '../ledger/ledger.js';
import { type Dec, fmt, parseDecimal } from '../money/decimal.js';
import { formatScaled, parseScaled, pow10 } from '../money/fixed.js';
import type { SnapshotKind, SnapshotRow, TransactionRow } from '../ports/index.js';
import type { ResolvedSnapshotOptions, SnapshotHost } from '../snapshots/snapshots.js';
import { dayOf, daysInclusive, endOfDay, nextDay, parseDay, toIso } from '../time.js';

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

// ---------------------------------------------------------------------------------------------
// History: fetched once per symbol per call
// ---------------------------------------------------------------------------------------------

/** One symbol's closes, ascending by day; closes parsed on first use. */
interface SymbolHistory {
  days: string[];
  raw: string[];
  /** Closes as bigints scaled by 10^18; null when invalid (then not used); undefined until parsed. */
  parsed: Array<bigint | null | undefined>;
  unknown: boolean;
}

/** Daily closes of every symbol a call needs, fetched once each (concurrent requests share the fetch). */
export class HistoryCache {
  readonly #host: SnapshotHost;
  readonly #range: { from: string; to: string };
  readonly #cache = new Map<string, Promise<SymbolHistory>>();

  constructor(host: SnapshotHost, range: { from: string; to: string }) {
    this.#host = host;
    this.#range = range;
  }

  get(symbol: string): Promise<SymbolHistory> {
    let p = this.#cache.get(symbol);
    if (!p) {
      p = this.#fetch(symbol);
      this.#cache.set(symbol, p);
    }
    return p;
  }

  async #fetch(symbol: string): Promise<SymbolHistory> {
    let bars: Awaited<ReturnType<SnapshotHost['marketData']['getDailyHistory']>>;
    try {
      bars = await this.#host.marketData.getDailyHistory(symbol, this.#range);
    } catch (error) {
      if (isFoliokitError(error) && error.code === 'UNKNOWN_SYMBOL')
        return { days: [], raw: [], parsed: [], unknown: true };
      // The provider is down: the price history the store kept (the price book records it) will do.
      const stored = await this.#host.store.listDailyBars(symbol, this.#range).catch(() => []);
      if (stored.length > 0) {
        this.#host.logger.warn('Daily history from the store: the provider failed', { symbol, error: String(error) });
        return {
          days: stored.map((b) => b.day),
          raw: stored.map((b) => b.close),
          parsed: new Array(stored.length),
          unknown: false,
        };
      }
      const why = error instanceof Error ? error.message : String(error);
      throw new FoliokitError(
        'PRICE_UNAVAILABLE',
        `No daily history for ${symbol}: the market-data provider failed (${why})`,
        { symbol, providerCode: isFoliokitError(error) ? error.code : undefined },
        { cause: error },
      );
    }
    if (!Array.isArray(bars)) {
      throw new FoliokitError('PRICE_UNAVAILABLE', `The provider's daily history for ${symbol} is not a list`, {
        symbol,
      });
    }
    // Trust nothing: keep bars in range with a day, sort, keep the last bar of a repeated day.
    const kept = bars.filter(
      (b) => b && typeof b.day === 'string' && b.day >= this.#range.from && b.day <= this.#range.to,
    );
    let sorted = true;
    for (let i = 1; i < kept.length; i++)
      if ((kept[i] as { day: string }).day < (kept[i - 1] as { day: string }).day) sorted = false;
    if (!sorted) kept.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    const days: string[] = [];
    const raw: string[] = [];
    for (const b of kept) {
      if (days.length > 0 && days[days.length - 1] === b.day) {
        raw[raw.length - 1] = String(b.close);
      } else {
        days.push(b.day);
        raw.push(String(b.close));
      }
    }
    return { days, raw, parsed: new Array(days.length), unknown: false };
  }
}

/** Scale of quantities and closes (the engine accepts at most 18 decimals). */
const Q = 18;
/** Scale of amounts: a quantity times a price has at most 36 decimals. */
const V = 36;
const MAX_CLOSE = pow10(18) * pow10(Q);

/**
 * The close at index i as a bigint scaled by 10^18, parsed once; null when it is not a positive
 * decimal within the engine's limits (then it is not used, never guessed).
 */
function closeAt(h: SymbolHistory, i: number): bigint | null {
  let v = h.parsed[i];
  if (v === undefined) {
    const raw = h.raw[i] as string;
    v = parseScaled(raw, Q);
    if (v === null) {
      // Not plain (an exponent, spaces): read it as the API reads any decimal.
      try {
        v = parseScaled(fmt(parseDecimal(raw, 'close')), Q);
      } catch {
        v = null;
      }
    }
    if (v !== null && (v <= 0n || v > MAX_CLOSE)) v = null;
    h.parsed[i] = v;
  }
  return v;
}

/** A decimal the ledger produced, as a scaled bigint. @throws `STORE_ERROR` when it is not exact at that scale */
function scaled(value: Dec, scale: number, what: string): bigint {
  const v = parseScaled(fmt(value), scale);
  if (v === null) {
    throw new FoliokitError('STORE_ERROR', `A ${what} in the ledger has more than ${scale} decimals: ${fmt(value)}`);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// The walk over days
// ---------------------------------------------------------------------------------------------

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

interface SymbolWalk {
  symbol: string;
  hist: SymbolHistory;
  /** Index of the bar in force (last bar with day <= current day), -1 before the first. */
  ptr: number;
  /** The close in force, scaled by 10^18, or null before the first valid close. */
  close: bigint | null;
  /** Quantity held, scaled by 10^18. */
  quantity: bigint;
  /** Cost basis, scaled by 10^36. */
  costBasis: bigint;
  /** quantity × close (scaled by 10^36) while both are unchanged. */
  value: bigint | null;
}

interface WalkOutput {
  rows: SnapshotRow[];
  unpriced: Map<string, UnpricedSymbol>;
}

/**
 * Walks days `start`..`to` once, applying each entry when its day comes and advancing each
 * symbol's close, and emits a row for each day in `emit` (every day when null). Only what changed
 * is recomputed: cost basis and flags when the holdings (or the set of priced symbols) change,
 * market value when a close or a quantity does; the sums run exactly on scaled bigints.
 */
function walk(
  portfolioId: string,
  entries: readonly TransactionRow[],
  start: string,
  to: string,
  emit: ReadonlySet<string> | null,
  kind: SnapshotKind,
  histories: ReadonlyMap<string, SymbolHistory>,
  nowMs: number,
): WalkOutput {
  const state = emptyReplayState();
  const walks: SymbolWalk[] = [...histories.keys()].sort().map((symbol) => ({
    symbol,
    hist: histories.get(symbol) as SymbolHistory,
    ptr: -1,
    close: null,
    quantity: 0n,
    costBasis: 0n,
    value: null,
  }));
  const bySymbol = new Map(walks.map((w) => [w.symbol, w]));
  const nowIso = toIso(nowMs);
  const rows: SnapshotRow[] = [];
  const unpriced = new Map<string, UnpricedSymbol>();
  let i = 0;
  let cashText = '0';
  let cash = 0n;
  let netDeposits = '0';
  let realizedPnl = '0';
  // Recomputed when the holdings or the set of priced symbols change.
  let held: SymbolWalk[] = [];
  let costBasis = 0n;
  let costBasisText = '0';
  let flags: string[] = [];
  let missing: string[] = [];
  let structureDirty = true;
  // Recomputed when a close or a quantity changes.
  let figures: Pick<SnapshotRow, 'marketValue' | 'totalValue' | 'unrealizedPnl'> | null = null;

  for (let day = start; day <= to; day = nextDay(day)) {
    const eod = endOfDay(day);
    let valueDirty = figures === null;
    if (i < entries.length && (entries[i] as TransactionRow).executedAt <= eod) {
      do {
        const t = entries[i] as TransactionRow;
        applyLedgerEntry(state, t);
        if (t.symbol !== null) {
          const w = bySymbol.get(t.symbol);
          const pos = state.positions.get(t.symbol);
          if (w && pos) {
            w.quantity = scaled(pos.quantity, Q, 'quantity');
            w.costBasis = scaled(pos.costBasis, V, 'cost basis');
            w.value = null;
          }
        }
        i++;
      } while (i < entries.length && (entries[i] as TransactionRow).executedAt <= eod);
      cashText = fmt(state.cash);
      cash = scaled(state.cash, V, 'cash amount');
      netDeposits = fmt(state.netDeposits);
      realizedPnl = fmt(state.realizedPnl);
      structureDirty = true;
      valueDirty = true;
    }
    for (const w of walks) {
      const days = w.hist.days;
      let p = w.ptr;
      while (p + 1 < days.length && (days[p + 1] as string) <= day) p++;
      if (p !== w.ptr) {
        // The newest bar with a valid close at or before this day.
        let q = p;
        let close: bigint | null = null;
        while (q > w.ptr && (close = closeAt(w.hist, q)) === null) q--;
        w.ptr = p;
        if (close !== null && close !== w.close) {
          if (w.close === null && w.quantity !== 0n) structureDirty = true;
          w.close = close;
          w.value = null;
          if (w.quantity !== 0n) valueDirty = true;
        }
      }
    }
    if (structureDirty) {
      held = [];
      costBasis = 0n;
      flags = [];
      missing = [];
      for (const w of walks) {
        if (w.quantity === 0n) continue;
        if (w.close === null) {
          flags.push(`${w.symbol}:unpriced`);
          missing.push(w.symbol);
          continue;
        }
        held.push(w);
        costBasis += w.costBasis;
      }
      costBasisText = formatScaled(costBasis, V);
      structureDirty = false;
      valueDirty = true;
    }
    if (valueDirty) {
      let marketValue = 0n;
      for (const w of held) {
        if (w.value === null) w.value = w.quantity * (w.close as bigint);
        marketValue += w.value;
      }
      figures = {
        marketValue: formatScaled(marketValue, V),
        totalValue: formatScaled(cash + marketValue, V),
        unrealizedPnl: formatScaled(marketValue - costBasis, V),
      };
    }
    if (emit !== null && !emit.has(day)) continue;
    const f = figures as NonNullable<typeof figures>;
    rows.push({
      portfolioId,
      at: earlier(eod, nowIso),
      day,
      kind,
      cash: cashText,
      marketValue: f.marketValue,
      totalValue: f.totalValue,
      costBasis: costBasisText,
      unrealizedPnl: f.unrealizedPnl,
      realizedPnl,
      netDeposits,
      // Rows share a day's flags array: it is replaced, never mutated, when the holdings change.
      flags,
    });
    for (const s of missing) {
      const u = unpriced.get(s);
      if (u) {
        u.days++;
        u.lastDay = day;
      } else {
        const w = bySymbol.get(s) as SymbolWalk;
        unpriced.set(s, {
          symbol: s,
          days: 1,
          firstDay: day,
          lastDay: day,
          reason: w.hist.unknown ? 'unknown-symbol' : 'no-close-yet',
        });
      }
    }
  }
  return { rows, unpriced };
}

/** The earlier of two ISO instants or days (they compare as text). */
export function earlier(a: string, b: string): string {
  if (a < b) return a;
  return b;
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
  const out = walk(portfolioId, entries, start, range.to, emit, kind, histories, host.clock.now());
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
  if (!portfolio) {
    throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${portfolioId}`, {
      field: 'portfolioId',
      portfolioId,
    });
  }
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
