/**
 * Bringing recorded history in line after the ledger changed under it (a backdated entry, a void).
 * The change's own transaction already flagged every snapshot from its instant `ledger:stale`; this
 * recomputes the daily and backfill ones from price history, as backfill values a day (the ledger
 * as of the end of the day, that day's closes), and replaces them. A day that history cannot price
 * in full keeps its stale row rather than get a guessed one. Trade and interval snapshots caught
 * live prices at their instant, which history does not have: they stay flagged.
 */
import type { HistoryCorrectedEvent } from '../events.js';
import type { SnapshotKind, SnapshotRow } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import type { ResolvedSnapshotOptions } from '../snapshots/options.js';
import { historyRows, minusDays } from './backfill.js';
import { HistoryCache } from './backfill-history.js';

const RECOMPUTED_KINDS: readonly SnapshotKind[] = ['daily', 'backfill'];

/** True when a recomputed row left a held symbol without any price. */
function unpriced(row: SnapshotRow): boolean {
  return row.flags.some((f) => f.endsWith(':unpriced'));
}

/**
 * Recomputes a portfolio's daily and backfill snapshots taken at or after `from`, and reports what
 * it did (also as a `history.corrected` event). Never throws for want of history: a failure leaves
 * the rows flagged stale and is logged.
 */
export async function correctHistory(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  portfolioId: string,
  from: string,
): Promise<HistoryCorrectedEvent> {
  const event: HistoryCorrectedEvent = { type: 'history.corrected', portfolioId, from, recomputed: 0, stale: 0 };
  try {
    const rows = await host.store.listSnapshots(portfolioId, { from, kinds: RECOMPUTED_KINDS });
    const byKind = new Map<SnapshotKind, string[]>();
    let first = rows[0]?.day ?? '';
    let last = first;
    for (const r of rows) {
      const days = byKind.get(r.kind) ?? [];
      days.push(r.day);
      byKind.set(r.kind, days);
      if (r.day < first) first = r.day;
      if (r.day > last) last = r.day;
    }
    if (rows.length === 0) {
      host.emit(event);
      return event;
    }
    const cache = new HistoryCache(host, { from: minusDays(first, options.backfillLookbackDays), to: last });
    for (const [kind, days] of byKind) {
      days.sort();
      const r = await historyRows(host, cache, portfolioId, { from: first, to: last }, days, kind);
      const good = r.rows.filter((row) => !unpriced(row));
      if (good.length > 0) await host.store.insertSnapshots(good, { replace: 'day' });
      event.recomputed += good.length;
      event.stale += days.length - good.length;
    }
  } catch (error) {
    host.logger.warn('History after a ledger change could not be recomputed; it stays flagged stale', {
      portfolioId,
      from,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  host.emit(event);
  return event;
}
