/**
 * The one Kysely implementation of the {@link Store} port, shared by the SQLite and PostgreSQL
 * adapters. Dialect differences live here and only here (`forUpdate`, upsert details).
 */
import { type Kysely, Migrator, sql, type Transaction } from 'kysely';
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type {
  DailyBarRow,
  ExclusiveResult,
  JobRunQuery,
  JobRunRow,
  JobRunStatus,
  LedgerChangeRequest,
  LedgerPlanner,
  LedgerState,
  LedgerWrite,
  PortfolioState,
  SnapshotQuery,
  SnapshotRow,
  Store,
  SymbolPriceRow,
  TransactionQuery,
  WatchlistRow,
} from '../ports/index.js';
import { migrationProvider, type SqlDialect } from './migrations.js';
import { PlannerError, runPlanner } from './planner.js';
import {
  barFromRow,
  barToRow,
  isoOut,
  lotFromRow,
  lotToRow,
  portfolioFromRow,
  portfolioToRow,
  positionFromRow,
  positionToRow,
  priceFromRow,
  priceToRow,
  snapshotFromRow,
  snapshotToRow,
  transactionFromRow,
  transactionToRow,
} from './rows.js';
import type { FoliokitDatabase } from './schema.js';

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
  /** Called by `close()` after the Kysely instance is destroyed. */
  onClose?: () => Promise<void> | void;
}

/** The Kysely store, with a few extras adapters build on. */
export interface KyselyStore extends Store {
  /** The Kysely instance (scoped to the schema, when one was given). */
  readonly db: Kysely<FoliokitDatabase>;
  readonly dialect: SqlDialect;
  /** Applies a planned write inside an open transaction. */
  applyWrite(trx: Transaction<FoliokitDatabase>, write: LedgerWrite): Promise<void>;
}

/**
 * Builds the shared Kysely store on a Kysely instance. Adapters call this; users call
 * `createSqliteStore` or `createPostgresStore`.
 */
