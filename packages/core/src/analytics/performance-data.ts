/**
 * The inputs of `getPerformance`: a portfolio's daily value series (from its daily and backfill
 * snapshots, one per calendar day) and its external cash flows per day (from the ledger), over a
 * range of days. Pure loading and shaping; the formulas live in `returns.ts`, `xirr.ts` and
 * `stats.ts`.
 *
 * Values are JS numbers for the statistics (IEEE doubles: about 15 significant digits, plenty for
 * ratios of amounts below 10^12); the amounts shown to users (gains) are kept as exact decimals.
 */
import { loadLedger, minusDays } from '../jobs/backfill.js';
import { type Dec, dec, ZERO } from '../money/decimal.js';
import type { SnapshotRow, TransactionRow } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { endOfDay, nextDay } from '../time.js';

/**
 * One day of the chain: `value` is the end-of-day total value, `inflow` / `outflow` the external
 * flows of that day (deposits / withdrawals, both ≥ 0). Structurally a `FlowDay` of `returns.ts`.
 */
export interface DayPoint {
  day: string;
  value: number;
  inflow: number;
  outflow: number;
  /** True when no snapshot was recorded that day and the value was carried forward. */
  carried: boolean;
}

/** A day the series could not read as recorded, and why. */
export interface PerformanceGap {
  day: string;
  reason: string;
}

/** What {@link loadPerformanceData} returns. */
export interface PerformanceData {
  /**
   * The base day (index 0: the end of the day before the first day measured, its flows already in
   * its value) followed by every day measured, ascending and contiguous.
   */
  days: DayPoint[];
  /** Days carried forward or left out. */
  gaps: PerformanceGap[];
  /** Plain-language notes on what was excluded. */
  notes: string[];
  /** The first day measured (after the base day); null when nothing can be measured. */
  from: string | null;
  to: string;
  /** Exact total value at the base day ("0" before the first ledger entry). */
  baseValue: string;
  /** Exact total value at the last day (the last snapshot plus the flows recorded after it). */
  endValue: string;
  /** The snapshot the base value comes from (null when the base is before the first entry). */
  baseSnapshot: SnapshotRow | null;
  /** The last snapshot on or before `to`. */
  endSnapshot: SnapshotRow | null;
  /** Ledger entries that are not void, executed on the measured days, oldest first. */
  entries: TransactionRow[];
  /** Every ledger entry that is not void, executed on or before `to`, oldest first. */
  allEntries: TransactionRow[];
  /** Day of the first ledger entry that is not void (null for an empty ledger). */
  firstEntryDay: string | null;
}

/** How far before the first measured day a base snapshot is looked for. */
const BASE_LOOKBACK_DAYS = 400;

/** The external flow of a ledger entry: + into the portfolio, − out, 0 for trades (internal). */
export function externalFlow(t: TransactionRow): Dec {
  return t.kind === 'deposit' || t.kind === 'withdrawal' ? dec(t.amount) : ZERO;
}

/**
 * Loads the daily series and flows of `portfolioId` for the days `from..to` (inclusive).
 *
 * - Days before the first ledger entry are excluded (a note says so).
 * - The base value is 0 when the range starts at the first entry; otherwise the last daily or
 *   backfill snapshot on or before the day before `from` (within {@link BASE_LOOKBACK_DAYS}).
 *   With no such snapshot, the first snapshot in range becomes the base and the days before it
 *   are excluded (listed in `gaps`).
 * - A day without a snapshot carries the previous value forward, adjusted by that day's external
 *   flows (cash in and out changes the value by exactly that amount), and is listed in `gaps`.
 */
