/** A manual snapshot (`engine.recordSnapshot`): one portfolio, now, at the latest prices. */
import { FoliokitError, portfolioNotFound } from '../errors.js';
import { toIso } from '../time.js';
import { computeSnapshot, snapshotBase } from '../valuation/snapshot.js';
import type { Snapshot } from './history.js';
import type { SnapshotHost } from './host.js';

/** Kinds `recordSnapshot` accepts (`backfill` is written by `backfill` only). */
export const MANUAL_SNAPSHOT_KINDS = ['interval', 'trade', 'daily'] as const;

/**
 * Records one snapshot of a portfolio now, at the latest prices. `daily` replaces today's daily
 * snapshot; the other kinds append.
 */
export async function recordSnapshot(
  host: SnapshotHost,
  portfolioId: string,
  kind: (typeof MANUAL_SNAPSHOT_KINDS)[number],
): Promise<Snapshot> {
  if (!(MANUAL_SNAPSHOT_KINDS as readonly string[]).includes(kind)) {
    throw new FoliokitError('VALIDATION_FAILED', `kind must be one of ${MANUAL_SNAPSHOT_KINDS.join(', ')}`, {
      field: 'kind',
    });
  }
  const [state] = await host.store.readPortfolioStates([portfolioId]);
  if (!state) throw portfolioNotFound(portfolioId);
  const { portfolio, positions: open } = state;
  const prices = await host.latestPrices(open.map((p) => p.symbol));
  const base = snapshotBase(portfolioId, portfolio, kind, toIso(host.clock.now()));
  const { row } = computeSnapshot(base, open, prices);
  await host.store.insertSnapshots([row], kind === 'daily' ? { replace: 'day' } : undefined);
  host.emit({ type: 'snapshot.recorded', portfolioId, snapshot: row });
  return row;
}
