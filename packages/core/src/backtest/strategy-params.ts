/**
 * Per-user strategy parameters: each user keeps, per registered strategy, the parameters they
 * backtest and trade it with (`PUT /strategies/:name/params`). They are validated by the strategy's
 * own zod schema when saved, and again when read, so defaults a strategy adds later apply to
 * parameters saved before. Kept by a store with `getStrategyParams` and `setStrategyParams`.
 */
import { z } from 'zod';
import { FoliokitError, isFoliokitError } from '../errors.js';
import type { Clock, Store, StrategyParamsRow } from '../ports/index.js';
import { toIso } from '../time.js';
import { textInput, validate } from '../validation.js';
import { getStrategy } from './registry.js';
import type { AnyStrategy } from './strategy.js';

/** The largest saved parameters, as UTF-8 bytes of their JSON: 64 KiB. */
export const MAX_STRATEGY_PARAMS_BYTES = 64 * 1024;

/** What the strategy-parameter functions need: a store and a clock (a `PortfolioEngine` is one). */
export interface StrategyParamsHost {
  readonly store: Store;
  readonly clock: Clock;
}

/** A store that keeps strategy parameters: both members present. */
export type StrategyParamsStore = Store & Required<Pick<Store, 'getStrategyParams' | 'setStrategyParams'>>;

/**
 * The store, when it keeps strategy parameters.
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the members the store lacks (`details.missing`).
 */
export function strategyParamsStore(store: Store): StrategyParamsStore {
  const methods = ['getStrategyParams', 'setStrategyParams'] as const;
  const missing = methods.filter((m) => typeof store[m] !== 'function').map((m) => `store.${m}`);
  if (missing.length > 0) {
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `Saved strategy parameters need a store with ${missing.join(', ')}; the store "${store.name}" lacks them`,
      { field: 'store', missing },
    );
  }
  return store as StrategyParamsStore;
}

/** Input of {@link saveStrategyParams}. */
export interface SaveStrategyParamsInput {
  /** The user (1 to 100 characters). */
  ownerId: string;
  /** A registered strategy's name. */
  strategy: string;
  /** The parameters, checked by the strategy's schema (its defaults fill what is left out). @default {} */
  params?: Record<string, unknown>;
}

/** Input of {@link getStrategyParams}. */
export interface GetStrategyParamsInput {
  /** The user (1 to 100 characters). */
  ownerId: string;
  /** A registered strategy's name. */
  strategy: string;
}

/** What {@link getStrategyParams} answers. */
export interface StrategyParamsResult {
  /**
   * The user's saved parameters, validated again by the strategy's schema; the schema's defaults
   * when nothing is saved (null when the schema has required parameters and so no defaults).
   */
  params: unknown;
  /** Whether `params` are the user's saved ones. */
  saved: boolean;
  /** When they were saved (null when nothing is saved). */
  updatedAt: string | null;
}

const keySchema = {
  ownerId: textInput(1, 100),
  strategy: z.string().min(1).max(64),
};
const saveSchema = z.strictObject({ ...keySchema, params: z.record(z.string(), z.unknown()).optional() });
const getSchema = z.strictObject(keySchema);

/** The registered strategy named `name`; `NOT_FOUND` naming the field `strategy` otherwise. */
function strategyNamed(name: string): AnyStrategy {
  try {
    return getStrategy(name);
  } catch (error) {
    if (isFoliokitError(error) && error.code === 'NOT_FOUND') {
      throw new FoliokitError('NOT_FOUND', error.message, { field: 'strategy', strategy: name });
    }
    throw error;
  }
}

/** A failed parse of parameters as `VALIDATION_FAILED` naming `params.<path>`. */
function paramsError(error: z.ZodError, prefix: string, extra: Record<string, unknown> = {}): FoliokitError {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path === '' ? 'params' : `params.${path}`;
  return new FoliokitError('VALIDATION_FAILED', `${prefix}${field}: ${issue?.message ?? 'invalid parameters'}`, {
    field,
    ...extra,
  });
}

