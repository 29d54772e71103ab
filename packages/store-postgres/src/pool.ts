/**
 * The part of `pg` this package uses, typed structurally (so the package imports no driver types),
 * the per-client type parsers that keep decimals exact and instants canonical, and the pool wrapper
 * Kysely talks through.
 */
import { FoliokitError } from '@foliokit/core';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/** Per-query type parsers, as `pg` takes them (`{ getTypeParser(oid, format) }`). */
export interface PostgresTypesLike {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}

/** A query in `pg`'s config form. */
export interface PostgresQueryConfigLike {
  text: string;
  values?: unknown[];
  /** Prepares the statement once per connection under this name. */
  name?: string;
  types?: PostgresTypesLike;
}

/** A query result as `pg` returns it. */
export interface PostgresResultLike {
  // biome-ignore lint/suspicious/noExplicitAny: rows are whatever the query selects
  rows: any[];
  rowCount: number | null;
  command: string;
}

/** A client checked out of a pool (`pg.PoolClient` fits). */
export interface PostgresClientLike {
  query(config: PostgresQueryConfigLike): Promise<PostgresResultLike>;
  /** Returns the client to its pool; `true` or an error destroys it instead. */
  release(destroy?: boolean | Error): void;
  /** The client's own type parsers (pg >= 8). */
  getTypeParser?(oid: number, format?: string): (value: string) => unknown;
  /** pg clients are event emitters: a connection lost while checked out emits `error`. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** Clients this package has prepared (error listener, `DateStyle`). */
const prepared = new WeakSet<object>();
/** Leases handed out by a {@link StorePool}: their clients are prepared already. */
const leases = new WeakMap<PostgresClientLike, PostgresClientLike>();

/**
 * Output in ISO style, whatever the session had: the type parsers read only that form (the other
 * styles print zone abbreviations, `LMT`, that no parser can turn back into an offset). Only the
 * output style changes; the session's day/month order for input stays as it was.
 */
const ISO_DATESTYLE = { text: 'set datestyle to iso' };

/**
 * Checks out a client, prepared on its first checkout:
 * - an `error` listener: pg emits `error` on a checked-out client whose connection dies (a server
 *   restart, `pg_terminate_backend`); with no listener that is an uncaught exception that ends the
 *   process. The query under way rejects on its own, and the store turns that into `STORE_ERROR`,
 *   so the event itself is only acknowledged here;
 * - `DateStyle` output set to ISO (see {@link parseTimestamptz}), one round trip per connection.
 */
export async function connectClient(pool: PostgresPoolLike): Promise<PostgresClientLike> {
  const client = await pool.connect();
  if (prepared.has(client) || leases.has(client)) return client;
  if (typeof client.on === 'function') client.on('error', () => {});
  try {
    await client.query(ISO_DATESTYLE);
  } catch (error) {
    client.release(true);
    throw error;
  }
  prepared.add(client);
  return client;
}

/**
 * A connection pool (`pg.Pool` fits). For the fastest trades create it with `pipeline: true`
 * (node-postgres releases that have it), which lets the store send a trade in two round trips.
 */
export interface PostgresPoolLike {
  connect(): Promise<PostgresClientLike>;
  end(): Promise<void>;
}

/** OIDs of the types whose parsing the store pins. */
const OID = { date: 1082, timestamp: 1114, timestamptz: 1184, numeric: 1700 } as const;

const identity = (value: string): string => value;

const TIMESTAMPTZ_RE =
  /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|Z)?( BC)?$/;

/**
 * PostgreSQL's ISO text form of a `timestamptz` (`2024-05-01 12:00:00.123+00`, in any session time
 * zone, local mean time offsets with seconds and ` BC` included) as a UTC ISO-8601 string with
 * milliseconds and `Z`. Exact for every instant of years 0001–9999 (a zone behind UTC prints
 * 0001-01-01T00:00Z as a day of 1 BC). Values it cannot read (`infinity`) pass through unchanged.
 */
