/** The snapshot options of `createPortfolioEngine({ snapshots })`, their defaults and their validation. */
import { z } from 'zod';
import { FoliokitError } from '../errors.js';

/** Snapshot options of `createPortfolioEngine({ snapshots })`. */
export interface SnapshotOptions {
  /**
   * Record a `trade` snapshot in the same store transaction as each trade (prices are fetched
   * before the transaction). @default true
   */
  onTrade?: boolean;
  /** How often the scheduler's interval job snapshots portfolios with open positions, in ms. @default 30_000 */
  intervalMs?: number;
  /** Longest range `backfill` accepts, in days. @default 3660 */
  maxBackfillDays?: number;
  /** Days of daily history fetched before a backfill's first day, so it starts with a close. @default 14 */
  backfillLookbackDays?: number;
  /** Portfolios per batch in the daily and interval jobs (one read, one price fetch, one write each). @default 1000 */
  batchSize?: number;
}

/** {@link SnapshotOptions} after defaults. */
export type ResolvedSnapshotOptions = Required<SnapshotOptions>;

const snapshotOptionsSchema = z.strictObject({
  onTrade: z.boolean().default(true),
  intervalMs: z.number().int().min(1000).max(86_400_000).default(30_000),
  maxBackfillDays: z.number().int().min(1).max(36_600).default(3660),
  backfillLookbackDays: z.number().int().min(0).max(366).default(14),
  batchSize: z.number().int().min(1).max(10_000).default(1000),
});

/** Validates and freezes the snapshot options. @throws `INVALID_CONFIGURATION` */
export function resolveSnapshotOptions(input: SnapshotOptions | undefined): ResolvedSnapshotOptions {
  const r = snapshotOptionsSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = `snapshots.${issue?.path.map(String).join('.') ?? ''}`;
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `createPortfolioEngine: ${field}: ${issue?.message ?? 'invalid'}`,
      {
        field,
      },
    );
  }
  return Object.freeze(r.data);
}
