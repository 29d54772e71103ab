/**
 * The strategy registry (process-wide): names to strategies. The built-ins are in it from the
 * start (a plain module constant, so no bundler can drop them); users add their own with
 * {@link registerStrategy}.
 */
import { FoliokitError } from '../errors.js';
import { buyAndHold } from './strategies/buy-and-hold.js';
import { meanReversion } from './strategies/mean-reversion.js';
import { momentum } from './strategies/momentum.js';
import { rebalanceStrategy } from './strategies/rebalance.js';
import { smaCross } from './strategies/sma-cross.js';
import { type AnyStrategy, isStrategy, STRATEGY_NAME_RE, type StrategyInfo } from './strategy.js';

/** The built-ins, registered before anything else can be. */
const BUILT_INS: readonly AnyStrategy[] = [smaCross, momentum, meanReversion, buyAndHold, rebalanceStrategy];

const registry = new Map<string, { strategy: AnyStrategy; builtIn: boolean }>(
  BUILT_INS.map((strategy) => [strategy.name, { strategy, builtIn: true }]),
);

function checkStrategy(strategy: unknown): AnyStrategy {
  if (!isStrategy(strategy)) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      'strategy must be an object with a name, a zod params schema and an onBar function',
      { field: 'strategy' },
    );
  }
  if (!STRATEGY_NAME_RE.test(strategy.name)) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      'strategy.name must be 1 to 64 lower-case letters, digits or "-", starting with a letter or digit',
      { field: 'strategy.name' },
    );
  }
  if (typeof strategy.description !== 'string') {
    throw new FoliokitError('VALIDATION_FAILED', 'strategy.description must be a string', {
      field: 'strategy.description',
    });
  }
  return strategy;
}

/**
 * Adds a strategy to the registry (process-wide), so `runBacktest({ strategy: name })` finds it.
 * A name already taken is refused with `CONFLICT` unless `replace` is true; a built-in is never
 * replaced.
 *
 * @throws FoliokitError `VALIDATION_FAILED` (the strategy's shape) or `CONFLICT` (the name)
 */
export function registerStrategy(strategy: AnyStrategy, options: { replace?: boolean } = {}): void {
  const replace = options.replace === true;
  const s = checkStrategy(strategy);
  const existing = registry.get(s.name);
  if (existing && (existing.builtIn || !replace)) {
    throw new FoliokitError(
      'CONFLICT',
      existing.builtIn
        ? `"${s.name}" is a built-in strategy and cannot be replaced`
        : `A strategy named "${s.name}" is already registered (pass { replace: true } to replace it)`,
      { field: 'strategy.name', name: s.name },
    );
  }
  registry.set(s.name, { strategy: s, builtIn: false });
}

/** Removes a strategy of the user's from the registry (true when it was there); built-ins stay. */
export function unregisterStrategy(name: string): boolean {
  const entry = registry.get(name);
  if (!entry || entry.builtIn) return false;
  return registry.delete(name);
}

/**
 * The registered strategy named `name`.
 * @throws FoliokitError `NOT_FOUND` naming `name`
 */
export function getStrategy(name: string): AnyStrategy {
  const entry = typeof name === 'string' ? registry.get(name) : undefined;
  if (!entry) {
    throw new FoliokitError('NOT_FOUND', `No strategy named ${JSON.stringify(String(name).slice(0, 64))}`, {
      field: 'name',
      name,
    });
  }
  return entry.strategy;
}

/** Every registered strategy, by name. */
export function listStrategies(): StrategyInfo[] {
  return [...registry.values()]
    .map(({ strategy, builtIn }) => ({ name: strategy.name, description: strategy.description, builtIn }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
