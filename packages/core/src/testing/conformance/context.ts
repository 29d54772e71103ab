/**
 * The one shared module of the store conformance suite: the options an author gives, the context
 * every domain registers its tests with (store, engine, clock and provider factories, the fixture a
 * group of tests runs on, raw SQL bound to the store under test), the optional-capability skips,
 * and small helpers. Domain files import this module and never each other, so nothing imports back up.
 */
import { type CreatePortfolioEngineOptions, createPortfolioEngine, type PortfolioEngine } from '../../engine/index.js';
import type { FoliokitEvent } from '../../events.js';
import { silentLogger } from '../../logger.js';
import { dec, fmt } from '../../money/decimal.js';
import type { Clock, Logger, Store } from '../../ports/index.js';
import { createManualClock, type ManualClock } from '../clock.js';
import { createTestProvider, type TestProvider } from '../provider.js';
import { vitest } from '../runtime.js';

/** Tables that hold rows belonging to a portfolio (each has a `portfolio_id` column). */
export const PORTFOLIO_TABLES = ['transactions', 'positions', 'lots', 'snapshots', 'watchlist', 'targets'] as const;

/** A value bound to a `?` placeholder of a {@link RawQuery}. */
export type RawParam = string | number;

/**
 * Runs one read-only SQL statement on the database of the store under test and returns its rows.
 * The suite writes plain SQL: `?` placeholders in order (rewrite them to `$1`, `$2`, … for
 * PostgreSQL), unqualified table names (resolve them in the store's schema or namespace), lower-case
 * column aliases. Values may come back as strings, numbers or bigints: decimals are compared exactly.
 *
 * @example
 * ```ts
 * // better-sqlite3
 * const query: RawQuery = async (sql, params) => db.prepare(sql).all(...params) as Record<string, unknown>[];
 * ```
 */
export type RawQuery = (sql: string, params: readonly RawParam[]) => Promise<readonly Record<string, unknown>[]>;

/** Options of {@link runStoreConformance} and of each domain's runner. `S` is your store's type. */
export interface StoreConformanceOptions<S extends Store = Store> {
  /** Shown in test names. */
  name: string;
  /**
   * A fresh, empty, migrated store. Called once per group of tests, and once more, while tests are
   * collected, to probe the optional capabilities the jobs checks need.
   */
  createStore: () => Promise<S>;
  /** Closes a store opened by the suite. @default store.close() */
  closeStore?: (store: S) => Promise<void>;
  /**
   * Raw SQL on the database of a store the suite opened, bypassing the store's getters: the suite
   * checks what really is in the database with it. Given the store under test, it returns a
   * {@link RawQuery} on that store's database. Without it the raw-SQL checks are skipped, each with
   * its reason in its title. Every built-in store provides it.
   *
   * @example
   * ```ts
   * raw: (store) => async (sql, params) => store.database.prepare(sql).all(...params),
   * ```
   */
  raw?: (store: S) => RawQuery;
  /** Property-test runs (sequences of commands). @default 100 */
  numRuns?: number;
  /**
   * Your own tests, sharing the suite's setup: called once inside the suite's `describe` (after the
   * suite's groups) with the {@link ConformanceContext}. Register `describe`/`it` blocks in it and
   * call `ctx.useFixture()` for a fresh store, engine, clock and provider. Only
   * `runStoreConformance` calls it, not the single-domain runners.
   *
   * @example
   * ```ts
   * extend: (ctx) => {
   *   describe('my-store extras', () => {
   *     const f = ctx.useFixture();
   *     it('keeps a trade in my audit table', async () => { ... f.engine.trade(...) ... });
   *   });
   * },
   * ```
   */
  extend?: (ctx: ConformanceContext<S>) => void;
}

/** What one group of tests runs on. Filled in `beforeAll`: read it inside tests and hooks. */
export interface ConformanceFixture<S extends Store = Store> {
  /** A fresh store from `createStore`, closed after the group. */
  readonly store: S;
  /** An engine over {@link ConformanceFixture.store}, on the clock and provider below. */
  readonly engine: PortfolioEngine;
  /** Quotes the fixture's prices; `setPrice`, `setHistory`, `failing` change it. */
  readonly provider: TestProvider;
  /** Starts at {@link CONFORMANCE_START}; advance it to move time. */
  readonly clock: ManualClock;
  /** Every event the engine emitted, in order (clear with `events.length = 0`). */
  readonly events: FoliokitEvent[];
  /** Messages the engine logged as warnings and errors. */
  readonly logged: string[];
  /** Raw SQL on the store's database, or `null` when the options give no `raw`. */
  readonly raw: RawQuery | null;
}

