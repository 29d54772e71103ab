/**
 * The optional job capabilities of the Kysely store: `runExclusive` (in-process, plus a PostgreSQL
 * advisory lock across processes) and the job-run records of the `job_runs` table.
 */
import { type Kysely, sql } from 'kysely';
import { wrapError } from '../errors.js';
import type { ExclusiveResult, JobRunQuery, JobRunRow, JobRunStatus, Store } from '../ports/index.js';
import type { SqlDialect } from './migrations.js';
import { isoOut, type Raw } from './rows.js';
import type { FoliokitDatabase } from './schema.js';

type JobMethods = Required<Pick<Store, 'runExclusive' | 'getJobRun' | 'saveJobRun' | 'listJobRuns' | 'deleteJobRuns'>>;

function jobRunFromRow(r: Raw): JobRunRow {
  return {
    job: r.job as string,
    runKey: r.run_key as string,
    status: r.status as JobRunStatus,
    startedAt: isoOut(r.started_at),
    finishedAt: r.finished_at === null || r.finished_at === undefined ? null : isoOut(r.finished_at),
    instance: r.instance as string,
    report: r.report === null || r.report === undefined ? null : (JSON.parse(r.report as string) as unknown),
  };
}

/** Builds the job methods on a Kysely instance; `schema` scopes the advisory-lock names. */
export function kyselyJobs(db: Kysely<FoliokitDatabase>, dialect: SqlDialect, schema: string | undefined): JobMethods {
  /** Keys held in this process (both dialects): a second holder here never reaches the database. */
  const held = new Set<string>();
  /** The advisory-lock name of a key: scoped by schema, so tenants and tests sharing a database never collide. */
  const lockName = (key: string) => `foliokit:${schema ?? ''}:${key}`;

  async function runExclusive<T>(key: string, fn: () => Promise<T>): Promise<ExclusiveResult<T>> {
    if (held.has(key)) return { ran: false };
    held.add(key);
    try {
      if (dialect !== 'postgres') return { ran: true, value: await fn() };
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

  return {
    runExclusive,

    async getJobRun(job, runKey) {
      const r = await db
        .selectFrom('job_runs')
        .selectAll()
        .where('job', '=', job)
        .where('run_key', '=', runKey)
        .executeTakeFirst();
      return r ? jobRunFromRow(r) : null;
    },

    async saveJobRun(row) {
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
    },

    async listJobRuns(job, query: JobRunQuery) {
      let q = db.selectFrom('job_runs').selectAll().where('job', '=', job);
      if (query.fromKey !== undefined) q = q.where('run_key', '>=', query.fromKey);
      if (query.toKey !== undefined) q = q.where('run_key', '<=', query.toKey);
      if (query.status !== undefined) q = q.where('status', '=', query.status);
      const rows = await q
        .orderBy('run_key', query.order ?? 'asc')
        .limit(query.limit)
        .execute();
      return rows.map(jobRunFromRow);
    },

    async deleteJobRuns(query) {
      let q = db.deleteFrom('job_runs').where('started_at', '<', query.startedBefore).where('status', '<>', 'running');
      if (query.job !== undefined) q = q.where('job', '=', query.job);
      const res = await q.executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
