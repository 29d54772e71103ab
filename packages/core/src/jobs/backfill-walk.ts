/**
 * Backfill's walk over days: one pass that applies each ledger entry when its day comes, advances
 * each symbol's close, and emits a snapshot row per day. Only what changed is recomputed, on
 * scaled bigints; the sums use the totals kernel's primitives (`holdingValue`, `scaledTotals`,
 * `unpricedFlag`), and `backfill-walk.test.ts` checks every day against the kernel's
 * `valueHoldings` for the replayed state of that day.
 */
import { FoliokitError } from '../errors.js';
import type { UnpricedSymbol } from '../events.js';
import { applyLedgerEntry, emptyReplayState } from '../ledger/index.js';
import { type Dec, fmt } from '../money/decimal.js';
import { formatScaled, parseScaled } from '../money/fixed.js';
import type { SnapshotKind, SnapshotRow, TransactionRow } from '../ports/index.js';
import { endOfDay, nextDay, toIso } from '../time.js';
import {
  AMOUNT_SCALE,
  type ComputedTotals,
  holdingValue,
  QUANTITY_SCALE,
  scaledTotals,
  unpricedFlag,
} from '../valuation/kernel.js';
import { closeAt, type SymbolHistory } from './backfill-history.js';

/** The earlier of two ISO instants or days (they compare as text). */
export function earlier(a: string, b: string): string {
  if (a < b) return a;
  return b;
}

/** A decimal the ledger produced, as a scaled bigint. @throws `STORE_ERROR` when it is not exact at that scale */
function scaled(value: Dec, scale: number, what: string): bigint {
  const v = parseScaled(fmt(value), scale);
  if (v === null) {
    throw new FoliokitError('STORE_ERROR', `A ${what} in the ledger has more than ${scale} decimals: ${fmt(value)}`);
  }
  return v;
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

/** What a walk produced: the rows of the emitted days, and the symbols it could not price. */
export interface WalkOutput {
  rows: SnapshotRow[];
  unpriced: Map<string, UnpricedSymbol>;
}

/**
 * Walks days `start`..`to` once, applying each entry when its day comes and advancing each
 * symbol's close, and emits a row for each day in `emit` (every day when null). Only what changed
 * is recomputed: cost basis and flags when the holdings (or the set of priced symbols) change,
 * market value when a close or a quantity does. `histories` holds every traded symbol's closes.
 */
export function walkDays(
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
  // Recomputed when a close, a quantity or the cash changes.
  let totals: ComputedTotals | null = null;

  for (let day = start; day <= to; day = nextDay(day)) {
    const eod = endOfDay(day);
    let valueDirty = totals === null;
    if (i < entries.length && (entries[i] as TransactionRow).executedAt <= eod) {
      do {
        const t = entries[i] as TransactionRow;
        applyLedgerEntry(state, t);
        if (t.symbol !== null) {
          const w = bySymbol.get(t.symbol);
          const pos = state.positions.get(t.symbol);
          if (w && pos) {
            w.quantity = scaled(pos.quantity, QUANTITY_SCALE, 'quantity');
            w.costBasis = scaled(pos.costBasis, AMOUNT_SCALE, 'cost basis');
            w.value = null;
          }
        }
        i++;
      } while (i < entries.length && (entries[i] as TransactionRow).executedAt <= eod);
      cashText = fmt(state.cash);
      cash = scaled(state.cash, AMOUNT_SCALE, 'cash amount');
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
      // The kernel's rule: flat holdings skipped, unpriced ones flagged and left out.
      held = [];
      costBasis = 0n;
      flags = [];
      missing = [];
      for (const w of walks) {
        if (w.quantity === 0n) continue;
        if (w.close === null) {
          flags.push(unpricedFlag(w.symbol));
          missing.push(w.symbol);
          continue;
        }
        held.push(w);
        costBasis += w.costBasis;
      }
      costBasisText = formatScaled(costBasis, AMOUNT_SCALE);
      structureDirty = false;
      valueDirty = true;
    }
    if (valueDirty) {
      let marketValue = 0n;
      for (const w of held) {
        if (w.value === null) w.value = holdingValue(w.quantity, w.close as bigint);
        marketValue += w.value;
      }
      totals = scaledTotals(cash, marketValue, costBasis, AMOUNT_SCALE, costBasisText);
    }
    if (emit !== null && !emit.has(day)) continue;
    const f = totals as ComputedTotals;
    rows.push({
      portfolioId,
      at: earlier(eod, nowIso),
      day,
      kind,
      cash: cashText,
      marketValue: f.marketValue,
      totalValue: f.totalValue,
      costBasis: f.costBasis,
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
