/**
 * Conformance, jobs: the optional store members multi-instance jobs use — job-run records, their
 * pruning, and the exclusive lock. A store without one gets the check skipped, with the reason in
 * its title; the engine's fallbacks cover it (the snapshot checks run either way).
 */
import type { JobRunRow } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import { type ConformanceContext, itWhen, withMembers } from './context.js';

const JOB_RUN_MEMBERS = ['saveJobRun', 'getJobRun', 'listJobRuns'] as const;

const optional = (members: string) => `store has no ${members} (optional capability)`;

const runRow: JobRunRow = {
  job: 'conf-job',
  runKey: '2026-03-01',
  status: 'running',
  startedAt: '2026-03-02T00:00:00.000Z',
  finishedAt: null,
  instance: 'a',
  report: null,
};

/** Registers the job checks. Probes the store's capabilities first (one store opened and closed). */
export function describeJobs(ctx: ConformanceContext): void {
  const { describe, expect } = vitest();
  describe('jobs', async () => {
    const can = await ctx.capabilities();

    describe('job-run records and the exclusive lock', () => {
      const h = ctx.useFixture();

      itWhen(
        can.jobRuns,
        optional(JOB_RUN_MEMBERS.join(', ')),
        'keeps one job-run record per (job, run key)',
        async () => {
          const s = withMembers(h.store, ...JOB_RUN_MEMBERS);
          const row = runRow;
          await s.saveJobRun(row);
          await s.saveJobRun({
            ...row,
            status: 'completed',
            finishedAt: '2026-03-02T00:00:01.000Z',
            report: { n: 1, s: 'x' },
          });
          await s.saveJobRun({ ...row, runKey: '2026-03-02', instance: 'b' });
          expect(await s.getJobRun('conf-job', '2026-03-01')).toEqual({
            ...row,
            status: 'completed',
            finishedAt: '2026-03-02T00:00:01.000Z',
            report: { n: 1, s: 'x' },
          });
          expect(await s.getJobRun('conf-job', 'nope')).toBeNull();
          const done = await s.listJobRuns('conf-job', { status: 'completed', limit: 10 });
          expect(done.map((r) => r.runKey)).toEqual(['2026-03-01']);
          const desc = await s.listJobRuns('conf-job', { limit: 1, order: 'desc' });
          expect(desc.map((r) => r.runKey)).toEqual(['2026-03-02']);
        },
      );

      itWhen(
        can.runExclusive,
        optional('runExclusive'),
        'runs a function exclusively per key, never waiting, and releases on throw',
        async () => {
          const s = withMembers(h.store, 'runExclusive');
          let release: () => void = () => {};
          const gate = new Promise<void>((r) => {
            release = r;
          });
          const first = s.runExclusive('conf:lock', async () => {
            await gate;
            return 42;
          });
          await new Promise((r) => setTimeout(r, 20));
          expect(await s.runExclusive('conf:lock', async () => 1)).toEqual({ ran: false });
          expect(await s.runExclusive('conf:other', async () => 'x')).toEqual({ ran: true, value: 'x' });
          release();
          expect(await first).toEqual({ ran: true, value: 42 });
          const thrown = await s
            .runExclusive('conf:lock', async () => {
              throw new Error('boom');
            })
            .catch((e: unknown) => e);
          expect(thrown).toBeInstanceOf(Error);
          expect(await s.runExclusive('conf:lock', async () => 'again')).toEqual({ ran: true, value: 'again' });
        },
      );
    });

    // A store of its own: pruning without `job` deletes every finished run of the store.
    describe('job-run pruning', () => {
      const h = ctx.useFixture();

      itWhen(
        can.jobRuns && can.pruneJobRuns,
        optional(can.jobRuns ? 'deleteJobRuns' : JOB_RUN_MEMBERS.join(', ')),
        'prunes finished job runs started before an instant, never running ones; job narrows it',
        async () => {
          const s = withMembers(h.store, ...JOB_RUN_MEMBERS, 'deleteJobRuns');
          const row = runRow;
          await s.saveJobRun({ ...row, status: 'completed', finishedAt: '2026-03-02T00:00:01.000Z' });
          await s.saveJobRun({ ...row, runKey: '2026-03-02', instance: 'b' });
          await s.saveJobRun({ ...row, job: 'conf-other', status: 'completed' });
          // Running rows are never pruned; `job` narrows it to one job.
          expect(await s.deleteJobRuns({ startedBefore: '2026-03-03T00:00:00.000Z', job: 'conf-job' })).toBe(1);
          expect(await s.deleteJobRuns({ startedBefore: '2026-03-03T00:00:00.000Z' })).toBe(1);
          expect((await s.listJobRuns('conf-job', { limit: 10 })).map((r) => r.runKey)).toEqual(['2026-03-02']);
        },
      );
    });
  });
}
