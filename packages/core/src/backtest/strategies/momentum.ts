/**
 * `momentum`: long while the return over the last `lookback` bars is positive, flat otherwise. The
 * return's sign is the comparison of the close with the close `lookback` bars earlier, exact.
 */
import { z } from 'zod';
import { dec } from '../../money/decimal.js';
import { defineStrategy } from '../strategy.js';

/** Parameters of `momentum`. */
export const momentumParams = z.strictObject({
  /** Bars to look back. @default 20 */
  lookback: z.number().int().min(1).max(5000).default(20),
});

/** The `momentum` built-in. */
export const momentum = defineStrategy<z.output<typeof momentumParams>>({
  name: 'momentum',
  description: 'Long while the close is above the close `lookback` bars earlier, flat otherwise.',
  params: momentumParams,
  onBar(ctx) {
    const bars = ctx.history(ctx.params.lookback + 1);
    const past = bars[0];
    if (bars.length <= ctx.params.lookback || !past) return;
    const up = dec(ctx.bar.close).gt(dec(past.close));
    const flat = ctx.position() === '0';
    if (up && flat) ctx.buy();
    else if (!up && !flat) ctx.sell();
  },
});
