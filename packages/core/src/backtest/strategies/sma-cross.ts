/**
 * `sma-cross`: a long/flat crossover of two simple moving averages of the close. Buys when the fast
 * SMA crosses above the slow one while flat; sells the whole position when it crosses below while
 * long. The SMAs are exact decimals, compared exactly: equal values are neither above nor below, so
 * a tie never signals, and a cross is a change of the strict side (below → above, ties in between
 * skipped). The first strict side seen only sets the side: no entry at the start just because fast
 * is already above slow.
 */
import { z } from 'zod';
import { type Sma, sma } from '../indicators.js';
import { defineStrategy } from '../strategy.js';

/** Parameters of `sma-cross`. */
export const smaCrossParams = z
  .strictObject({
    /** Bars in the fast SMA. @default 10 */
    fast: z.number().int().min(1).max(1000).default(10),
    /** Bars in the slow SMA (more than `fast`). @default 30 */
    slow: z.number().int().min(2).max(5000).default(30),
  })
  .refine((p) => p.fast < p.slow, { message: 'fast must be less than slow', path: ['fast'] });

/** Per-symbol state of `sma-cross`. */
export interface SmaCrossState {
  fast: Sma;
  slow: Sma;
  /** The last strict side of fast against slow: 1 above, −1 below, 0 before the first. */
  side: number;
}

/** The `sma-cross` built-in. */
export const smaCross = defineStrategy<z.output<typeof smaCrossParams>, SmaCrossState>({
  name: 'sma-cross',
  description: 'Long when the fast SMA crosses above the slow SMA, flat when it crosses below (exact decimals).',
  params: smaCrossParams,
  init: ({ params }) => ({ fast: sma(params.fast), slow: sma(params.slow), side: 0 }),
  onBar(ctx) {
    const s = ctx.state;
    s.fast.add(ctx.bar.close);
    s.slow.add(ctx.bar.close);
    // Exact: the running sums cross-multiplied, no rounding (null while warming up).
    const side = s.fast.compare(s.slow);
    if (side === null || side === 0 || side === s.side) return;
    const crossed = s.side !== 0;
    s.side = side;
    if (!crossed) return;
    const flat = ctx.position() === '0';
    if (side > 0 && flat) ctx.buy();
    else if (side < 0 && !flat) ctx.sell();
  },
});