/**
 * Saves a user's parameters of a registered strategy, replacing what they saved before. The
 * parameters are validated by the strategy's schema and stored as it returns them (defaults filled
 * in), stamped with the host clock's time. They must survive JSON (the store keeps JSON text) and
 * stay within {@link MAX_STRATEGY_PARAMS_BYTES}. A refused call stores nothing.
 *
 * @example
 * ```ts
 * await saveStrategyParams(engine, { ownerId: 'user-1', strategy: 'sma-cross', params: { fast: 5, slow: 20 } });
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` (a store without the members), `VALIDATION_FAILED`
 *   (`details.field`: `ownerId`, `strategy`, `params` or `params.<path>`), `NOT_FOUND` (no strategy
 *   of that name; field `strategy`).
 */
export async function saveStrategyParams(
  host: StrategyParamsHost,
  input: SaveStrategyParamsInput,
): Promise<StrategyParamsRow> {
  const store = strategyParamsStore(host.store);
  const v = validate(saveSchema, input, 'input');
  const strategy = strategyNamed(v.strategy);
  const parsed = strategy.params.safeParse(v.params ?? {});
  if (!parsed.success) throw paramsError(parsed.error, '');
  let text: string | undefined;
  try {
    text = JSON.stringify(parsed.data);
  } catch {
    text = undefined; // a BigInt, a cycle
  }
  if (text === undefined) {
    throw new FoliokitError('VALIDATION_FAILED', 'params: the validated parameters cannot be stored as JSON', {
      field: 'params',
    });
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_STRATEGY_PARAMS_BYTES) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `params: must be at most ${MAX_STRATEGY_PARAMS_BYTES} bytes of JSON once validated`,
      { field: 'params' },
    );
  }
  // What the store gives back must validate again, or a later read would refuse it.
  const stored = JSON.parse(text) as unknown;
  const again = strategy.params.safeParse(stored);
  if (!again.success) throw paramsError(again.error, 'the validated parameters do not survive JSON: ');
  const row: StrategyParamsRow = {
    ownerId: v.ownerId,
    strategy: strategy.name,
    params: stored,
    updatedAt: toIso(host.clock.now()),
  };
  await store.setStrategyParams(row);
  return row;
}

/**
 * A user's parameters of a registered strategy: the saved ones, validated again by the strategy's
 * schema (so defaults it added since apply), or the schema's defaults when nothing is saved.
 *
 * @example
 * ```ts
 * const { params, saved } = await getStrategyParams(engine, { ownerId: 'user-1', strategy: 'sma-cross' });
 * ```
 * @throws FoliokitError `INVALID_CONFIGURATION` (a store without the members), `VALIDATION_FAILED`
 *   (bad input; or saved parameters the strategy's schema no longer accepts: `details.field`
 *   `params.<path>`, `details.saved` true — save new ones), `NOT_FOUND` (no strategy of that name;
 *   field `strategy`).
 */
export async function getStrategyParams(
  host: StrategyParamsHost,
  input: GetStrategyParamsInput,
): Promise<StrategyParamsResult> {
  const store = strategyParamsStore(host.store);
  const v = validate(getSchema, input, 'input');
  const strategy = strategyNamed(v.strategy);
  const row = await store.getStrategyParams(v.ownerId, strategy.name);
  if (!row) {
    const defaults = strategy.params.safeParse({});
    return { params: defaults.success ? defaults.data : null, saved: false, updatedAt: null };
  }
  const parsed = strategy.params.safeParse(row.params);
  if (!parsed.success) {
    throw paramsError(parsed.error, `the saved parameters of ${strategy.name} no longer fit its schema: `, {
      saved: true,
    });
  }
  return { params: parsed.data, saved: true, updatedAt: row.updatedAt };
}
