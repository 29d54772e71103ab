/**
 * The one Kysely implementation of the {@link Store} port, shared by the SQLite and PostgreSQL
 * adapters and open to any Kysely dialect of either database. An adapter may hand it a native hot
 * path for the ledger change and the hot reads; whatever it does not replace runs on Kysely. Dialect
 * differences live in this folder only (the lock clause, bucketing, advisory locks).
 */
import { type Kysely, Migrator, sql } from 'kysely';
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type {
  AlertKind,
  AlertRow,
  BacktestRunRow,
  BacktestRunStatus,
  Store,
  TransactionQuery,
  WatchlistRow,
} from '../ports/index.js';
import { kyselyHistory } from './kysely-history.js';
import { kyselyJobs } from './kysely-jobs.js';
import { kyselyLedgerChange } from './kysely-ledger.js';
import { kyselyPortfolioStates } from './kysely-states.js';
import { migrationProvider, type SqlDialect } from './migrations.js';
import {
  decOut,
  isoOut,
  lotFromRow,
  portfolioFromRow,
  portfolioToRow,
  positionFromRow,
  transactionFromRow,
  transactionToRow,
} from './rows.js';
import type { BacktestRunsTable, FoliokitDatabase } from './schema.js';

/**
 * Methods an adapter may run natively in place of the Kysely ones, behind the same contract (the
 * ledger change follows `ledger-contract.ts`). Both built-in adapters give all four.
 */
export type StoreHotPath = Partial<
  Pick<Store, 'applyLedgerChange' | 'getPortfolio' | 'listPositions' | 'readPortfolioStates'>
>;

/** An alert as the alerts table keeps it. */
function alertToRow(a: AlertRow, dialect: SqlDialect) {
  return {
    id: a.id,
    owner_id: a.ownerId,
    portfolio_id: a.portfolioId,
    kind: a.kind,
    symbol: a.symbol,
    threshold: a.threshold,
    window_days: a.window,
    cool_down_ms: a.coolDownMs,
    created_at: a.createdAt,
    last_fired_at: a.lastFiredAt,
    cool_down_until: a.coolDownUntil,
    active: dialect === 'postgres' ? a.active : a.active ? 1 : 0,
  };
}

/** An alerts table row as an {@link AlertRow}. */
function alertFromRow(r: {
  id: string;
  owner_id: string | null;
  portfolio_id: string | null;
  kind: string;
  symbol: string | null;
  threshold: unknown;
  window_days: number | null;
  cool_down_ms: unknown;
  created_at: unknown;
  last_fired_at: unknown;
  cool_down_until: unknown;
  active: unknown;
}): AlertRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    portfolioId: r.portfolio_id,
    kind: r.kind as AlertKind,
    symbol: r.symbol,
    threshold: decOut(r.threshold),
    window: r.window_days === null ? null : Number(r.window_days),
    coolDownMs: Number(r.cool_down_ms),
    createdAt: isoOut(r.created_at),
    lastFiredAt: r.last_fired_at === null ? null : isoOut(r.last_fired_at),
    coolDownUntil: r.cool_down_until === null ? null : isoOut(r.cool_down_until),
    active: r.active === true || r.active === 1,
  };
}

/** A JSON value as a JSON text column keeps it: null (and undefined) as SQL NULL. */
function jsonIn(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** A JSON text column as the value it was written from (NULL as null). */
function jsonOut(text: unknown): unknown {
  return text === null || text === undefined ? null : (JSON.parse(String(text)) as unknown);
}

/** An instant column that may be NULL, as ISO text or null. */
const isoOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : isoOut(value));

/** A backtest run as the backtest_runs table keeps it. */
function backtestRunToRow(r: BacktestRunRow): BacktestRunsTable {
  return {
    id: r.id,
    owner_id: r.ownerId,
    kind: r.kind,
    status: r.status,
    request: JSON.stringify(r.request ?? null),
    progress_done: r.progressDone,
    progress_total: r.progressTotal,
    result: jsonIn(r.result),
    error: jsonIn(r.error),
    created_at: isoOut(r.createdAt),
    started_at: isoOrNull(r.startedAt),
    finished_at: isoOrNull(r.finishedAt),
  };
}