export function parseTimestamptz(text: string): string {
  const m = TIMESTAMPTZ_RE.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac = '', sign, oh = '0', om = '0', os = '0', bc] = m;
  const ms = Number(`${frac}000`.slice(0, 3));
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * 1000 : 0;
  if (offsetMs === 0 && !bc && (y as string).length === 4) {
    return `${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}Z`;
  }
  // Not Date.UTC: it reads years 0–99 as 1900–1999. Year n BC is the proleptic year 1 − n.
  const local = new Date(0);
  local.setUTCFullYear(bc ? 1 - Number(y) : Number(y), Number(mo) - 1, Number(d));
  local.setUTCHours(Number(h), Number(mi), Number(s), ms);
  return new Date(local.getTime() - offsetMs).toISOString();
}

/**
 * The type parsers the store runs every query with: NUMERIC and DATE stay the server's text
 * (exact decimals, `YYYY-MM-DD`), TIMESTAMPTZ becomes ISO with `Z`, every other type falls back to
 * `fallback` (the client's own parsers). Per query, never global: an app that changed
 * `pg.types` for its own tables keeps its parsers, and the store keeps its exact decimals.
 */
export function storeTypes(fallback?: PostgresTypesLike['getTypeParser']): PostgresTypesLike {
  return {
    getTypeParser(oid, format) {
      if (format === undefined || format === 'text') {
        if (oid === OID.numeric || oid === OID.date || oid === OID.timestamp) return identity;
        if (oid === OID.timestamptz) return parseTimestamptz;
      }
      if (fallback) return fallback(oid, format);
      return identity;
    },
  };
}

const typesByClient = new WeakMap<PostgresClientLike, PostgresTypesLike>();

/** The store's type parsers for one client, falling back to the client's own. */
export function typesFor(lease: PostgresClientLike): PostgresTypesLike {
  const client = leases.get(lease) ?? lease;
  let types = typesByClient.get(client);
  if (!types) {
    types = storeTypes(
      client.getTypeParser ? (oid, format) => client.getTypeParser?.(oid, format) ?? identity : undefined,
    );
    typesByClient.set(client, types);
  }
  return types;
}

/** A pg client seen through Kysely's `PostgresPoolClient`, every query run with the store's parsers. */
class ClientForKysely implements PostgresPoolClient {
  readonly #client: PostgresClientLike;
  constructor(client: PostgresClientLike) {
    this.#client = client;
  }
  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') {
      // A cursor (Kysely's stream()) goes to pg as it is.
      return (this.#client as unknown as { query(c: PostgresCursor<R>): PostgresCursor<R> }).query(sqlOrCursor);
    }
    return this.#client.query({
      text: sqlOrCursor,
      values: parameters ? [...parameters] : [],
      types: typesFor(this.#client),
    }) as unknown as Promise<PostgresQueryResult<R>>;
  }
  release(destroy?: boolean): void {
    this.#client.release(destroy);
  }
}

/**
 * The pool as Kysely sees it: the same clients, queries run with the store's parsers. `end()` does
 * nothing: the store ends a pool it created itself (Kysely skips `end()` when it never connected),
 * and a pool the user passed in is theirs to end.
 */
