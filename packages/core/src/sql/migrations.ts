/**
 * Migrations as code, shared by every SQL dialect. Column types differ per dialect (see schema.ts);
 * the shape is one. New migrations are appended with a sortable name; never edit a shipped one.
 */
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

/** SQL dialects the shared store supports. */
export type SqlDialect = 'sqlite' | 'postgres';

function types(dialect: SqlDialect) {
  const pg = dialect === 'postgres';
  return {
    decimal: pg ? ('numeric' as const) : ('text' as const),
    instant: pg ? ('timestamptz' as const) : ('text' as const),
    day: pg ? ('date' as const) : ('text' as const),
    /** A CHECK that a decimal column is not negative. */
    nonNegative: (column: string) => (pg ? sql`${sql.ref(column)} >= 0` : sql`substr(${sql.ref(column)}, 1, 1) <> '-'`),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database before it has a type
type AnyDb = Kysely<any>;

function initial(dialect: SqlDialect): Migration {
  const t = types(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('portfolios')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner_id', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('base_currency', 'text', (c) => c.notNull())
        .addColumn('cost_basis_method', 'text', (c) => c.notNull())
        .addColumn('cash', t.decimal, (c) => c.notNull())
        .addColumn('net_deposits', t.decimal, (c) => c.notNull())
        .addColumn('realized_pnl', t.decimal, (c) => c.notNull())
        .addColumn('created_at', t.instant, (c) => c.notNull())
        .addColumn('updated_at', t.instant, (c) => c.notNull())
        .addCheckConstraint('portfolios_cash_non_negative', t.nonNegative('cash'))
        .execute();
      await db.schema.createIndex('portfolios_owner_idx').on('portfolios').columns(['owner_id', 'id']).execute();

      await db.schema
        .createTable('positions')
        .addColumn('portfolio_id', 'text', (c) => c.notNull().references('portfolios.id').onDelete('cascade'))
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('quantity', t.decimal, (c) => c.notNull())
        .addColumn('cost_basis', t.decimal, (c) => c.notNull())
        .addColumn('realized_pnl', t.decimal, (c) => c.notNull())
        .addColumn('opened_at', t.instant)
        .addColumn('updated_at', t.instant, (c) => c.notNull())
        .addPrimaryKeyConstraint('positions_pk', ['portfolio_id', 'symbol'])
        .addCheckConstraint('positions_quantity_non_negative', t.nonNegative('quantity'))
        .execute();

      await db.schema
        .createTable('lots')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('portfolio_id', 'text', (c) => c.notNull().references('portfolios.id').onDelete('cascade'))
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('opened_at', t.instant, (c) => c.notNull())
        .addColumn('quantity', t.decimal, (c) => c.notNull())
        .addColumn('cost_basis', t.decimal, (c) => c.notNull())
        .addCheckConstraint('lots_quantity_non_negative', t.nonNegative('quantity'))
        .execute();
      await db.schema
        .createIndex('lots_position_idx')
        .on('lots')
        .columns(['portfolio_id', 'symbol', 'opened_at', 'id'])
        .execute();

      await db.schema
        .createTable('transactions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('portfolio_id', 'text', (c) => c.notNull().references('portfolios.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('symbol', 'text')
        .addColumn('quantity', t.decimal)
        .addColumn('price', t.decimal)
        .addColumn('fee', t.decimal, (c) => c.notNull())
        .addColumn('amount', t.decimal, (c) => c.notNull())
        .addColumn('realized_pnl', t.decimal)
        .addColumn('cash_after', t.decimal, (c) => c.notNull())
        .addColumn('quantity_after', t.decimal)
        .addColumn('idempotency_key', 'text')
        .addColumn('request_hash', 'text')
        .addColumn('executed_at', t.instant, (c) => c.notNull())
        .addColumn('created_at', t.instant, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('transactions_idempotency_idx')
        .on('transactions')
        .columns(['portfolio_id', 'idempotency_key'])
        .unique()
        .execute();
      await db.schema
        .createIndex('transactions_ledger_idx')
        .on('transactions')
        .columns(['portfolio_id', 'executed_at', 'id'])
        .execute();

      await db.schema
        .createTable('snapshots')
        .addColumn('id', 'integer', (c) =>
          // SQLite: a rowid alias, without AUTOINCREMENT's extra write to sqlite_sequence on every insert.
          dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
        )
        .addColumn('portfolio_id', 'text', (c) => c.notNull().references('portfolios.id').onDelete('cascade'))
        .addColumn('at', t.instant, (c) => c.notNull())
        .addColumn('day', t.day, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('cash', t.decimal, (c) => c.notNull())
        .addColumn('market_value', t.decimal, (c) => c.notNull())
        .addColumn('total_value', t.decimal, (c) => c.notNull())
        .addColumn('cost_basis', t.decimal, (c) => c.notNull())
        .addColumn('unrealized_pnl', t.decimal, (c) => c.notNull())
        .addColumn('realized_pnl', t.decimal, (c) => c.notNull())
        .addColumn('net_deposits', t.decimal, (c) => c.notNull())
        .addColumn('flags', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      await db.schema.createIndex('snapshots_series_idx').on('snapshots').columns(['portfolio_id', 'at']).execute();
      // Jobs are idempotent per (portfolio, kind, day): one daily and one backfill snapshot a day.
      await db.schema
        .createIndex('snapshots_daily_unique_idx')
        .on('snapshots')
        .columns(['portfolio_id', 'kind', 'day'])
        .unique()
        .where(sql<boolean>`kind in ('daily', 'backfill')`)
        .execute();

      await db.schema
        .createTable('symbols')
        .addColumn('symbol', 'text', (c) => c.primaryKey())
        .addColumn('price', t.decimal, (c) => c.notNull())
        .addColumn('at', t.instant, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.instant, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('price_history')
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('day', t.day, (c) => c.notNull())
        .addColumn('open', t.decimal)
        .addColumn('high', t.decimal)
        .addColumn('low', t.decimal)
        .addColumn('close', t.decimal, (c) => c.notNull())
        .addColumn('adj_close', t.decimal)
        .addColumn('volume', t.decimal)
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('price_history_pk', ['symbol', 'day'])
        .execute();

      await db.schema
        .createTable('watchlist')
        .addColumn('portfolio_id', 'text', (c) => c.notNull().references('portfolios.id').onDelete('cascade'))
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('added_at', t.instant, (c) => c.notNull())
        .addPrimaryKeyConstraint('watchlist_pk', ['portfolio_id', 'symbol'])
        .execute();
    },
  };
}

/**
 * Scheduled job runs: one row per (job, run key), so a tick completed by one instance is skipped by
 * the others, and a tick whose runner died (status still `running` while nobody holds the job's
 * lock) is run again by the next instance that takes the lock.
 */
function jobRuns(dialect: SqlDialect): Migration {
  const t = types(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('job_runs')
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('run_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', t.instant, (c) => c.notNull())
        .addColumn('finished_at', t.instant)
        .addColumn('instance', 'text', (c) => c.notNull())
        .addColumn('report', 'text')
        .addPrimaryKeyConstraint('job_runs_pk', ['job', 'run_key'])
        .execute();
      await db.schema.createIndex('job_runs_started_idx').on('job_runs').columns(['started_at']).execute();
    },
  };
}

/**
 * The ledger in date order: each portfolio's latest entry instant (a trade dated before it
 * re-plans the ledger), void entries, and snapshots marked stale when the ledger changes under
 * them. Existing portfolios get their `ledger_at` from their ledger.
 */
function dateOrder(dialect: SqlDialect): Migration {
  const t = types(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable('portfolios').addColumn('ledger_at', t.instant).execute();
      await db.schema.alterTable('transactions').addColumn('voided_at', t.instant).execute();
      await db.schema.alterTable('transactions').addColumn('void_key', 'text').execute();
      await db.schema
        .alterTable('snapshots')
        .addColumn('stale', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('transactions_void_key_idx')
        .on('transactions')
        .columns(['portfolio_id', 'void_key'])
        .unique()
        .execute();
      // Through the query builder, so a store's schema qualifies both tables.
      await db
        .updateTable('portfolios')
        .set((eb) => ({
          ledger_at: eb
            .selectFrom('transactions as t')
            .select((e) => e.fn.max('t.executed_at').as('m'))
            .whereRef('t.portfolio_id', '=', 'portfolios.id'),
        }))
        .execute();
    },
  };
}

/**
 * Events too large for one `NOTIFY` (PostgreSQL's event transport, see `Store.events`): the sender
 * stores the event here and notifies its id; receivers read it by id. Rows are pruned by the
 * sender after a few minutes. SQLite has no event transport: nothing is created there.
 */
function eventPayloads(dialect: SqlDialect): Migration {
  return {
    async up(db: AnyDb) {
      if (dialect !== 'postgres') return;
      await db.schema
        .createTable('event_payloads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('payload', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('event_payloads_created_idx').on('event_payloads').columns(['created_at']).execute();
    },
  };
}

/**
 * Model portfolios: each portfolio's target holdings, one row per (portfolio, symbol); `weight` a
 * decimal fraction, or null for an equal share of what the weighted targets leave.
 */
function targets(dialect: SqlDialect): Migration {
  const t = types(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('targets')
        .addColumn('portfolio_id', 'text', (c) => c.notNull().references('portfolios.id').onDelete('cascade'))
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('weight', t.decimal)
        .addColumn('updated_at', t.instant, (c) => c.notNull())
        .addPrimaryKeyConstraint('targets_pk', ['portfolio_id', 'symbol'])
        .execute();
    },
  };
}

/**
 * Alerts (see `createAlert`): one row per alert; `last_fired_at` is the compare-and-set column that
 * lets one instance among several claim a fire. A portfolio's alerts go with it.
 */
function alerts(dialect: SqlDialect): Migration {
  const t = types(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner_id', 'text')
        .addColumn('portfolio_id', 'text', (c) => c.references('portfolios.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('symbol', 'text')
        .addColumn('threshold', t.decimal, (c) => c.notNull())
        .addColumn('window_days', 'integer')
        .addColumn('cool_down_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at', t.instant, (c) => c.notNull())
        .addColumn('last_fired_at', t.instant)
        .addColumn('cool_down_until', t.instant)
        .addColumn('active', dialect === 'postgres' ? 'boolean' : 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alerts_owner_idx').on('alerts').columns(['owner_id', 'id']).execute();
      await db.schema.createIndex('alerts_portfolio_idx').on('alerts').columns(['portfolio_id', 'id']).execute();
    },
  };
}

/**
 * Backtests (see `createBacktestRunner`): one row per run, its request, result and error as JSON
 * text (read back exactly as written: decimal strings stay strings), `status` the compare-and-set
 * column that keeps a cancelled run from turning back into a running one; and each user's saved
 * parameters per strategy. Neither belongs to a portfolio.
 */
function backtests(dialect: SqlDialect): Migration {
  const t = types(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('backtest_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner_id', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('progress_done', 'integer', (c) => c.notNull())
        .addColumn('progress_total', 'integer', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', t.instant, (c) => c.notNull())
        .addColumn('started_at', t.instant)
        .addColumn('finished_at', t.instant)
        .execute();
      await db.schema.createIndex('backtest_runs_owner_idx').on('backtest_runs').columns(['owner_id', 'id']).execute();

      await db.schema
        .createTable('strategy_params')
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.instant, (c) => c.notNull())
        .addPrimaryKeyConstraint('strategy_params_pk', ['owner_id', 'strategy'])
        .execute();
    },
  };
}

/** The ordered migrations for a dialect. */
export function foliokitMigrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_initial': initial(dialect),
    '0002_job_runs': jobRuns(dialect),
    '0003_date_order': dateOrder(dialect),
    '0004_event_payloads': eventPayloads(dialect),
    '0005_targets': targets(dialect),
    '0006_alerts': alerts(dialect),
    '0007_backtests': backtests(dialect),
  };
}

/** A Kysely MigrationProvider serving the migrations from memory (bundles have no folder to read). */
export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return { getMigrations: async () => foliokitMigrations(dialect) };
}