/** A backtest_runs table row as a {@link BacktestRunRow}. */
function backtestRunFromRow(r: BacktestRunsTable): BacktestRunRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    kind: r.kind as BacktestRunRow['kind'],
    status: r.status as BacktestRunStatus,
    request: jsonOut(r.request),
    progressDone: Number(r.progress_done),
    progressTotal: Number(r.progress_total),
    result: jsonOut(r.result),
    error: jsonOut(r.error),
    createdAt: isoOut(r.created_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
  };
}

/** The columns a backtest-run patch sets (keys left out or `undefined` are not touched). */
function backtestRunPatch(
  patch: Partial<Omit<BacktestRunRow, 'id' | 'ownerId' | 'kind' | 'request' | 'createdAt'>>,
): Partial<BacktestRunsTable> {
  const set: Partial<BacktestRunsTable> = {};
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.progressDone !== undefined) set.progress_done = patch.progressDone;
  if (patch.progressTotal !== undefined) set.progress_total = patch.progressTotal;
  if (patch.result !== undefined) set.result = jsonIn(patch.result);
  if (patch.error !== undefined) set.error = jsonIn(patch.error);
  if (patch.startedAt !== undefined) set.started_at = isoOrNull(patch.startedAt);
  if (patch.finishedAt !== undefined) set.finished_at = isoOrNull(patch.finishedAt);
  return set;
}

/** Options of {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /** A Kysely instance on the target database. The store owns it: `close()` destroys it. */
  db: Kysely<FoliokitDatabase>;
  /** Which SQL dialect `db` speaks. */
  dialect: SqlDialect;
  /** A name for logs. @default the dialect */
  name?: string;
  /** PostgreSQL schema to keep every table in (created when missing). @default the connection's default */
  schema?: string;
  /** Whether several processes may share the database. @default dialect === 'postgres' */
  supportsMultiInstance?: boolean;
  /** Native implementations that replace the Kysely ones. @default none: everything runs on Kysely */
  hotPath?: StoreHotPath;
  /** Called by `close()` after the Kysely instance is destroyed (also when destroying failed). */
  onClose?: () => Promise<void> | void;
}

/** The Kysely store, with what adapters build on. */
export interface KyselyStore extends Store {
  /** The Kysely instance (scoped to the schema, when one was given). */
  readonly db: Kysely<FoliokitDatabase>;
  readonly dialect: SqlDialect;
}

/**
 * Creates a PostgreSQL schema when it is missing. Looks first, so an app role without CREATE on the
 * database can use a schema made for it; tolerates a concurrent creator (23505 on pg_namespace,
 * 42P06 "already exists"), so several processes may open a fresh schema at once.
 */
