/**
 * How the native path talks to pg: statements sent in order, all at once on a pipelining client,
 * each with values prepared once per connection under a stable name, with the store's type parsers.
 */
import { createHash } from 'node:crypto';
import {
  connectClient,
  leavesSessionUsable,
  type PostgresClientLike,
  type PostgresPoolLike,
  type PostgresResultLike,
  typesFor,
} from './pool.js';

/** A statement and its values (none: sent unprepared, as `BEGIN` and `COMMIT` are). */
export interface Stmt {
  text: string;
  values?: readonly unknown[];
}

const names = new Map<string, string>();

/** A stable statement name for a text, so each connection prepares it once. */
function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `foliokit_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size > 1000) names.clear();
    names.set(text, name);
  }
  return name;
}

/** What a failed batch left behind: the first error, once every statement has settled. */
export class BatchError extends Error {
  constructor(readonly first: unknown) {
    super('batch failed');
  }
}

/** The pg query config of a statement. */
function configOf(client: PostgresClientLike, s: Stmt) {
  const types = typesFor(client);
  return s.values === undefined
    ? { text: s.text, types }
    : { text: s.text, values: [...s.values], name: nameOf(s.text), types };
}

/**
 * Sends statements in order: all at once on a pipelining client, else one after another (stopping
 * at the first failure). Resolves with every result, or rejects with a {@link BatchError} carrying
 * the first error once every statement has settled (so no rejection is left unhandled).
 */
export async function send(
  client: PostgresClientLike,
  statements: readonly Stmt[],
  pipelined: boolean,
): Promise<PostgresResultLike[]> {
  if (pipelined) {
    const settled = await Promise.allSettled(statements.map((s) => client.query(configOf(client, s))));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw new BatchError((failed as PromiseRejectedResult).reason);
    return settled.map((r) => (r as PromiseFulfilledResult<PostgresResultLike>).value);
  }
  const out: PostgresResultLike[] = [];
  for (const s of statements) {
    try {
      out.push(await client.query(configOf(client, s)));
    } catch (error) {
      throw new BatchError(error);
    }
  }
  return out;
}

/** Runs one prepared statement on a client of the pool and returns its rows. */
export async function queryOnce(pool: PostgresPoolLike, statement: Stmt): Promise<Record<string, unknown>[]> {
  const client = await connectClient(pool);
  let healthy = true;
  try {
    return (await client.query(configOf(client, statement))).rows as Record<string, unknown>[];
  } catch (error) {
    // A server error leaves the connection usable, unless it ended the session (FATAL, 08xxx, 57Pxx).
    healthy = leavesSessionUsable(error);
    throw error;
  } finally {
    client.release(healthy ? undefined : true);
  }
}
