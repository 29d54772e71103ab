/**
 * The interval job: on every tick, a snapshot of every portfolio with open positions at the latest
 * prices, in batches (a keyset page of portfolios, one consistent read of their states, one price
 * fetch for the page's symbols, one insert).
 */
import type { PortfolioRow, SnapshotRow } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import type { ResolvedSnapshotOptions } from '../snapshots/options.js';
import { dayOf, toIso } from '../time.js';
import { computeSnapshot, snapshotBase } from '../valuation/snapshot.js';
import type { JobDefinition } from './scheduler.js';

/** Name of the interval snapshot job. */
export const INTERVAL_JOB = 'interval-snapshots';

/** The interval job: a snapshot of every portfolio with open positions, at the latest prices. */
export function intervalJob(
  host: SnapshotHost,
  options: ResolvedSnapshotOptions,
  everyMs: number,
  retryDelayMs?: number,
): JobDefinition {
  return {
    name: INTERVAL_JOB,
    schedule: { everyMs },
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
    async run() {
      const nowMs = host.clock.now();
      const at = toIso(nowMs);
      const day = dayOf(nowMs);
      let recorded = 0;
      let withoutPositions = 0;
      let failed = 0;
      let afterId: string | undefined;
      for (;;) {
        const page: PortfolioRow[] = await host.store.listPortfolios({
          limit: options.batchSize,
          ...(afterId ? { afterId } : {}),
        });
        if (page.length === 0) break;
        afterId = (page[page.length - 1] as PortfolioRow).id;
        // Cash and positions from one consistent read per portfolio, not from the page above.
        const states = await host.store.readPortfolioStates(page.map((p) => p.id));
        const symbols = new Set<string>();
        for (const st of states) for (const h of st.positions) symbols.add(h.symbol);
        const prices = symbols.size > 0 ? await host.latestPrices([...symbols]) : new Map();
        const snapshots: SnapshotRow[] = [];
        for (const { portfolio: p, positions: list } of states) {
          if (list.length === 0) {
            withoutPositions++;
            continue;
          }
          try {
            snapshots.push(computeSnapshot(snapshotBase(p.id, p, 'interval', at, day), list, prices).row);
          } catch (error) {
            failed++;
            host.logger.warn('An interval snapshot could not be computed', { portfolioId: p.id, error: String(error) });
          }
        }
        if (snapshots.length > 0) {
          await host.store.insertSnapshots(snapshots);
          recorded += snapshots.length;
          for (const s of snapshots) host.emit({ type: 'snapshot.recorded', portfolioId: s.portfolioId, snapshot: s });
        }
        if (page.length < options.batchSize) break;
      }
      return { at, recorded, withoutPositions, failed };
    },
  };
}
