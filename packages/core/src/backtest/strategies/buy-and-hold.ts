/** `buy-and-hold`: buys on each symbol's first bar and holds to the end. */
import { z } from 'zod';
import { defineStrategy } from '../strategy.js';

/** Parameters of `buy-and-hold`: none. */
export const buyAndHoldParams = z.strictObject({});

/** The `buy-and-hold` built-in. */
export const buyAndHold = defineStrategy<z.output<typeof buyAndHoldParams>>({
  name: 'buy-and-hold',
  description: "Buy on each symbol's first bar with all of its cash and hold.",
  params: buyAndHoldParams,
  onBar(ctx) {
    if (ctx.index === 0) ctx.buy();
  },
});