/** Optional store capabilities the suite checks only when the store has them. */
export interface StoreCapabilities {
  /** `runExclusive`. */
  runExclusive: boolean;
  /** `saveJobRun`, `getJobRun` and `listJobRuns`. */
  jobRuns: boolean;
  /** `deleteJobRuns`. */
  pruneJobRuns: boolean;
}

/** The suite's setup, handed to every domain and to `extend`. */
export interface ConformanceContext<S extends Store = Store> {
  /** The name from the options. */
  readonly name: string;
  /** Property-test runs. */
  readonly numRuns: number;
  /** Whether the options give `raw` (else the raw-SQL checks are skipped). */
  readonly hasRaw: boolean;
  /** Opens a fresh store with the author's `createStore`. Close it with {@link ConformanceContext.closeStore}. */
  createStore(): Promise<S>;
  /** Closes a store with the author's `closeStore`, else `store.close()`. */
  closeStore(store: S): Promise<void>;
  /** A manual clock at {@link CONFORMANCE_START}. */
  createClock(): ManualClock;
  /** A test provider on `clock`, quoting `prices` (@default {@link CONFORMANCE_PRICES}). */
  createProvider(clock: Clock, prices?: Record<string, string>): TestProvider;
  /** An engine over `store`: a fresh clock and provider and a silent logger unless given. */
  createEngine(store: Store, options?: Partial<Omit<CreatePortfolioEngineOptions, 'store'>>): PortfolioEngine;
  /** Raw SQL on the database of `store`, or `null` when the options give no `raw`. */
  rawFor(store: S): RawQuery | null;
  /**
   * Registers `beforeAll`/`afterAll` in the calling `describe` and returns the fixture they fill:
   * a fresh store, an engine, a clock, a provider quoting `prices`.
   */
  useFixture(options?: { prices?: Record<string, string> }): ConformanceFixture<S>;
  /** The store's optional capabilities, probed once on a store opened and closed for it. */
  capabilities(): Promise<StoreCapabilities>;
}

/** The instant every fixture's clock starts at (a Monday afternoon, US market hours). */
export const CONFORMANCE_START = '2026-03-02T15:00:00.000Z';

/** The prices a fixture's provider quotes unless told otherwise. */
export const CONFORMANCE_PRICES: Readonly<Record<string, string>> = {
  AAPL: '150.25',
  MSFT: '400',
  'BRK.B': '420.5',
  TINY: '0.00000001',
};

/** Builds the context of one run of the suite. */
export function createConformanceContext<S extends Store>(options: StoreConformanceOptions<S>): ConformanceContext<S> {
  const closeStore = (store: S) => (options.closeStore ? options.closeStore(store) : store.close());
  const createClock = () => createManualClock(CONFORMANCE_START);
  const createProvider = (clock: Clock, prices: Record<string, string> = { ...CONFORMANCE_PRICES }) =>
    createTestProvider({ prices, clock });
  const rawFor = (store: S) => (options.raw ? options.raw(store) : null);
  let probed: Promise<StoreCapabilities> | undefined;

  const ctx: ConformanceContext<S> = {
    name: options.name,
    numRuns: options.numRuns ?? 100,
    hasRaw: options.raw !== undefined,
    createStore: () => options.createStore(),
    closeStore,
    createClock,
    createProvider,
    createEngine(store, engineOptions = {}) {
      const clock = engineOptions.clock ?? createClock();
      return createPortfolioEngine({
        logger: silentLogger,
        ...engineOptions,
        marketData: engineOptions.marketData ?? createProvider(clock),
        clock,
        store,
      });
    },
    rawFor,
    useFixture(fixtureOptions = {}) {
      return useFixture(ctx, fixtureOptions.prices);
    },
    capabilities() {
      probed ??= (async () => {
        const store = await options.createStore();
        try {
          return capabilitiesOf(store);
        } finally {
          await closeStore(store);
        }
      })();
      return probed;
    },
  };
  return ctx;
}

