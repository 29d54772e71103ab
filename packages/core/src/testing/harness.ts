/**
 * A small harness for engine tests: an engine on a memory store (or a store you give), a manual
 * clock, a test provider, the events it emitted, one `close()`; {@link codeOf} to read the error
 * code a call fails with; {@link listAllSnapshots} to see every portfolio's snapshots at once.
 *
 * @example
 * ```ts
 * const { engine, clock, close } = createTestEngine({ prices: { AAPL: '150' } });
 * const p = await engine.createPortfolio({ name: 'Test', initialCash: 1000 });
 * expect(await codeOf(engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 100 }))).toBe('INSUFFICIENT_CASH');
 * await close();
 * ```
 */
import {
  type CreatePortfolioEngineOptions,
  createPortfolioEngine,
  type DailyBar,
  type ErrorCode,
  type FoliokitError,
  type FoliokitEvent,
  isFoliokitError,
  type MarketDataProvider,
  type PortfolioEngine,
  type SnapshotQuery,
  type SnapshotRow,
  type Store,
  silentLogger,
} from '../index.js';
import { createManualClock, type ManualClock } from './clock.js';
import { createMemoryStore } from './memory-store.js';
import { createTestProvider, type TestProvider } from './provider.js';

/** Options of {@link createTestEngine}. */
export interface CreateTestEngineOptions {
  /** The store. The harness closes only a store it created. @default a fresh `createMemoryStore()` */
  store?: Store;
  /** The clock, to share one between engines. @default a manual clock at `start` */
  clock?: ManualClock;
  /** Where a new manual clock starts. @default '2026-01-05T10:00:00.000Z' */
  start?: string;
  /** The test provider, to share one between engines. @default a new one quoting `prices` */
  provider?: TestProvider;
  /** Prices the new test provider quotes (its quotes carry the clock's time). @default {} */
  prices?: Record<string, string>;
  /** Daily history of the new test provider. @default {} */
  history?: Record<string, DailyBar[]>;
  /** The engine's market data, in place of the test provider (which is still returned). @default the test provider */
  marketData?: MarketDataProvider;
  /** Further engine options (snapshots, price book, logger). @default { logger: silentLogger } */
  engine?: Omit<CreatePortfolioEngineOptions, 'store' | 'marketData' | 'clock'>;
}

/** What {@link createTestEngine} returns. */
export interface TestEngine {
  engine: PortfolioEngine;
  store: Store;
  clock: ManualClock;
  provider: TestProvider;
  /** Every event the engine emitted, in order (clear it with `events.length = 0`). */
  events: FoliokitEvent[];
  /** Closes the engine, and the store when the harness created it. */
  close(): Promise<void>;
}

/** Creates an engine for a test, on a memory store unless given a store. */
export function createTestEngine(options: CreateTestEngineOptions = {}): TestEngine {
  const ownStore = options.store === undefined;
  const store = options.store ?? createMemoryStore();
  const clock = options.clock ?? createManualClock(options.start ?? '2026-01-05T10:00:00.000Z');
  const provider =
    options.provider ?? createTestProvider({ prices: options.prices ?? {}, history: options.history ?? {}, clock });
  const engine = createPortfolioEngine({
    logger: silentLogger,
    ...options.engine,
    store,
    marketData: options.marketData ?? provider,
    clock,
  });
  const events: FoliokitEvent[] = [];
  engine.onAny((e) => void events.push(e));
  return {
    engine,
    store,
    clock,
    provider,
    events,
    async close() {
      await engine.close();
      if (ownStore) await store.close();
    },
  };
}

/**
 * The code of the `FoliokitError` a promise rejects with, or `'OK'` when it fulfils. Any other
 * rejection fails loudly, naming what was thrown (kept as `cause`).
 *
 * @example
 * ```ts
 * expect(await codeOf(engine.getPortfolio('pf_nope'))).toBe('PORTFOLIO_NOT_FOUND');
 * ```
 */
export async function codeOf(promise: PromiseLike<unknown>): Promise<ErrorCode | 'OK'> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    if (isFoliokitError(error)) return error.code;
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`codeOf: expected a FoliokitError, the promise rejected with ${what}`, { cause: error });
  }
}

/**
 * The `FoliokitError` a promise rejects with, to assert on its code and details. A promise that
 * resolves, or rejects with anything else, fails loudly.
 *
 * @example
 * ```ts
 * const error = await errorOf(engine.trade(id, { symbol: 'AAPL', side: 'buy', quantity: -1 }));
 * expect(error.details.field).toBe('quantity');
 * ```
 */
export async function errorOf(promise: PromiseLike<unknown>): Promise<FoliokitError> {
  try {
    await promise;
  } catch (error) {
    if (isFoliokitError(error)) return error;
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`errorOf: expected a FoliokitError, the promise rejected with ${what}`, { cause: error });
  }
  throw new Error('errorOf: expected a FoliokitError, the promise resolved');
}

/**
 * Every snapshot in a store, of every portfolio, ordered by portfolio id and then as
 * `listSnapshots` orders them: for checks across portfolios ("one daily row per portfolio").
 */
export async function listAllSnapshots(store: Store, query: SnapshotQuery = {}): Promise<SnapshotRow[]> {
  const out: SnapshotRow[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await store.listPortfolios({ limit: 500, ...(afterId === undefined ? {} : { afterId }) });
    for (const p of page) out.push(...(await store.listSnapshots(p.id, query)));
    if (page.length < 500) return out;
    afterId = page[page.length - 1]?.id;
  }
}
