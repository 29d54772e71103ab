/**
 * `mean-reversion`: buys when the RSI of the close falls below `low` while flat, sells when it rises
 * above `high` while long.
 */
import { z } from 'zod';
import { rsi } from '../indicators.js';
import { defineStrategy } from '../strategy.js';

/** Parameters of `mean-reversion`. */
export const meanReversionParams = z
  .strictObject({
    /** RSI period. @default 14 */
    period: z.number().int().min(1).max(1000).default(14),
    /** Buy below this RSI. @default 30 */
    low: z.number().min(0).max(100).default(30),
    /** Sell above this RSI. @default 70 */
    high: z.number().min(0).max(100).default(70),
  })
  .refine((p) => p.low < p.high, { message: 'low must be less than high', path: ['low'] });

/** The `mean-reversion` built-in. */
export const meanReversion = defineStrategy<z.output<typeof meanReversionParams>, ReturnType<typeof rsi>>({
  name: 'mean-reversion',
  description: 'Buy when the RSI drops below `low`, sell when it rises above `high`.',
  params: meanReversionParams,
  init: ({ params }) => rsi(params.period),
  onBar(ctx) {
    const value = ctx.state.push(ctx.bar.close);
    if (value === null) return;
    const flat = ctx.position() === '0';
    if (value < ctx.params.low && flat) ctx.buy();
    else if (value > ctx.params.high && !flat) ctx.sell();
  },
});