export function createKyselyStore(options: KyselyStoreOptions): KyselyStore {
  const { dialect } = options;
  const root = options.db;
  const db = options.schema ? root.withSchema(options.schema) : root;
  const pg = dialect === 'postgres';
  /** A table in raw SQL, qualified with the schema (Kysely's withSchema does not reach raw SQL). */
  const table = (name: string) => sql.table(options.schema ? `${options.schema}.${name}` : name);
  let closed = false;

  const guard = () => {
    if (closed) throw new FoliokitError('STORE_CLOSED', 'The store is closed');
  };

  /** Runs a store call, turning driver errors into STORE_ERROR and leaving ours untouched. */
  async function run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    guard();
    try {
      return await fn();
    } catch (error) {
      if (error instanceof PlannerError) throw error.original;
      if (isFoliokitError(error)) throw error;
      throw wrapError(error, 'STORE_ERROR', `Store ${what} failed`);
    }
  }

  async function applyWrite(trx: Transaction<FoliokitDatabase>, write: LedgerWrite): Promise<void> {
    const t = write.transaction;
    await trx
      .updateTable('portfolios')
      .set({
        cash: write.portfolio.cash,
        net_deposits: write.portfolio.netDeposits,
        realized_pnl: write.portfolio.realizedPnl,
        updated_at: write.portfolio.updatedAt,
      })
      .where('id', '=', t.portfolioId)
      .execute();
    if (write.position) {
      const row = positionToRow(write.position);
      await trx
        .insertInto('positions')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['portfolio_id', 'symbol']).doUpdateSet({
            quantity: row.quantity,
            cost_basis: row.cost_basis,
            realized_pnl: row.realized_pnl,
            opened_at: row.opened_at,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    }
    if (write.lots) {
      if (write.lots.delete.length > 0) {
        await trx.deleteFrom('lots').where('id', 'in', write.lots.delete).execute();
      }
      for (const lot of write.lots.update) {
        await trx
          .updateTable('lots')
          .set({ quantity: lot.quantity, cost_basis: lot.costBasis })
          .where('id', '=', lot.id)
          .execute();
      }
      if (write.lots.insert.length > 0) {
        await trx.insertInto('lots').values(write.lots.insert.map(lotToRow)).execute();
      }
    }
    await trx.insertInto('transactions').values(transactionToRow(t)).execute();
    if (write.snapshot) {
      await trx.insertInto('snapshots').values(snapshotToRow(write.snapshot)).execute();
    }
  }

  /** Keys held in this process (both dialects): a second holder here never reaches the database. */
  const held = new Set<string>();
  /** The advisory-lock name of a key: scoped by schema, so tenants and tests sharing a database never collide. */
  const lockName = (key: string) => `foliokit:${options.schema ?? ''}:${key}`;

  async function runExclusive<T>(key: string, fn: () => Promise<T>): Promise<ExclusiveResult<T>> {
    guard();
    if (held.has(key)) return { ran: false };
    held.add(key);
    try {
      if (!pg) return { ran: true, value: await fn() };
      // A session-level advisory lock on one dedicated connection, held while fn runs on the others.
      // If this process dies, the server ends the session and the lock with it.
      return await db.connection().execute(async (conn) => {
        let locked: boolean;
        try {
          const r = await sql<{ locked: boolean }>`
            select pg_try_advisory_lock(hashtextextended(${lockName(key)}, 0)) as locked`.execute(conn);
          locked = r.rows[0]?.locked === true;
        } catch (error) {
          throw wrapError(error, 'STORE_ERROR', `Store runExclusive(${key}) could not take the lock`);
        }
        if (!locked) return { ran: false } as const;
        try {
          return { ran: true, value: await fn() } as const;
        } finally {
          // Best effort: if the connection is gone, so is the lock.
          await sql`select pg_advisory_unlock(hashtextextended(${lockName(key)}, 0))`.execute(conn).catch(() => {});
        }
      });
    } finally {
      held.delete(key);
    }
  }

  const jobRunFromRow = (r: Record<string, unknown>): JobRunRow => ({
    job: r.job as string,
    runKey: r.run_key as string,
    status: r.status as JobRunStatus,
    startedAt: isoOut(r.started_at),
    finishedAt: r.finished_at === null || r.finished_at === undefined ? null : isoOut(r.finished_at),
    instance: r.instance as string,
    report: r.report === null || r.report === undefined ? null : (JSON.parse(r.report as string) as unknown),
  });

  const store: KyselyStore = {
    name: options.name ?? dialect,
    supportsMultiInstance: options.supportsMultiInstance ?? pg,
    db,
    dialect,
    applyWrite,

    async migrate() {
      guard();
      try {
        if (options.schema && pg) await ensurePostgresSchema(root, options.schema);
        const migrator = new Migrator({
          db,
          provider: migrationProvider(dialect),
          ...(options.schema ? { migrationTableSchema: options.schema } : {}),
        });
        let outcome = await migrator.migrateToLatest();
        // Kysely's migrator introspects every table of the database before it locks; a schema that
        // another process drops meanwhile (another tenant, another test) fails that look-up with
        // 3F000. Nothing of ours was touched: look again.
        for (let attempt = 1; attempt < 4 && isForeignSchemaRace(outcome.error, options.schema); attempt++) {
          outcome = await migrator.migrateToLatest();
        }
        const { error, results } = outcome;
        if (error) {
          const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
          throw new FoliokitError(
            'STORE_ERROR',
            `Migration ${failed} failed: ${(error as Error).message ?? error}`,
            {
              migration: failed,
            },
            { cause: error },
          );
        }
      } catch (error) {
        if (isFoliokitError(error)) throw error;
        throw wrapError(error, 'STORE_ERROR', 'Migrations failed');
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await root.destroy();
      await options.onClose?.();
    },

    createPortfolio(row, openingDeposit) {
      return run('createPortfolio', async () => {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('portfolios').values(portfolioToRow(row)).execute();
          if (openingDeposit) {
            await trx.insertInto('transactions').values(transactionToRow(openingDeposit)).execute();
          }
        });
      });
    },

    getPortfolio(id) {
      return run('getPortfolio', async () => {
        const r = await db.selectFrom('portfolios').selectAll().where('id', '=', id).executeTakeFirst();
        return r ? portfolioFromRow(r) : null;
      });
    },

    listPortfolios(query) {
      return run('listPortfolios', async () => {
        let q = db.selectFrom('portfolios').selectAll().orderBy('id').limit(query.limit);
        if (query.ownerId !== undefined) q = q.where('owner_id', '=', query.ownerId);
        if (query.afterId !== undefined) q = q.where('id', '>', query.afterId);
        return (await q.execute()).map(portfolioFromRow);
      });
    },

    updatePortfolio(id, patch) {
      return run('updatePortfolio', async () => {
        const set: { name?: string; description?: string | null; updated_at: string } = {
          updated_at: patch.updatedAt,
        };
        if (patch.name !== undefined) set.name = patch.name;
        if (patch.description !== undefined) set.description = patch.description;
        // One statement: the row comes back from the update itself, so a failed read can never
        // report an error for a change that was made.
        const r = await db.updateTable('portfolios').set(set).where('id', '=', id).returningAll().executeTakeFirst();
        return r ? portfolioFromRow(r) : null;
      });
    },

    deletePortfolio(id) {
      return run('deletePortfolio', async () => {
        // Foreign keys cascade; the explicit deletes keep a store with foreign keys off just as clean.
        return db.transaction().execute(async (trx) => {
          for (const table of ['snapshots', 'watchlist', 'lots', 'positions', 'transactions'] as const) {
            await trx.deleteFrom(table).where('portfolio_id', '=', id).execute();
          }
          const res = await trx.deleteFrom('portfolios').where('id', '=', id).executeTakeFirst();
          return Number(res.numDeletedRows) > 0;
        });
      });
    },

    applyLedgerChange(request: LedgerChangeRequest, plan: LedgerPlanner) {
      return run('applyLedgerChange', async () => {
        await db.transaction().execute(async (trx) => {
          let pq = trx.selectFrom('portfolios').selectAll().where('id', '=', request.portfolioId);
          if (pg) pq = pq.forUpdate();
          const p = await pq.executeTakeFirst();
          if (!p) {
            throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${request.portfolioId}`, {
              field: 'portfolioId',
              portfolioId: request.portfolioId,
            });
          }
          const state: LedgerState = {
            portfolio: portfolioFromRow(p),
            position: null,
            lots: [],
            positions: [],
            existing: null,
          };
          if (request.idempotencyKey !== undefined) {
            const e = await trx
              .selectFrom('transactions')
              .selectAll()
              .where('portfolio_id', '=', request.portfolioId)
              .where('idempotency_key', '=', request.idempotencyKey)
              .executeTakeFirst();
            state.existing = e ? transactionFromRow(e) : null;
          }
          if (request.loadAllPositions) {
            const rows = await trx
              .selectFrom('positions')
              .selectAll()
              .where('portfolio_id', '=', request.portfolioId)
              .orderBy('symbol')
              .execute();
            state.positions = rows.map(positionFromRow);
            if (request.symbol) state.position = state.positions.find((x) => x.symbol === request.symbol) ?? null;
          } else if (request.symbol) {
            const r = await trx
              .selectFrom('positions')
              .selectAll()
              .where('portfolio_id', '=', request.portfolioId)
              .where('symbol', '=', request.symbol)
              .executeTakeFirst();
            state.position = r ? positionFromRow(r) : null;
          }
          if (request.symbol && request.loadLots) {
            const rows = await trx
              .selectFrom('lots')
              .selectAll()
              .where('portfolio_id', '=', request.portfolioId)
              .where('symbol', '=', request.symbol)
              .orderBy('opened_at')
              .orderBy('id')
              .execute();
            state.lots = rows.map(lotFromRow);
          }
          const write = runPlanner(plan, state);
          if (write) await applyWrite(trx, write);
        });
      });
    },

    listPositions(portfolioId) {
      return run('listPositions', async () => {
        const rows = await db
          .selectFrom('positions')
          .selectAll()
          .where('portfolio_id', '=', portfolioId)
          .orderBy('symbol')
          .execute();
        return rows.map(positionFromRow);
      });
    },

    listLots(portfolioId, symbol) {
      return run('listLots', async () => {
        let q = db.selectFrom('lots').selectAll().where('portfolio_id', '=', portfolioId);
        if (symbol !== undefined) q = q.where('symbol', '=', symbol);
        const rows = await q.orderBy('symbol').orderBy('opened_at').orderBy('id').execute();
        return rows.map(lotFromRow);
      });
    },

    listTransactions(portfolioId, query: TransactionQuery) {
      return run('listTransactions', async () => {
        const desc = (query.order ?? 'desc') === 'desc';
        let q = db.selectFrom('transactions').selectAll().where('portfolio_id', '=', portfolioId);
        if (query.kinds && query.kinds.length > 0) q = q.where('kind', 'in', [...query.kinds]);
        if (query.until !== undefined) q = q.where('executed_at', '<=', query.until);
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
      });
    },

    addWatch(portfolioId, symbol, at) {
      return run('addWatch', () =>
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto('watchlist')
            .values({ portfolio_id: portfolioId, symbol, added_at: at })
            .onConflict((oc) => oc.columns(['portfolio_id', 'symbol']).doNothing())
            .execute();
          return readWatch(trx, portfolioId);
        }),
      );
    },

    removeWatch(portfolioId, symbol) {
      return run('removeWatch', () =>
        db.transaction().execute(async (trx) => {
          await trx
            .deleteFrom('watchlist')
            .where('portfolio_id', '=', portfolioId)
            .where('symbol', '=', symbol)
            .execute();
          return readWatch(trx, portfolioId);
        }),
      );
    },

    listWatch(portfolioId) {
      return run('listWatch', () => readWatch(db, portfolioId));
    },

    insertSnapshots(rows: readonly SnapshotRow[], opts) {
      return run('insertSnapshots', async () => {
        if (rows.length === 0) return;
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < rows.length; i += 500) {
            const chunk = rows.slice(i, i + 500).map(snapshotToRow);
            if (opts?.replace === 'day') {
              await trx
                .insertInto('snapshots')
                .values(chunk)
                .onConflict((oc) =>
                  oc
                    .columns(['portfolio_id', 'kind', 'day'])
                    .where(sql<boolean>`kind in ('daily', 'backfill')`)
                    .doUpdateSet((eb) => ({
                      at: eb.ref('excluded.at'),
                      cash: eb.ref('excluded.cash'),
                      market_value: eb.ref('excluded.market_value'),
                      total_value: eb.ref('excluded.total_value'),
                      cost_basis: eb.ref('excluded.cost_basis'),
                      unrealized_pnl: eb.ref('excluded.unrealized_pnl'),
                      realized_pnl: eb.ref('excluded.realized_pnl'),
                      net_deposits: eb.ref('excluded.net_deposits'),
                      flags: eb.ref('excluded.flags'),
                    })),
                )
                .execute();
            } else {
              await trx.insertInto('snapshots').values(chunk).execute();
            }
          }
        });
      });
    },

    listSnapshots(portfolioId, query: SnapshotQuery) {
      return run('listSnapshots', async () => {
        let q = db.selectFrom('snapshots').selectAll().where('portfolio_id', '=', portfolioId);
        if (query.from !== undefined) q = q.where('at', '>=', query.from);
        if (query.to !== undefined) q = q.where('at', '<=', query.to);
        if (query.kinds && query.kinds.length > 0) q = q.where('kind', 'in', [...query.kinds]);
        if (query.bucket) {
          // The last snapshot of each bucket, by a window function (SQLite >= 3.25, any PostgreSQL).
          const bucket =
            query.bucket === 'day'
              ? sql.ref('day')
              : pg
                ? sql`date_trunc('hour', ${sql.ref('at')})`
                : sql`substr(${sql.ref('at')}, 1, 13)`;
          const rank = sql<number>`row_number() over (partition by ${bucket} order by ${sql.ref('at')} desc, ${sql.ref('id')} desc)`;
          const ranked = q.select(rank.as('rn'));
          let outer = db.selectFrom(ranked.as('ranked')).selectAll().where('rn', '=', 1).orderBy('at').orderBy('id');
          if (query.limit !== undefined) outer = outer.limit(query.limit);
          return (await outer.execute()).map(snapshotFromRow);
        }
        q = q.orderBy('at').orderBy('id');
        if (query.limit !== undefined) q = q.limit(query.limit);
        return (await q.execute()).map(snapshotFromRow);
      });
    },

    readPortfolioStates(portfolioIds: readonly string[]) {
      return run('readPortfolioStates', async () => {
        const states = new Map<string, PortfolioState>();
        // One statement per chunk: a portfolio and its positions come from one snapshot of the
        // database, so a trade committing meanwhile is seen whole or not at all. Chunks keep every
        // statement under the drivers' parameter limits.
        for (let i = 0; i < portfolioIds.length; i += 500) {
          const ids = portfolioIds.slice(i, i + 500);
          if (pg) {
            // One row per portfolio, its open positions aggregated as JSON text arrays (decimals
            // cast to text: JSON numbers would pass through floats).
            const result = await sql<Record<string, unknown> & { open_positions: string | null }>`
              select p.*, (
                select json_agg(json_build_array(q.symbol, q.quantity::text, q.cost_basis::text,
                  q.realized_pnl::text, q.opened_at, q.updated_at) order by q.symbol)::text
                from ${table('positions')} q
                where q.portfolio_id = p.id and q.quantity <> 0
              ) as open_positions
              from ${table('portfolios')} p
              where p.id in (${sql.join(ids)})`.execute(db);
            for (const r of result.rows) {
              const list = r.open_positions
                ? (JSON.parse(r.open_positions) as Array<[string, string, string, string, string | null, string]>)
                : [];
              states.set(r.id as string, {
                portfolio: portfolioFromRow(r),
                positions: list.map((q) =>
                  positionFromRow({
                    portfolio_id: r.id,
                    symbol: q[0],
                    quantity: q[1],
                    cost_basis: q[2],
                    realized_pnl: q[3],
                    opened_at: q[4],
                    updated_at: q[5],
                  }),
                ),
              });
            }
            continue;
          }
          const rows = await db
            .selectFrom('portfolios as p')
            .leftJoin('positions as q', (join) => join.onRef('q.portfolio_id', '=', 'p.id').on('q.quantity', '<>', '0'))
            .selectAll('p')
            .select([
              'q.symbol as q_symbol',
              'q.quantity as q_quantity',
              'q.cost_basis as q_cost_basis',
              'q.realized_pnl as q_realized_pnl',
              'q.opened_at as q_opened_at',
              'q.updated_at as q_updated_at',
            ])
            .where('p.id', 'in', ids)
            .orderBy('p.id')
            .orderBy('q.symbol')
            .execute();
          for (const r of rows) {
            let state = states.get(r.id);
            if (!state) {
              state = { portfolio: portfolioFromRow(r), positions: [] };
              states.set(r.id, state);
            }
            if (r.q_symbol !== null && r.q_symbol !== undefined) {
              state.positions.push(
                positionFromRow({
                  portfolio_id: r.id,
                  symbol: r.q_symbol,
                  quantity: r.q_quantity,
                  cost_basis: r.q_cost_basis,
                  realized_pnl: r.q_realized_pnl,
                  opened_at: r.q_opened_at,
                  updated_at: r.q_updated_at,
                }),
              );
            }
          }
        }
        const out: PortfolioState[] = [];
        for (const id of portfolioIds) {
          const state = states.get(id);
          if (state) out.push(state);
        }
        return out;
      });
    },

    runExclusive,

    getJobRun(job: string, runKey: string) {
      return run('getJobRun', async () => {
        const r = await db
          .selectFrom('job_runs')
          .selectAll()
          .where('job', '=', job)
          .where('run_key', '=', runKey)
          .executeTakeFirst();
        return r ? jobRunFromRow(r) : null;
      });
    },

    saveJobRun(row: JobRunRow) {
      return run('saveJobRun', async () => {
        const values = {
          job: row.job,
          run_key: row.runKey,
          status: row.status,
          started_at: row.startedAt,
          finished_at: row.finishedAt,
          instance: row.instance,
          report: row.report === null || row.report === undefined ? null : JSON.stringify(row.report),
        };
        await db
          .insertInto('job_runs')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['job', 'run_key']).doUpdateSet({
              status: values.status,
              started_at: values.started_at,
              finished_at: values.finished_at,
              instance: values.instance,
              report: values.report,
            }),
          )
          .execute();
      });
    },

    listJobRuns(job: string, query: JobRunQuery) {
      return run('listJobRuns', async () => {
        let q = db.selectFrom('job_runs').selectAll().where('job', '=', job);
        if (query.fromKey !== undefined) q = q.where('run_key', '>=', query.fromKey);
        if (query.toKey !== undefined) q = q.where('run_key', '<=', query.toKey);
        if (query.status !== undefined) q = q.where('status', '=', query.status);
        const rows = await q
          .orderBy('run_key', query.order ?? 'asc')
          .limit(query.limit)
          .execute();
        return rows.map(jobRunFromRow);
      });
    },

    deleteJobRuns(query: { startedBefore: string; job?: string }) {
      return run('deleteJobRuns', async () => {
        let q = db
          .deleteFrom('job_runs')
          .where('started_at', '<', query.startedBefore)
          .where('status', '<>', 'running');
        if (query.job !== undefined) q = q.where('job', '=', query.job);
        const res = await q.executeTakeFirst();
        return Number(res.numDeletedRows);
      });
    },

    upsertPrices(rows: readonly SymbolPriceRow[]) {
      return run('upsertPrices', async () => {
        if (rows.length === 0) return;
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < rows.length; i += 500) {
            await trx
              .insertInto('symbols')
              .values(rows.slice(i, i + 500).map(priceToRow))
              .onConflict((oc) =>
                oc
                  .column('symbol')
                  .doUpdateSet((eb) => ({
                    price: eb.ref('excluded.price'),
                    at: eb.ref('excluded.at'),
                    currency: eb.ref('excluded.currency'),
                    source: eb.ref('excluded.source'),
                    updated_at: eb.ref('excluded.updated_at'),
                  }))
                  .where(sql.ref('excluded.at'), '>=', sql.ref('symbols.at')),
              )
              .execute();
          }
        });
      });
    },

    getPrices(symbols) {
      return run('getPrices', async () => {
        let q = db.selectFrom('symbols').selectAll().orderBy('symbol');
        if (symbols !== undefined) {
          if (symbols.length === 0) return [];
          q = q.where('symbol', 'in', [...symbols]);
        }
        return (await q.execute()).map(priceFromRow);
      });
    },

    upsertDailyBars(rows: readonly DailyBarRow[]) {
      return run('upsertDailyBars', async () => {
        if (rows.length === 0) return;
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < rows.length; i += 500) {
            await trx
              .insertInto('price_history')
              .values(rows.slice(i, i + 500).map(barToRow))
              .onConflict((oc) =>
                oc.columns(['symbol', 'day']).doUpdateSet((eb) => ({
                  open: eb.ref('excluded.open'),
                  high: eb.ref('excluded.high'),
                  low: eb.ref('excluded.low'),
                  close: eb.ref('excluded.close'),
                  adj_close: eb.ref('excluded.adj_close'),
                  volume: eb.ref('excluded.volume'),
                  source: eb.ref('excluded.source'),
                })),
              )
              .execute();
          }
        });
      });
    },

    listDailyBars(symbol, range) {
      return run('listDailyBars', async () => {
        const rows = await db
          .selectFrom('price_history')
          .selectAll()
          .where('symbol', '=', symbol)
          .where('day', '>=', range.from)
          .where('day', '<=', range.to)
          .orderBy('day')
          .execute();
        return rows.map(barFromRow);
      });
    },

    listActiveSymbols() {
      return run('listActiveSymbols', async () => {
        const rows = await db
          .selectFrom('positions')
          .select('symbol')
          .where('quantity', '<>', '0')
          .union(db.selectFrom('watchlist').select('symbol'))
          .execute();
        return [...new Set(rows.map((r) => r.symbol))].sort();
      });
    },
  };
  return store;
}
