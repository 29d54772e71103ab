/**
 * `rebalance`: a model portfolio. On the run's first day and on the first day of each period
 * (`every`), asks for the portfolio to be brought to `targets` with `ctx.targetWeights`, leaving
 * alone a symbol whose weight is within `band` of its target. Periods are calendar periods of the
 * run's days (the union of the symbols' bar days): a symbol without a bar on a period's first day
 * does not move the rebalance to a later day.
 */
import { z } from 'zod';
import { FoliokitError } from '../../errors.js';
import { parseDecimal, ZERO } from '../../money/decimal.js';
import { defineStrategy, type StrategyContext } from '../strategy.js';

/** How often `rebalance` rebalances: on the first day of each such calendar period. */
export const REBALANCE_PERIODS = ['day', 'week', 'month', 'quarter', 'year'] as const;
/** A rebalance period. */
export type RebalancePeriod = (typeof REBALANCE_PERIODS)[number];

/** A weight: a number or a decimal string, from 0 to 1. */
const weight = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  try {
    const d = parseDecimal(v, 'weight');
    if (d.isNegative() || d.gt(1)) ctx.addIssue({ code: 'custom', message: 'must be between 0 and 1' });
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a decimal number' });
  }
});

/** Parameters of `rebalance`. */
export const rebalanceParams = z
  .strictObject({
    /** Target weights by symbol (fractions of total value, 0 to 1, summing to at most 1; the rest is cash). */
    targets: z.record(z.string(), weight).refine((t) => Object.keys(t).length > 0, 'must name at least one symbol'),
    /** Rebalance on the first day of each `every`. @default 'month' */
    every: z.enum(REBALANCE_PERIODS).default('month'),
    /** Drift band: leave a symbol alone while |current − target weight| ≤ band. @default 0 */
    band: z.number().min(0).max(1).default(0),
  })
  .superRefine((p, ctx) => {
    let sum = ZERO;
    for (const [symbol, w] of Object.entries(p.targets)) {
      try {
        sum = sum.plus(parseDecimal(w, `targets.${symbol}`));
      } catch {
        return; // reported by the weight's own check
      }
    }
    if (sum.gt(1)) ctx.addIssue({ code: 'custom', path: ['targets'], message: `weights sum to ${sum}, more than 1` });
  });

/** The calendar period `day` falls in: weeks start on Monday (ISO), quarters in Jan, Apr, Jul, Oct. */
export function periodOf(day: string, every: RebalancePeriod): string {
  switch (every) {
    case 'day':
      return day;
    case 'week': {
      const ms = Date.parse(`${day}T00:00:00.000Z`);
      const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
      return new Date(ms - weekday * 86_400_000).toISOString().slice(0, 10);
    }
    case 'month':
      return day.slice(0, 7);
    case 'quarter':
      return `${day.slice(0, 4)}-Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;
    case 'year':
      return day.slice(0, 4);
  }
}

type RebalanceContext = StrategyContext<z.output<typeof rebalanceParams>>;

/** The `rebalance` built-in. */
export const rebalanceStrategy = defineStrategy<z.output<typeof rebalanceParams>>({
  name: 'rebalance',
  description: 'A model portfolio: bring the holdings to target weights on the first day of each period.',
  params: rebalanceParams,
  allocation: 'shared',
  onBar(ctx: RebalanceContext) {
    if (typeof (ctx as Partial<RebalanceContext>).targetWeights !== 'function') {
      throw new FoliokitError(
        'VALIDATION_FAILED',
        'strategy: "rebalance" trades a whole portfolio to target weights and runs only in runBacktest, not as per-symbol signals',
        { field: 'strategy' },
      );
    }
    const { every, targets, band } = ctx.params;
    if (ctx.previousDay !== null && periodOf(ctx.previousDay, every) === periodOf(ctx.day, every)) return;
    ctx.targetWeights(targets, { band });
  },
});