export class PoolForKysely implements PostgresPool {
  readonly #pool: PostgresPoolLike;
  readonly #wrappers = new WeakMap<PostgresClientLike, ClientForKysely>();
  constructor(pool: PostgresPoolLike) {
    this.#pool = pool;
  }
  async connect(): Promise<PostgresPoolClient> {
    const client = await connectClient(this.#pool);
    let wrapper = this.#wrappers.get(client);
    if (!wrapper) {
      wrapper = new ClientForKysely(client);
      this.#wrappers.set(client, wrapper);
    }
    return wrapper;
  }
  async end(): Promise<void> {}
}

/**
 * Whether a query's error leaves its connection usable: a server error of a statement (any SQLSTATE
 * but connection exceptions `08…` and shutdowns `57P…`, severity neither `FATAL` nor `PANIC`). A
 * reset socket, a client-side timeout or a session the server ended do not.
 */
export function leavesSessionUsable(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  if (typeof code !== 'string' || typeof severity !== 'string') return false;
  if (severity === 'FATAL' || severity === 'PANIC') return false;
  return !code.startsWith('08') && !code.startsWith('57P');
}

/** The error of a call that wanted a connection after the store began to close. */
export function storeClosedError(cause?: unknown): FoliokitError {
  return new FoliokitError('STORE_CLOSED', 'The store is closed', {}, cause === undefined ? undefined : { cause });
}

/**
 * The store's one way into the pool (its native path and Kysely both go through it), so that
 * `close()` can end what is under way: pg's `pool.end()` leaves queued `connect()` calls pending
 * forever, and a pool the app lends is never ended at all. Each checkout is a lease on a prepared
 * client; {@link StorePool.close} refuses new checkouts and fails every queued one with
 * `STORE_CLOSED` at once, then waits for the leased clients to come back (a transaction under way
 * finishes, commits or rolls back; none is cut in half).
 */
export class StorePool implements PostgresPoolLike {
  readonly #pool: PostgresPoolLike;
  #closed = false;
  /** Fails a connect still waiting for the pool. */
  readonly #waiting = new Set<() => void>();
  #leased = 0;
  #drained: (() => void) | undefined;

  constructor(pool: PostgresPoolLike) {
    this.#pool = pool;
  }

  /** True once {@link StorePool.close} has begun. */
  get closed(): boolean {
    return this.#closed;
  }

  connect(): Promise<PostgresClientLike> {
    if (this.#closed) return Promise.reject(storeClosedError());
    return new Promise((resolve, reject) => {
      let waiting = true;
      const fail = () => {
        waiting = false;
        reject(storeClosedError());
      };
      this.#waiting.add(fail);
      connectClient(this.#pool).then(
        (client) => {
          this.#waiting.delete(fail);
          // Closed while waiting: the caller has its STORE_CLOSED; the client goes straight back.
          if (!waiting) {
            client.release();
            return;
          }
          this.#leased++;
          resolve(this.#lease(client));
        },
        (error: unknown) => {
          this.#waiting.delete(fail);
          if (waiting) reject(error);
        },
      );
    });
  }

  /**
   * A client as the store sees it: released once, counted back in; no `on` (the client has its
   * listener). A client whose query failed in a way that ends its session (see
   * {@link leavesSessionUsable}) is destroyed on release, never handed to the next caller.
   */
  #lease(client: PostgresClientLike): PostgresClientLike {
    let out = true;
    let broken = false;
    const onError = (error: unknown): never => {
      if (!leavesSessionUsable(error)) broken = true;
      throw error;
    };
    const lease: PostgresClientLike & { pipeline?: unknown } = {
      query: (config) => {
        const result = client.query(config);
        // A cursor (Kysely's stream()) is no promise: it reports its own errors.
        return typeof result?.then === 'function' ? result.then(undefined, onError) : result;
      },
      release: (destroy) => {
        if (out) {
          out = false;
          this.#returned();
        }
        client.release(broken && !destroy ? true : destroy);
      },
      pipeline: (client as { pipeline?: unknown }).pipeline,
    };
    if (client.getTypeParser) lease.getTypeParser = (oid, format) => client.getTypeParser?.(oid, format) ?? identity;
    leases.set(lease, client);
    return lease;
  }

  #returned(): void {
    this.#leased--;
    if (this.#leased === 0) this.#drained?.();
  }

  /**
   * Closes the way in: new and queued checkouts fail with `STORE_CLOSED`; resolves once every
   * leased client is back. The pool itself stays open (its owner ends it).
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const fail of this.#waiting) fail();
    this.#waiting.clear();
    if (this.#leased > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
  }

  /** Same as {@link StorePool.close}. */
  end(): Promise<void> {
    return this.close();
  }
}
