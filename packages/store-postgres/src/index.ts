/**
 * @packageDocumentation
 * `@foliokit/store-postgres`: the store for many app instances sharing one PostgreSQL database, on
 * `pg` and Kysely's PostgreSQL dialect.
 */
import { FoliokitError, isFoliokitError, wrapError } from '@foliokit/core';
import { createKyselyStore, type FoliokitDatabase, guardStore, type KyselyStore } from '@foliokit/core/sql';
import { Kysely, PostgresDialect } from 'kysely';
import { listenClientFactory, PostgresEventTransport } from './event-transport.js';
import { createPostgresNativePath } from './native-path.js';
import { connectClient, PoolForKysely, type PostgresPoolLike, StorePool, storeClosedError } from './pool.js';

export {
  MAX_INLINE_BYTES,
  PostgresEventTransport,
  type PostgresEventTransportOptions,
  type PostgresListenClientLike,
  type PostgresNotificationLike,
} from './event-transport.js';
export type {
  PostgresClientLike,
  PostgresPoolLike,
  PostgresQueryConfigLike,
  PostgresResultLike,
  PostgresTypesLike,
} from './pool.js';
export { parseTimestamptz } from './pool.js';

/**
 * Options of {@link createPostgresStore}: give exactly one of `connectionString` and `pool`.
 *
 * @example
 * ```ts
 * await createPostgresStore({ connectionString: process.env.DATABASE_URL, schema: 'foliokit' });
 * await createPostgresStore({ pool: new pg.Pool({ connectionString, pipeline: true }) });
 * ```
 */
export interface CreatePostgresStoreOptions {
  /**
   * A `postgres://` URL. The store creates a `pg.Pool` on it (with pipelining on), owns it, and
   * ends it on `close()`.
   */
  connectionString?: string;
  /**
   * A pool you created (`pg.Pool` or one with the same `connect`/`end`), or an async factory for
   * one. The store never ends it: `close()` leaves it open for you. Create it with
   * `pipeline: true` (node-postgres releases that have the option; 8.23 does) for trades in two
   * round trips instead of five; an older pg ignores the option and the store sends one at a time.
   */
  pool?: PostgresPoolLike | (() => Promise<PostgresPoolLike>);
  /**
   * The schema holding every table (and the migration bookkeeping), created when missing, so tests
   * and tenants can share one database. A plain identifier: 1 to 63 ASCII letters, digits, `_` or
   * `$`, not starting with a digit or `$`, and not with `pg_` (reserved by PostgreSQL); matched
   * case-sensitively (`Foliokit` and `foliokit` are two schemas). Anything else (a `.`, spaces,
   * quotes, other characters) fails at creation with `INVALID_CONFIGURATION`, field `schema`.
   * @default the connection's current schema at open (the first existing schema of its
   * search_path, usually `public`)
   */
  schema?: string;
  /** Run migrations on open. @default true */
  migrate?: boolean;
  /** Most connections of the pool the store creates (only with `connectionString`). @default 10 */
  maxConnections?: number;
}

/** The PostgreSQL store. */
export interface PostgresStore extends KyselyStore {
  /** The pool the store runs on (yours, or the one it created). */
  readonly pool: PostgresPoolLike;
  /** The schema holding the tables: the one given, else the connection's current schema at open. */
  readonly schema: string;
  /**
   * Engine events between the instances sharing the database (`LISTEN/NOTIFY` on a channel named
   * after the schema, payloads over 7,900 bytes by reference). Present when the pool can make a
   * dedicated listening client like its own (a `pg.Pool`, or `connectionString`); a pool wrapper
   * with only `connect`/`end` gets none, and events stay in-process.
   */
  readonly events?: PostgresEventTransport;
}

/** Options after validation. */
interface Resolved {
  pool: PostgresPoolLike;
  owned: boolean;
  schema: string | undefined;
  migrate: boolean;
}

function invalid(message: string, field: string): FoliokitError {
  return new FoliokitError('INVALID_CONFIGURATION', `createPostgresStore: ${message}`, { field });
}

