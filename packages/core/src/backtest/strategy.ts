/**
 * Strategies: plain objects with a name, a zod schema for their parameters, an optional `init`
 * (one call per symbol, returning that symbol's state: its indicators) and `onBar` (one call per
 * bar, in date order, where the strategy reads the bar and places orders with `ctx.buy` and
 * `ctx.sell`). The registry of names is in registry.ts.
 */
import type { z } from 'zod';
import type { DailyBar } from '../ports/index.js';

/** What `init` receives: the symbol it prepares state for, and the validated parameters. */
export interface StrategyInitContext<P> {
  symbol: string;
  params: P;
}

/**
 * What `onBar` receives. One context per symbol, reused from bar to bar: read what you need during
 * the call, do not keep the context.
 */
export interface StrategyContext<P = unknown, S = unknown> {
  /** The bar's calendar day, `YYYY-MM-DD`. */
  readonly day: string;
  /**
   * The run's previous calendar day (the day before `day` on which any symbol had a bar), or null
   * on the run's first day: lets a strategy see the first day of a week or a month without
   * depending on its own symbol's gaps.
   */
  readonly previousDay: string | null;
  /** The symbol whose bar this is. */
  readonly symbol: string;
  /** The bar (decimal strings). */
  readonly bar: DailyBar;
  /** This symbol's bar number, 0 for its first bar in the range. */
  readonly index: number;
  /** The validated parameters. */
  readonly params: P;
  /** This symbol's state, as `init` returned it (`undefined` without `init`). */
  readonly state: S;
  /**
   * The cash a buy of this symbol can spend, as a decimal string: the symbol's sleeve with
   * `allocation: 'equal-sleeves'`, the shared pool with `'shared'`.
   */
  readonly cash: string;
  /**
   * The last `n` bars of this symbol up to and including the current one (fewer at the start), oldest
   * first; `history(symbol, n)` reads another symbol's bars seen so far.
   */
  history(n: number): readonly DailyBar[];
  history(symbol: string, n: number): readonly DailyBar[];
  /** The quantity held of `symbol` (default: this symbol), as a decimal string (`"0"` when flat). */
  position(symbol?: string): string;
  /**
   * Places a buy of `symbol` (default: this symbol) at this bar's close; it fills at the next bar's
   * open (`fill: 'next-open'`) or at this close (`'close'`). Without `quantity`, it buys as many whole
   * shares as the cash available at the fill affords, commission included.
   */
  buy(symbol?: string, quantity?: string | number): void;
  /** Places a sell of `symbol` (default: this symbol); without `quantity`, of the whole position. */
  sell(symbol?: string, quantity?: string | number): void;
  /**
   * Asks for the whole portfolio to be brought to target weights (a model portfolio): `weights`
   * maps symbols of the backtest to fractions of total value (0 to 1, summing to at most 1; the rest
   * stays cash; a held symbol left out is sold). The orders are planned by the same rule as a paper
   * portfolio's `rebalance` (see docs/backtesting.md), at the fill prices, sells first. Several calls
   * on one day: the last one counts. Needs one cash pool (`allocation: 'shared'`); with
   * `'equal-sleeves'` it throws `VALIDATION_FAILED` naming `allocation`.
   */
  targetWeights(weights: Readonly<Record<string, string | number>>, options?: TargetWeightsOptions): void;
}

/** Options of {@link StrategyContext.targetWeights}. */
export interface TargetWeightsOptions {
  /**
   * Drift band, a weight fraction (`0.05` = 5 percentage points): a symbol whose current weight is
   * within `band` of its target is left alone. @default 0
   */
  band?: string | number;
}

/**
 * A strategy. `P` is the type of its validated parameters, `S` the per-symbol state `init` returns.
 *
 * @example
 * ```ts
 * const upDay = defineStrategy({
 *   name: 'up-day',
 *   description: 'Long after an up day, flat after a down day.',
 *   params: z.object({}),
 *   onBar(ctx) {
 *     const [prev, today] = ctx.history(2);
 *     if (!prev || !today) return;
 *     if (Number(today.close) > Number(prev.close) && ctx.position() === '0') ctx.buy();
 *   },
 * });
 * ```
 */
export interface Strategy<P = unknown, S = unknown> {
  /** A unique name: lower-case letters, digits and `-` (`"sma-cross"`). */
  name: string;
  /** One sentence on what it does. */
  description: string;
  /** Validates (and defaults) the parameters. */
  params: z.ZodType<P>;
  /** Called once per symbol before its first bar; returns that symbol's state. */
  init?(ctx: StrategyInitContext<P>): S;
  /** Called for every bar, in date order across symbols. */
  onBar(ctx: StrategyContext<P, S>): void;
  /**
   * The allocation the strategy needs. `runBacktest` uses it when the options name none, and
   * refuses another one (`VALIDATION_FAILED` naming `allocation`). @default any
   */
  allocation?: 'equal-sleeves' | 'shared';
}

/** A strategy of any parameters (what the registry holds). */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds strategies of every parameter type.
export type AnyStrategy = Strategy<any, any>;

/** Types a strategy object (no runtime effect): `defineStrategy({ ... })` infers `P` and `S`. */
export function defineStrategy<P, S = undefined>(strategy: Strategy<P, S>): Strategy<P, S> {
  return strategy;
}

/** A strategy as `listStrategies` describes it. */
export interface StrategyInfo {
  name: string;
  description: string;
  builtIn: boolean;
}

/** What a strategy's name looks like: 1 to 64 lower-case letters, digits or `-`. */
export const STRATEGY_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** True when `value` has the shape of a strategy (a name, a params schema and an `onBar`). */
export function isStrategy(value: unknown): value is AnyStrategy {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<AnyStrategy>;
  return (
    typeof s.name === 'string' &&
    typeof s.onBar === 'function' &&
    typeof (s.params as { safeParse?: unknown } | undefined)?.safeParse === 'function' &&
    (s.init === undefined || typeof s.init === 'function')
  );
}