export async function loadPerformanceData(
  host: SnapshotHost,
  portfolioId: string,
  range: { from: string; to: string },
): Promise<PerformanceData> {
  const all = await loadLedger(host, portfolioId, endOfDay(range.to));
  const ledger = all.filter((t) => t.voidedAt === null);
  const firstEntryDay = ledger[0]?.executedAt.slice(0, 10) ?? null;
  const notes: string[] = [];
  const empty = emptyData(range.to, firstEntryDay);
  if (firstEntryDay === null || firstEntryDay > range.to) {
    notes.push('No ledger entry on or before the last day: nothing to measure.');
    return { ...empty, notes, allEntries: ledger };
  }
  let start = range.from;
  if (start < firstEntryDay) {
    notes.push(`Days ${range.from} to ${minusDays(firstEntryDay, 1)} are before the first ledger entry and excluded.`);
    start = firstEntryDay;
  }
  const baseDay = minusDays(start, 1);
  const lookFrom = start === firstEntryDay ? start : minusDays(start, BASE_LOOKBACK_DAYS);
  const rows = await host.store.listSnapshots(portfolioId, {
    kinds: ['daily', 'backfill'],
    bucket: 'day',
    from: `${lookFrom}T00:00:00.000Z`,
    to: endOfDay(range.to),
  });
  const byDay = new Map<string, SnapshotRow>();
  for (const r of rows) byDay.set(r.day, r);
  const flows = flowsByDay(ledger, start);
  const gaps: PerformanceGap[] = [];

  let base: { day: string; value: Dec; snapshot: SnapshotRow | null } | null = null;
  if (start === firstEntryDay) base = { day: baseDay, value: ZERO, snapshot: null };
  else {
    const before = rows.filter((r) => r.day <= baseDay).at(-1);
    if (before) {
      // Carry the earlier snapshot to the base day, with the flows recorded in between.
      let v = dec(before.totalValue);
      for (const t of ledger) {
        const d = t.executedAt.slice(0, 10);
        if (d > before.day && d <= baseDay) v = v.plus(externalFlow(t));
      }
      base = { day: baseDay, value: v, snapshot: before };
      if (before.day !== baseDay) {
        gaps.push({ day: baseDay, reason: `no snapshot: the base value is carried forward from ${before.day}` });
      }
    }
  }
  if (!base) {
    const first = rows.find((r) => r.day >= start);
    if (!first) {
      notes.push('No daily or backfill snapshot in the range: run a backfill to measure it.');
      return { ...empty, notes, gaps, allEntries: ledger };
    }
    for (const d of daysBetween(start, minusDays(first.day, 1))) {
      gaps.push({ day: d, reason: 'no snapshot before this day: excluded (the first snapshot is the base)' });
    }
    notes.push(`No snapshot before ${first.day}: it is the base, the days before it are excluded.`);
    base = { day: first.day, value: dec(first.totalValue), snapshot: first };
  }

  const days: DayPoint[] = [{ day: base.day, value: base.value.toNumber(), inflow: 0, outflow: 0, carried: false }];
  // Floats for the statistics; the exact end value is summed from the last snapshot below.
  let value = days[0]?.value ?? 0;
  let endSnapshot = base.snapshot;
  for (const d of daysBetween(nextDay(base.day), range.to)) {
    const f = flows.get(d);
    const snap = byDay.get(d);
    if (snap) {
      value = Number(snap.totalValue);
      endSnapshot = snap;
    } else {
      if (f) value += f.inflow.toNumber() - f.outflow.toNumber();
      gaps.push({ day: d, reason: 'no snapshot: value carried forward from the day before, plus that day’s flows' });
    }
    days.push({
      day: d,
      value,
      inflow: f ? f.inflow.toNumber() : 0,
      outflow: f ? f.outflow.toNumber() : 0,
      carried: !snap,
    });
  }
  const firstMeasured = nextDay(base.day);
  return {
    days,
    gaps,
    notes,
    from: days.length > 1 ? firstMeasured : null,
    to: range.to,
    baseValue: base.value.toFixed(),
    endValue: exactEnd(base, endSnapshot, flows).toFixed(),
    baseSnapshot: base.snapshot,
    endSnapshot,
    entries: ledger.filter((t) => t.executedAt.slice(0, 10) >= firstMeasured),
    allEntries: ledger,
    firstEntryDay,
  };
}

/** The exact value at the last day: the last snapshot's (else the base's) plus every flow after it. */
function exactEnd(
  base: { day: string; value: Dec },
  endSnapshot: SnapshotRow | null,
  flows: ReadonlyMap<string, { inflow: Dec; outflow: Dec }>,
): Dec {
  const from = endSnapshot && endSnapshot.day > base.day ? endSnapshot.day : base.day;
  let v = endSnapshot && endSnapshot.day > base.day ? dec(endSnapshot.totalValue) : base.value;
  for (const [day, f] of flows) if (day > from) v = v.plus(f.inflow).minus(f.outflow);
  return v;
}

const DAY_MS = 86_400_000;

/**
 * Every day from `from` to `to` (inclusive), ascending: days counted as integers and printed with
 * the civil-from-days algorithm (no `Date` per day; a 10-year range is 3,650 of them).
 */
export function daysBetween(from: string, to: string): string[] {
  const first = Date.parse(`${from}T00:00:00Z`) / DAY_MS;
  const last = Date.parse(`${to}T00:00:00Z`) / DAY_MS;
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(civilDay(n));
  return out;
}

/** `YYYY-MM-DD` of day `n` since 1970-01-01 (proleptic Gregorian; H. Hinnant's civil_from_days). */
function civilDay(n: number): string {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** Deposits and withdrawals per day, from `start` on. */
function flowsByDay(ledger: readonly TransactionRow[], start: string): Map<string, { inflow: Dec; outflow: Dec }> {
  const out = new Map<string, { inflow: Dec; outflow: Dec }>();
  for (const t of ledger) {
    const day = t.executedAt.slice(0, 10);
    const flow = externalFlow(t);
    if (day < start || flow.isZero()) continue;
    const f = out.get(day) ?? { inflow: ZERO, outflow: ZERO };
    if (flow.isPositive()) f.inflow = f.inflow.plus(flow);
    else f.outflow = f.outflow.minus(flow);
    out.set(day, f);
  }
  return out;
}

function emptyData(to: string, firstEntryDay: string | null): PerformanceData {
  return {
    days: [],
    gaps: [],
    notes: [],
    from: null,
    to,
    baseValue: '0',
    endValue: '0',
    baseSnapshot: null,
    endSnapshot: null,
    entries: [],
    allEntries: [],
    firstEntryDay,
  };
}