/** A schema name the store accepts: see {@link CreatePostgresStoreOptions.schema}. */
const SCHEMA_NAME = /^(?!pg_)[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function isSchemaName(schema: unknown): schema is string {
  return typeof schema === 'string' && SCHEMA_NAME.test(schema);
}

/**
 * Turns a driver error of a call that was under way when the store closed (Kysely's "driver has
 * already been destroyed", a pool already ended) into `STORE_CLOSED`; other errors stay as they are.
 */
function closedAware<S extends object>(store: S, gate: StorePool): S {
  const methods = store as Record<string, unknown>;
  for (const [name, value] of Object.entries(methods)) {
    if (typeof value !== 'function' || name === 'close') continue;
    const fn = value as (...args: unknown[]) => Promise<unknown>;
    methods[name] = async (...args: unknown[]) => {
      try {
        return await fn.apply(store, args);
      } catch (error) {
        if (gate.closed && !isFoliokitError(error)) {
          throw storeClosedError(error);
        }
        throw error;
      }
    };
  }
  return store;
}

async function resolve(options: CreatePostgresStoreOptions): Promise<Resolved> {
  if (typeof options !== 'object' || options === null) {
    throw invalid('needs an options object with { connectionString } or { pool }', 'options');
  }
  const { connectionString, pool, schema, migrate = true, maxConnections } = options;
  if ((connectionString === undefined) === (pool === undefined)) {
    throw invalid(
      'give exactly one of connectionString and pool',
      connectionString === undefined ? 'pool' : 'connectionString',
    );
  }
  if (schema !== undefined && !isSchemaName(schema)) {
    throw invalid(
      `schema must be 1 to 63 ASCII letters, digits, _ or $, starting with a letter or _ and not with pg_ (got ${JSON.stringify(schema)})`,
      'schema',
    );
  }
  if (typeof migrate !== 'boolean') throw invalid('migrate must be a boolean', 'migrate');
  if (maxConnections !== undefined) {
    if (pool !== undefined)
      throw invalid('maxConnections applies only to the pool made from connectionString', 'maxConnections');
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw invalid('maxConnections must be a positive integer', 'maxConnections');
    }
  }
  if (pool !== undefined) {
    let resolved: PostgresPoolLike;
    try {
      resolved = typeof pool === 'function' ? await pool() : pool;
    } catch (error) {
      throw wrapError(error, 'STORE_ERROR', 'createPostgresStore: the pool factory failed', { field: 'pool' });
    }
    if (!resolved || typeof resolved.connect !== 'function' || typeof resolved.end !== 'function') {
      throw invalid('pool must have connect() and end() (a pg.Pool)', 'pool');
    }
    return { pool: resolved, owned: false, schema, migrate };
  }
  if (typeof connectionString !== 'string' || connectionString.length === 0) {
    throw invalid('connectionString must be a non-empty string', 'connectionString');
  }
  const { default: pg } = await import('pg');
  const created = new pg.Pool({
    connectionString,
    max: maxConnections ?? 10,
    // Send a trade's statements without waiting for each answer (see native-path.ts). A pg
    // without pipelining ignores the option; the store then awaits each statement.
    pipeline: true,
  } as ConstructorParameters<typeof pg.Pool>[0]);
  // An idle client's connection error (a server restart) must not crash the process.
  created.on('error', () => {});
  return { pool: created as unknown as PostgresPoolLike, owned: true, schema, migrate };
}

/** The connection's current schema: the first schema of its search_path that exists. */
async function currentSchema(pool: PostgresPoolLike): Promise<string> {
  let name: unknown;
  try {
    const client = await connectClient(pool);
    try {
      name = (await client.query({ text: 'select current_schema() as name' })).rows[0]?.name;
    } finally {
      client.release();
    }
  } catch (error) {
    throw wrapError(error, 'STORE_ERROR', 'createPostgresStore: cannot reach the database');
  }
  if (typeof name !== 'string') {
    throw invalid('no schema of the search_path exists; pass { schema }', 'schema');
  }
  return name;
}

/**
 * Opens a PostgreSQL store and runs pending migrations (several processes may open the same
 * database at once: migrations take an advisory lock). Decimals are exact `numeric` read back as
 * strings, instants `timestamptz`, days `date`. Trades lock the portfolio row, so any number of
 * engine instances can trade on one database without a lost update.
 *
 * `close()` fails every call still waiting for a connection with `STORE_CLOSED` (a transaction
 * already under way finishes first: nothing is left half-written), then ends the pool only when
 * the store created it from `connectionString`.
 *
 * @throws FoliokitError `INVALID_CONFIGURATION` for bad options, `STORE_ERROR` when the database
 * cannot be reached or a migration fails.
 *
 * @example
 * ```ts
 * const store = await createPostgresStore({ connectionString: 'postgres://localhost/app' });
 * const engine = createPortfolioEngine({ store, marketData });
 * ```
 */
export async function createPostgresStore(options: CreatePostgresStoreOptions): Promise<PostgresStore> {
  const resolved = await resolve(options);
  const { pool, owned, migrate } = resolved;
  let schema: string;
  try {
    // Without a schema, pin the connection's current one: unqualified, Kysely's migrator would take
    // a foliokit table in any other schema of the database for its own and skip creating it.
    schema = resolved.schema ?? (await currentSchema(pool));
  } catch (error) {
    if (owned) await pool.end().catch(() => {});
    throw error;
  }
  // Every query of the store goes through the gate, so close() can fail what waits for a connection.
  const gate = new StorePool(pool);
  const db = new Kysely<FoliokitDatabase>({ dialect: new PostgresDialect({ pool: new PoolForKysely(gate) }) });
  const base = closedAware(
    createKyselyStore({
      db,
      dialect: 'postgres',
      name: 'postgres',
      supportsMultiInstance: true,
      schema,
      hotPath: createPostgresNativePath({ pool: gate, schema }),
      onClose: owned ? () => pool.end() : undefined,
    }),
    gate,
  );
  const closeBase = base.close;
  // Engine events across instances (LISTEN/NOTIFY), when the pool can make a listening client.
  const createClient = listenClientFactory(pool);
  const events = createClient && new PostgresEventTransport({ pool: gate, schema, createClient });
  const close = async () => {
    // First the event transport (its listening connection), then the gate (queued calls fail with
    // STORE_CLOSED, leased clients come back), then Kysely and the pool the store owns.
    await events?.close();
    await gate.close();
    await closeBase.call(base);
  };
  const store: PostgresStore = guardStore(Object.assign(base, { pool, schema, close, events }));

  if (migrate) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  }
  return store;
}