async function ensurePostgresSchema(db: Kysely<FoliokitDatabase>, schema: string): Promise<void> {
  const found = await sql<{
    one: number;
  }>`select 1 as one from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db);
  if (found.rows.length > 0) return;
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  }
}

/** True for PostgreSQL's "schema does not exist" (3F000) about a schema other than ours. */
function isForeignSchemaRace(error: unknown, schema: string | undefined): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code !== '3F000') return false;
  return schema === undefined || !String((error as Error).message).includes(`"${schema}"`);
}

/** A portfolio's watchlist, ordered by symbol. */
async function readWatch(db: Kysely<FoliokitDatabase>, portfolioId: string): Promise<WatchlistRow[]> {
  const rows = await db
    .selectFrom('watchlist')
    .select(['symbol', 'added_at'])
    .where('portfolio_id', '=', portfolioId)
    .orderBy('symbol')
    .execute();
  return rows.map((r) => ({ symbol: r.symbol, addedAt: isoOut(r.added_at) }));
}

/**
 * Builds the shared Kysely store on a Kysely instance. Adapters call this and return it wrapped
 * with `guardStore` (the closed guard and `STORE_ERROR` wrapping live there, not here); users call
 * `createSqliteStore` or `createPostgresStore`.
 *
 * @example
 * ```ts
 * const db = new Kysely<FoliokitDatabase>({ dialect: new SqliteDialect({ database }) });
 * const store = guardStore(createKyselyStore({ db, dialect: 'sqlite' }));
 * await store.migrate();
 * ```
 */
export function createKyselyStore(options: KyselyStoreOptions): KyselyStore {
  const { dialect, schema } = options;
  const root = options.db;
  const db = schema ? root.withSchema(schema) : root;
  const pg = dialect === 'postgres';

  const store: KyselyStore = {
    name: options.name ?? dialect,
    supportsMultiInstance: options.supportsMultiInstance ?? pg,
    db,
    dialect,

    async migrate() {
      try {
        if (schema && pg) await ensurePostgresSchema(root, schema);
        const migrator = new Migrator({
          db,
          provider: migrationProvider(dialect),
          // foliokit's own bookkeeping tables, never Kysely's defaults: a host app running its own
          // Kysely migrations on the same database keeps its `kysely_migration` to itself.
          migrationTableName: 'foliokit_migration',
          migrationLockTableName: 'foliokit_migration_lock',
          ...(schema ? { migrationTableSchema: schema } : {}),
        });
        let outcome = await migrator.migrateToLatest();
        // Kysely's migrator introspects every table of the database before it locks; a schema that
        // another process drops meanwhile (another tenant, another test) fails that look-up with
        // 3F000. Nothing of ours was touched: look again.
        for (let attempt = 1; attempt < 4 && isForeignSchemaRace(outcome.error, schema); attempt++) {
          outcome = await migrator.migrateToLatest();
        }
        const { error, results } = outcome;
        if (error) {
          const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
          throw new FoliokitError(
            'STORE_ERROR',
            `Migration ${failed} failed: ${(error as Error).message ?? error}`,
            { migration: failed },
            { cause: error },
          );
        }
      } catch (error) {
        if (isFoliokitError(error)) throw error;
        throw wrapError(error, 'STORE_ERROR', 'Migrations failed');
      }
    },

    async close() {
      try {
        await root.destroy();
      } finally {
        await options.onClose?.();
      }
    },

    async createPortfolio(row, openingDeposit) {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('portfolios').values(portfolioToRow(row)).execute();
        if (openingDeposit) {
          await trx.insertInto('transactions').values(transactionToRow(openingDeposit)).execute();
        }
      });
    },

    async getPortfolio(id) {
      const r = await db.selectFrom('portfolios').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? portfolioFromRow(r) : null;
    },

    async listPortfolios(query) {
      let q = db.selectFrom('portfolios').selectAll().orderBy('id').limit(query.limit);
      if (query.ownerId !== undefined) q = q.where('owner_id', '=', query.ownerId);
      if (query.afterId !== undefined) q = q.where('id', '>', query.afterId);
      return (await q.execute()).map(portfolioFromRow);
    },

    async updatePortfolio(id, patch) {
      const set: { name?: string; description?: string | null; updated_at: string } = { updated_at: patch.updatedAt };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.description !== undefined) set.description = patch.description;
      // One statement: the row comes back from the update itself, so a failed read can never
      // report an error for a change that was made.
      const r = await db.updateTable('portfolios').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      return r ? portfolioFromRow(r) : null;
    },

    async deletePortfolio(id) {
      // Foreign keys cascade; the explicit deletes keep a store with foreign keys off just as clean.
      return db.transaction().execute(async (trx) => {
        for (const table of [
          'snapshots',
          'watchlist',
          'targets',
          'alerts',
          'lots',
          'positions',
          'transactions',
        ] as const) {
          await trx.deleteFrom(table).where('portfolio_id', '=', id).execute();
        }
        const res = await trx.deleteFrom('portfolios').where('id', '=', id).executeTakeFirst();
        return Number(res.numDeletedRows) > 0;
      });
    },

    applyLedgerChange: kyselyLedgerChange(db, dialect, schema),

    async listPositions(portfolioId) {
      const rows = await db
        .selectFrom('positions')
        .selectAll()
        .where('portfolio_id', '=', portfolioId)
        .orderBy('symbol')
        .execute();
      return rows.map(positionFromRow);
    },

    async listLots(portfolioId, symbol) {
      let q = db.selectFrom('lots').selectAll().where('portfolio_id', '=', portfolioId);
      if (symbol !== undefined) q = q.where('symbol', '=', symbol);
      const rows = await q.orderBy('symbol').orderBy('opened_at').orderBy('id').execute();
      return rows.map(lotFromRow);
    },

    async listTransactions(portfolioId, query: TransactionQuery) {
      const desc = (query.order ?? 'desc') === 'desc';
      let q = db.selectFrom('transactions').selectAll().where('portfolio_id', '=', portfolioId);
      if (query.kinds && query.kinds.length > 0) q = q.where('kind', 'in', [...query.kinds]);
      if (query.until !== undefined) q = q.where('executed_at', '<=', query.until);
      if (query.excludeVoided === true) q = q.where('voided_at', 'is', null);
      if (query.before) {
        const { executedAt, id } = query.before;
        q = q.where((eb) =>
          desc
            ? eb.or([
                eb('executed_at', '<', executedAt),
                eb.and([eb('executed_at', '=', executedAt), eb('id', '<', id)]),
              ])
            : eb.or([
                eb('executed_at', '>', executedAt),
                eb.and([eb('executed_at', '=', executedAt), eb('id', '>', id)]),
              ]),
        );
      }
      const dir = desc ? 'desc' : 'asc';
      const rows = await q.orderBy('executed_at', dir).orderBy('id', dir).limit(query.limit).execute();
      return rows.map(transactionFromRow);
    },

    addWatch(portfolioId, symbol, at) {
      return db.transaction().execute(async (trx) => {
        await trx
          .insertInto('watchlist')
          .values({ portfolio_id: portfolioId, symbol, added_at: at })
          .onConflict((oc) => oc.columns(['portfolio_id', 'symbol']).doNothing())
          .execute();
        return readWatch(trx, portfolioId);
      });
    },

    removeWatch(portfolioId, symbol) {
      return db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom('watchlist')
          .where('portfolio_id', '=', portfolioId)
          .where('symbol', '=', symbol)
          .execute();
        return readWatch(trx, portfolioId);
      });
    },

    listWatch(portfolioId) {
      return readWatch(db, portfolioId);
    },

    async getTargets(portfolioId) {
      const rows = await db
        .selectFrom('targets')
        .selectAll()
        .where('portfolio_id', '=', portfolioId)
        .orderBy('symbol')
        .execute();
      return rows.map((r) => ({
        portfolioId: r.portfolio_id,
        symbol: r.symbol,
        weight: r.weight === null ? null : decOut(r.weight),
        updatedAt: isoOut(r.updated_at),
      }));
    },

    async setTargets(portfolioId, rows, at) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('targets').where('portfolio_id', '=', portfolioId).execute();
        if (rows.length === 0) return;
        await trx
          .insertInto('targets')
          .values(rows.map((r) => ({ portfolio_id: portfolioId, symbol: r.symbol, weight: r.weight, updated_at: at })))
          .execute();
      });
    },

    async listAlerts(query) {
      let q = db.selectFrom('alerts').selectAll();
      if (query.ownerId !== undefined) q = q.where('owner_id', '=', query.ownerId);
      if (query.portfolioId !== undefined) q = q.where('portfolio_id', '=', query.portfolioId);
      if (query.id !== undefined) q = q.where('id', '=', query.id);
      if (query.activeOnly === true) q = q.where('active', '=', dialect === 'postgres' ? true : 1);
      return (await q.orderBy('id').execute()).map(alertFromRow);
    },

    async saveAlert(row) {
      const values = alertToRow(row, dialect);
      await db
        .insertInto('alerts')
        .values(values)
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute();
    },

    async updateAlert(id, patch) {
      const set: { active?: boolean | number; threshold?: string; cool_down_ms?: number } = {};
      if (patch.active !== undefined) set.active = dialect === 'postgres' ? patch.active : patch.active ? 1 : 0;
      if (patch.threshold !== undefined) set.threshold = patch.threshold;
      if (patch.coolDownMs !== undefined) set.cool_down_ms = patch.coolDownMs;
      if (Object.keys(set).length === 0) {
        const r = await db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
        return r ? alertFromRow(r) : null;
      }
      // One statement: the fire columns are neither read nor written, so a concurrent claim stays.
      const r = await db.updateTable('alerts').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      return r ? alertFromRow(r) : null;
    },

    async deleteAlert(id) {
      const res = await db.deleteFrom('alerts').where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },

    async markAlertFired(id, firedAt, coolDownUntil, expectedLastFiredAt) {
      const res = await db
        .updateTable('alerts')
        .set({ last_fired_at: firedAt, cool_down_until: coolDownUntil })
        .where('id', '=', id)
        .where('last_fired_at', 'is not distinct from', expectedLastFiredAt)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async saveBacktestRun(row) {
      const values = backtestRunToRow(row);
      await db
        .insertInto('backtest_runs')
        .values(values)
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute();
    },

    async getBacktestRun(id) {
      const r = await db.selectFrom('backtest_runs').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? backtestRunFromRow(r) : null;
    },

    async listBacktestRuns(query) {
      let q = db.selectFrom('backtest_runs').selectAll();
      if (query.ownerId === null) q = q.where('owner_id', 'is', null);
      else if (query.ownerId !== undefined) q = q.where('owner_id', '=', query.ownerId);
      if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
      if (query.statuses && query.statuses.length > 0) q = q.where('status', 'in', [...query.statuses]);
      const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
      return rows.map(backtestRunFromRow);
    },

    async updateBacktestRun(id, fromStatuses, patch) {
      if (fromStatuses.length === 0) return false;
      const set = backtestRunPatch(patch);
      if (Object.keys(set).length === 0) {
        // Nothing to set: the answer is still whether the run is in one of the statuses.
        const r = await db
          .selectFrom('backtest_runs')
          .select('id')
          .where('id', '=', id)
          .where('status', 'in', [...fromStatuses])
          .executeTakeFirst();
        return r !== undefined;
      }
      // One statement: the status check and the write cannot be split by another writer.
      const res = await db
        .updateTable('backtest_runs')
        .set(set)
        .where('id', '=', id)
        .where('status', 'in', [...fromStatuses])
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async getStrategyParams(ownerId, strategy) {
      const r = await db
        .selectFrom('strategy_params')
        .selectAll()
        .where('owner_id', '=', ownerId)
        .where('strategy', '=', strategy)
        .executeTakeFirst();
      if (!r) return null;
      return { ownerId: r.owner_id, strategy: r.strategy, params: jsonOut(r.params), updatedAt: isoOut(r.updated_at) };
    },

    async setStrategyParams(row) {
      const values = {
        owner_id: row.ownerId,
        strategy: row.strategy,
        params: JSON.stringify(row.params ?? null),
        updated_at: isoOut(row.updatedAt),
      };
      await db
        .insertInto('strategy_params')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['owner_id', 'strategy']).doUpdateSet({ params: values.params, updated_at: values.updated_at }),
        )
        .execute();
    },

    readPortfolioStates: kyselyPortfolioStates(db, dialect, schema),
    ...kyselyHistory(db, dialect),
    ...kyselyJobs(db, dialect, schema),
  };

  for (const [method, fn] of Object.entries(options.hotPath ?? {})) {
    if (typeof fn === 'function') Object.assign(store, { [method]: fn });
  }
  return store;
}