/** Which optional members a store has. */
export function capabilitiesOf(store: Store): StoreCapabilities {
  return {
    runExclusive: typeof store.runExclusive === 'function',
    jobRuns: [store.saveJobRun, store.getJobRun, store.listJobRuns].every((m) => typeof m === 'function'),
    pruneJobRuns: typeof store.deleteJobRuns === 'function',
  };
}

function useFixture<S extends Store>(
  ctx: ConformanceContext<S>,
  prices: Record<string, string> | undefined,
): ConformanceFixture<S> {
  const { afterAll, beforeAll } = vitest();
  let state: ConformanceFixture<S> | undefined;
  const get = (): ConformanceFixture<S> => {
    if (!state) throw new Error('The conformance fixture is filled in beforeAll: read it inside a test or hook');
    return state;
  };
  let opened: S | undefined;
  beforeAll(async () => {
    const store = (opened = await ctx.createStore());
    const clock = ctx.createClock();
    const provider = ctx.createProvider(clock, prices);
    const events: FoliokitEvent[] = [];
    const logged: string[] = [];
    const logger: Logger = { ...silentLogger, error: (m) => void logged.push(m), warn: (m) => void logged.push(m) };
    const engine = ctx.createEngine(store, { marketData: provider, clock, logger });
    engine.onAny((e) => void events.push(e));
    state = { store, engine, provider, clock, events, logged, raw: ctx.rawFor(store) };
  });
  afterAll(async () => {
    await state?.engine.close();
    if (opened) await ctx.closeStore(opened);
  });
  return {
    get store() {
      return get().store;
    },
    get engine() {
      return get().engine;
    },
    get provider() {
      return get().provider;
    },
    get clock() {
      return get().clock;
    },
    get events() {
      return get().events;
    },
    get logged() {
      return get().logged;
    },
    get raw() {
      return get().raw;
    },
  };
}

/**
 * The store, typed with optional members `members` present; throws when they are missing (a store
 * from `createStore` that lacks what the probed one had).
 */
export function withMembers<K extends keyof Store>(store: Store, ...members: K[]): Store & Required<Pick<Store, K>> {
  const missing = members.filter((m) => typeof store[m] !== 'function');
  if (missing.length > 0) {
    throw new Error(`createStore returned a store without ${missing.join(', ')}, though the probed store had it`);
  }
  return store as Store & Required<Pick<Store, K>>;
}

/** `it` when `able`, else `it.skip` with the reason in the title: a missing capability never counts as a pass. */
export function itWhen(able: boolean, reason: string, title: string, fn: () => Promise<void>): void {
  const { it } = vitest();
  if (able) it(title, fn);
  else it.skip(`${title} (skipped: ${reason})`, fn);
}

/** Registers a raw-SQL check: skipped, with the reason in its title, when the options give no `raw`. */
export function itRaw(ctx: ConformanceContext, title: string, fn: () => Promise<void>): void {
  itWhen(ctx.hasRaw, 'no raw query given, and raw is optional', `raw SQL: ${title}`, fn);
}

/** The fixture's raw query, for tests registered with {@link itRaw}. */
export function rawOf(fixture: ConformanceFixture): RawQuery {
  if (!fixture.raw) throw new Error('raw SQL check ran without a raw query');
  return fixture.raw;
}

/** Rows of `table` whose `portfolio_id` is `portfolioId`, counted with raw SQL. */
export async function countRows(raw: RawQuery, table: string, portfolioId: string): Promise<number> {
  const [row] = await raw(`select count(*) as n from ${table} where portfolio_id = ?`, [portfolioId]);
  return Number(row?.n);
}

/** Asserts that a value read with raw SQL (string, number or bigint) is the decimal `expected`, exactly. */
export function expectDecimal(value: unknown, expected: string, label: string): void {
  const { expect } = vitest();
  expect(value === null || value === undefined ? value : fmt(dec(String(value))), label).toBe(fmt(dec(expected)));
}

export { codeOf } from '../harness.js';

/** Everything the store holds for a portfolio, for "nothing changed" checks. */
export async function stateOf(store: Store, id: string) {
  return {
    portfolio: await store.getPortfolio(id),
    positions: await store.listPositions(id),
    lots: await store.listLots(id),
    ledger: await store.listTransactions(id, { limit: 10_000 }),
    watch: await store.listWatch(id),
  };
}
