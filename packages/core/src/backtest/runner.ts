/**
 * The backtest runner: backtests as persisted runs, replayed in the background by a small pool of
 * worker threads behind a bounded queue (see docs/backtesting.md, "Runs in the background").
 *
 * - `submit` / `compare` validate at once (`VALIDATION_FAILED` naming the field, nothing stored),
 *   store the run as `queued` and answer it; a slot (one of `concurrency`) then runs it. More than
 *   `maxQueued` runs waiting beyond those running, or an owner who already holds
 *   `maxQueuedPerOwner` runs queued or running: `QUEUE_FULL`, nothing stored.
 * - The bars are loaded on the main thread (the provider is an object with I/O), then replayed by
 *   `runBacktest` in a worker thread over an in-memory provider of those bars; progress comes back
 *   at most about a hundred times a run. A request whose strategy the worker does not know (one the
 *   host registered at run time on the main thread only) is replayed on the main thread instead
 *   (`execution.mode: 'inline'`; `runBacktest` yields to the event loop between slices).
 * - Every state change is stored with the store's compare-and-set (`updateBacktestRun`): `queued`
 *   → `running` → `succeeded` / `failed` / `cancelled`, progress every 10 %. A cancel is never
 *   overwritten by a late success; a run cancelled through another instance is noticed at its next
 *   progress write and stopped.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { threadId as mainThreadId, Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import { z } from 'zod';
import { FoliokitError, isFoliokitError, wrapError } from '../errors.js';
import type { FoliokitEvent } from '../events.js';
import { newId } from '../ids.js';
import type { BacktestRunRow, BacktestRunStatus, DailyBar, Logger, MarketDataProvider, Store } from '../ports/index.js';
import { BACKTEST_RUN_STATUSES } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import { type Clock, parseDay, toIso } from '../time.js';
import { validate } from '../validation.js';
import { type BacktestResult, checkBacktestOptions } from './run.js';
import type { WorkerOutbound } from './runner-protocol.js';
import { type ReplayJob, replayJob, runErrorOf, variantLabels, variantRequest } from './runner-replay.js';
import type { BacktestCompareRequest, BacktestComparison, BacktestRequest, BacktestRunError } from './runner-types.js';
import { backtestRunStore } from './runs-store.js';

export type { BacktestCompareRequest, BacktestComparison, BacktestRequest, BacktestRunError } from './runner-types.js';

/** Where a run was replayed, as the runner that executed it knows (kept in that runner's memory). */
export interface BacktestExecution {
  /** `'worker'`: in a worker thread; `'inline'`: on the main thread. */
  mode: 'worker' | 'inline';
  /** The thread that replayed it (`worker_threads.threadId`; 0 is the main thread). */
  threadId: number;
  /** Why it ran inline: `'worker-disabled'` (or no worker file found), `'strategy-not-in-worker'`. */
  reason?: 'worker-disabled' | 'strategy-not-in-worker';
}

/** A backtest run. */
export interface BacktestRun {
  id: string;
  ownerId: string | null;
  kind: 'single' | 'compare';
  status: BacktestRunStatus;
  /** The request as submitted (its JSON form). */
  request: BacktestRequest | BacktestCompareRequest;
  /** Bars replayed so far of all bars (compared variants count together); 0 of 0 until the bars are loaded. */
  progress: { done: number; total: number };
  /** The result once `succeeded`, else null. */
  result: BacktestResult | BacktestComparison | null;
  /** Why it failed or was cancelled, else null. */
  error: BacktestRunError | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * Where it was replayed, when this runner started it (null when it has not started, or it was run
   * by another runner or before a restart: this is not stored).
   */
  execution: BacktestExecution | null;
}

/** The runner's load. */
export interface BacktestRunnerStats {
  /** Runs replaying (a cancelled run counts until its worker has stopped). */
  running: number;
  /** Runs waiting for a slot. */
  queued: number;
  concurrency: number;
  maxQueued: number;
  /** Runs one owner may hold queued or running at once. */
  maxQueuedPerOwner: number;
  /** `'worker'`: replays in worker threads; `'inline'`: on the main thread. */
  mode: 'worker' | 'inline';
}

/** Query of {@link BacktestRunner.list}. */
export interface BacktestRunListQuery {
  /** Only this owner's runs (null: runs without an owner). All owners when omitted. */
  ownerId?: string | null;
  /** 1 to 100. @default 20 */
  limit?: number;
  /** The previous page's `nextCursor`. */
  cursor?: string | null;
  /** Only runs in these statuses. */
  status?: BacktestRunStatus[];
}

/** The backtest runner (see {@link createBacktestRunner}). */
export interface BacktestRunner {
  /**
   * Validates at once (`VALIDATION_FAILED` naming the field, nothing stored), stores the run as
   * `queued`, answers it; runs it when a slot frees.
   * @throws FoliokitError `VALIDATION_FAILED`; `QUEUE_FULL` when `maxQueued` runs already wait
   *   (`details.scope: 'runner'`) or the owner already holds `maxQueuedPerOwner` runs queued or
   *   running (`details.scope: 'owner'`), nothing stored; `ENGINE_CLOSED` after
   *   {@link BacktestRunner.close}.
   */
  submit(request: BacktestRequest, options?: { ownerId?: string | null }): Promise<BacktestRun>;
  /**
   * Like {@link BacktestRunner.submit}, for 2 to 10 variants replayed on the same bars (a variant's
   * invalid field is named `variants.<i>.params.<name>`).
   */
  compare(request: BacktestCompareRequest, options?: { ownerId?: string | null }): Promise<BacktestRun>;
  /**
   * A run (of any owner: the caller checks ownership).
   * @throws FoliokitError `NOT_FOUND` (field `id`) when there is no such run.
   */
  get(id: string): Promise<BacktestRun>;
  /** Runs, newest first, a page at a time (`nextCursor` null at the end). */
  list(query?: BacktestRunListQuery): Promise<{ items: BacktestRun[]; nextCursor: string | null }>;
  /**
   * A `queued` or `running` run becomes `cancelled` (error `CONFLICT` with `details.aborted`); a
   * final one is answered as it is. A run of another runner on the same store is cancelled in the
   * store; that runner stops it at its next progress write.
   * @throws FoliokitError `NOT_FOUND` (field `id`).
   */
  cancel(id: string): Promise<BacktestRun>;
  /**
   * Resolves with the run once it is final (a run of another runner is polled every 250 ms).
   * @throws FoliokitError `NOT_FOUND`; the signal's reason (or `CONFLICT` with `details.aborted`)
   *   when `signal` aborts; `ENGINE_CLOSED` when the runner closes while polling.
   */
  wait(id: string, options?: { signal?: AbortSignal }): Promise<BacktestRun>;
  /**
   * Marks the runs left `queued` or `running` by a process that stopped (a crash, a restart) as
   * `failed` with `ENGINE_CLOSED` (`details.interrupted`), and answers them. Never touches this
   * runner's own runs. Other runners' live runs look the same in the store: call it at start when
   * no other process runs backtests on this store, or pass `createdBefore` (an instant before which
   * every live runner had already restarted).
   */
  recoverInterrupted(options?: { createdBefore?: string }): Promise<BacktestRun[]>;
  /** The runner's load. */
  stats(): BacktestRunnerStats;
  /**
   * Cancels what runs and waits (status `cancelled`, error `ENGINE_CLOSED`), terminates the workers.
   * Idempotent. After it, `submit` and `compare` throw `ENGINE_CLOSED`. Close the runner before its
   * store.
   */
  close(): Promise<void>;
}

/** Options of {@link createBacktestRunner}. */
export interface BacktestRunnerOptions {
  /** Runs at once (1 to 64). @default 1 */
  concurrency?: number;
  /** Runs waiting beyond those running (0 to 10,000); more → `QUEUE_FULL`. @default 16 */
  maxQueued?: number;
  /**
   * Runs one owner (a non-null `ownerId`) may hold queued or running at once (1 to 10,000); one
   * more → `QUEUE_FULL` with `details.scope: 'owner'`, so that one user cannot fill the queue.
   * Runs without an owner (the host's own) are bounded by `maxQueued` only.
   * @default half of what the runner holds, `max(1, floor((concurrency + maxQueued) / 2))` (8 with
   *   the defaults)
   */
  maxQueuedPerOwner?: number;
  /** Run replays in worker threads (true) or on the main thread (false). @default true */
  worker?: boolean;
  /**
   * Module specifiers (file URLs, or package names resolvable from `@foliokit/core`) each worker
   * imports before its first run: they call `registerStrategy` for users' own strategies. Import
   * them on the main thread too (requests are validated there). A module that throws fails the run
   * with `INVALID_CONFIGURATION`. @default []
   */
  workerModules?: string[];
  /** Where bars come from. @default host.marketData */
  marketData?: MarketDataProvider;
  /**
   * How long a cancelled run's worker may take to stop before it is terminated (and replaced), in ms
   * of real time. @default 2_000
   */
  cancelGraceMs?: number;
}

/** What the runner needs of its host: a `PortfolioEngine` is one. */
export interface BacktestRunnerHost {
  store: Store;
  marketData: MarketDataProvider;
  clock: Clock;
  logger: Logger;
  emit(event: FoliokitEvent): void;
}

type RunStore = Required<Pick<Store, 'saveBacktestRun' | 'getBacktestRun' | 'listBacktestRuns' | 'updateBacktestRun'>>;

const FINAL: ReadonlySet<BacktestRunStatus> = new Set(['succeeded', 'failed', 'cancelled']);
const LIVE: readonly BacktestRunStatus[] = ['queued', 'running'];
/** Executions remembered for `get` and `list` after a run ends. */
const EXECUTIONS_KEPT = 1_000;
const POLL_MS = 250;

const optionsSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(64).default(1),
  maxQueued: z.number().int().min(0).max(10_000).default(16),
  maxQueuedPerOwner: z.number().int().min(1).max(10_000).optional(),
  worker: z.boolean().default(true),
  workerModules: z.array(z.string().min(1).max(2_000)).max(100).default([]),
  marketData: z
    .custom<MarketDataProvider>(
      (v) => typeof (v as MarketDataProvider | null)?.getDailyHistory === 'function',
      'must be a market data provider with getDailyHistory',
    )
    .optional(),
  cancelGraceMs: z.number().int().min(0).max(600_000).default(2_000),
});

const ownerSchema = z.strictObject({ ownerId: z.string().min(1).max(100).nullable().optional() });
const idSchema = z.string().min(1).max(100);
const listSchema = z.strictObject({
  ownerId: z.string().min(1).max(100).nullable().optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).nullable().optional(),
  status: z.array(z.enum(BACKTEST_RUN_STATUSES)).max(5).optional(),
});
const variantSchema = z.strictObject({
  label: z.string().min(1).max(64).optional(),
  strategy: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()).optional(),
});
const variantsSchema = z.array(variantSchema).min(2).max(10);

/** The fields the runner itself provides: a request never carries them. */
const RUNNER_FIELDS = ['marketData', 'onProgress', 'signal'] as const;

/** A provider that is never called: lets `checkBacktestOptions` validate a request without bars. */
const NO_BARS: MarketDataProvider = {
  name: 'none',
  getQuotes: () => Promise.reject(new Error('not used')),
  getDailyHistory: () => Promise.reject(new Error('not used')),
};

function fail(field: string, message: string): FoliokitError {
  return new FoliokitError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}

/** A failure that already has its stored form (a worker's error, a dead worker). */
class RunFailure extends Error {
  constructor(readonly runError: BacktestRunError) {
    super(runError.message);
  }
}

/** The JSON form of a request object (what is stored and replayed), checked to be a plain object. */
function jsonRequest(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw fail('request', 'must be an object');
  }
  for (const key of RUNNER_FIELDS) {
    if ((input as Record<string, unknown>)[key] !== undefined) throw fail(key, 'is provided by the runner');
  }
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(input));
  } catch {
    throw fail('request', 'must be JSON (no cycles, no BigInt)');
  }
  return copy as Record<string, unknown>;
}

function checkSingle(input: unknown): BacktestRequest {
  const request = jsonRequest(input);
  if (typeof request.strategy !== 'string') throw fail('strategy', 'must be the name of a registered strategy');
  checkBacktestOptions({ ...(request as BacktestRequest), marketData: NO_BARS });
  return request as BacktestRequest;
}

function checkCompare(input: unknown): BacktestCompareRequest {
  const request = jsonRequest(input);
  for (const key of ['strategy', 'params']) {
    if (request[key] !== undefined) throw fail(key, 'goes in each variant');
  }
  const variants = validate(variantsSchema, request.variants, 'variants');
  const typed = { ...request, variants } as BacktestCompareRequest;
  const labels = variantLabels(variants);
  const seen = new Set<string>();
  labels.forEach((label, i) => {
    if (seen.has(label)) throw fail(`variants.${i}.label`, `"${label}" is used by an earlier variant`);
    seen.add(label);
  });
  variants.forEach((variant, i) => {
    try {
      checkBacktestOptions({ ...variantRequest(typed, variant), marketData: NO_BARS });
    } catch (error) {
      const field = isFoliokitError(error) ? error.details.field : undefined;
      if (
        isFoliokitError(error) &&
        error.code === 'VALIDATION_FAILED' &&
        typeof field === 'string' &&
        /^(strategy|params)(\.|$)/.test(field)
      ) {
        throw new FoliokitError('VALIDATION_FAILED', `variants.${i}.${error.message}`, {
          ...error.details,
          field: `variants.${i}.${field}`,
        });
      }
      throw error;
    }
  });
  return typed;
}

const encodeCursor = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (id.length === 0 || encodeCursor(id) !== cursor) throw fail('cursor', 'is not a cursor of this list');
  return id;
}

/** How to start a worker thread: a file, or (from TypeScript source) a bootstrap that registers tsx first. */
interface WorkerSpec {
  filename: string | URL;
  options: { eval?: boolean; execArgv?: string[] };
}

/** Where the worker file is, next to this module (source, or an unbundled build) or in the bundle's `backtest/`. */
function locateWorker(): WorkerSpec | null {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from TypeScript source (tests, tsx): the worker registers tsx's loader, then imports
    // worker.ts, with the workspace's `source` export condition.
    try {
      const tsxDir = dirname(createRequire(here).resolve('tsx/package.json'));
      const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
      const worker = new URL('./worker.ts', here).href;
      return {
        filename: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`,
        options: { eval: true, execArgv: ['--conditions=source'] },
      };
    } catch {
      return null;
    }
  }
  for (const relative of ['./worker.js', './backtest/worker.js']) {
    const url = new URL(relative, here);
    if (existsSync(fileURLToPath(url))) return { filename: url, options: {} };
  }
  return null;
}

/** A run this runner holds (queued or running here). */
interface Job {
  id: string;
  ownerId: string | null;
  kind: 'single' | 'compare';
  request: BacktestRequest | BacktestCompareRequest;
  controller: AbortController;
  /** Replaying (holds a slot until the replay has stopped, even once cancelled). */
  running: boolean;
  /** Final (its waiters answered). */
  settled: boolean;
  progress: { done: number; total: number };
  /** Tenths of progress stored so far. */
  storedTenths: number;
  /** The run's progress writes, in order. */
  writes: Promise<void>;
  waiters: Array<(run: BacktestRun) => void>;
  execution: BacktestExecution | null;
}

/** A worker thread of the pool. */
interface Slot {
  worker: Worker;
  ready: Promise<ReadonlySet<string>>;
  onReady: (strategies: ReadonlySet<string>) => void;
  onInitFailure: (error: unknown) => void;
  threadId: number;
  busy: {
    id: string;
    onProgress: (done: number, total: number) => void;
    resolve: (result: BacktestResult | BacktestComparison) => void;
    reject: (error: unknown) => void;
  } | null;
  /** Taken by a run (from the moment it is picked, before the worker is ready). */
  claimed: boolean;
  dead: boolean;
  lastError: unknown;
}

class Runner implements BacktestRunner {
  readonly #host: BacktestRunnerHost;
  readonly #store: RunStore;
  readonly #marketData: MarketDataProvider;
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #maxPerOwner: number;
  readonly #modules: string[];
  readonly #graceMs: number;
  readonly #workerSpec: WorkerSpec | null;
  readonly #queue: PQueue;
  readonly #jobs = new Map<string, Job>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #executions = new Map<string, BacktestExecution>();
  readonly #pollers = new Set<(error: FoliokitError) => void>();
  #slots: Slot[] = [];
  #closing: Promise<void> | null = null;

  constructor(host: BacktestRunnerHost, options: z.output<typeof optionsSchema>) {
    this.#host = host;
    this.#store = backtestRunStore(host.store);
    this.#marketData = options.marketData ?? host.marketData;
    this.#concurrency = options.concurrency;
    this.#maxQueued = options.maxQueued;
    this.#maxPerOwner =
      options.maxQueuedPerOwner ?? Math.max(1, Math.floor((options.concurrency + options.maxQueued) / 2));
    this.#modules = options.workerModules;
    this.#graceMs = options.cancelGraceMs;
    this.#workerSpec = options.worker ? locateWorker() : null;
    if (options.worker && !this.#workerSpec) {
      host.logger.warn('The backtest worker file was not found: backtests run on the main thread', {
        module: import.meta.url,
      });
    }
    this.#queue = new PQueue({ concurrency: options.concurrency });
  }

  // ----- public ------------------------------------------------------------------------

  async submit(request: BacktestRequest, options: { ownerId?: string | null } = {}): Promise<BacktestRun> {
    this.#open();
    const ownerId = validate(ownerSchema, options, 'options').ownerId ?? null;
    return this.#enqueue('single', checkSingle(request), ownerId);
  }

  async compare(request: BacktestCompareRequest, options: { ownerId?: string | null } = {}): Promise<BacktestRun> {
    this.#open();
    const ownerId = validate(ownerSchema, options, 'options').ownerId ?? null;
    return this.#enqueue('compare', checkCompare(request), ownerId);
  }

  async get(id: string): Promise<BacktestRun> {
    return this.#toRun(await this.#row(id));
  }

  async list(query: BacktestRunListQuery = {}): Promise<{ items: BacktestRun[]; nextCursor: string | null }> {
    const q = validate(listSchema, query, 'query');
    const beforeId = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.#store.listBacktestRuns({
      ...(q.ownerId === undefined ? {} : { ownerId: q.ownerId }),
      ...(beforeId === undefined ? {} : { beforeId }),
      ...(q.status ? { statuses: q.status } : {}),
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit).map((row) => this.#toRun(row));
    return { items, nextCursor: rows.length > q.limit ? encodeCursor((items.at(-1) as BacktestRun).id) : null };
  }

  async cancel(id: string): Promise<BacktestRun> {
    const row = await this.#row(id);
    if (FINAL.has(row.status)) return this.#toRun(row);
    return this.#finish(row.id, LIVE, 'cancelled', {
      code: 'CONFLICT',
      message: 'The backtest was cancelled',
      details: { aborted: true },
    });
  }

  async wait(id: string, options: { signal?: AbortSignal } = {}): Promise<BacktestRun> {
    const signal = options.signal;
    const aborted = () =>
      isFoliokitError(signal?.reason)
        ? signal.reason
        : new FoliokitError('CONFLICT', 'Stopped waiting for the backtest', { aborted: true, id });
    if (signal?.aborted) throw aborted();
    const job = this.#jobs.get(id);
    if (job && !job.settled) {
      return new Promise<BacktestRun>((resolve, reject) => {
        const onAbort = () => reject(aborted());
        signal?.addEventListener('abort', onAbort, { once: true });
        job.waiters.push((run) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(run);
        });
      });
    }
    let row = await this.#row(id);
    while (!FINAL.has(row.status)) {
      await new Promise<void>((resolve, reject) => {
        if (this.#closing) {
          reject(new FoliokitError('ENGINE_CLOSED', 'The backtest runner is closed'));
          return;
        }
        const stop = (error: FoliokitError) => finish(() => reject(error));
        const onAbort = () => finish(() => reject(aborted()));
        const timer = setTimeout(() => finish(resolve), POLL_MS);
        const finish = (then: () => void) => {
          clearTimeout(timer);
          this.#pollers.delete(stop);
          signal?.removeEventListener('abort', onAbort);
          then();
        };
        this.#pollers.add(stop);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      const local = this.#jobs.get(id);
      if (local && !local.settled) return this.wait(id, options);
      row = await this.#row(id);
    }
    return this.#toRun(row);
  }

  async recoverInterrupted(options: { createdBefore?: string } = {}): Promise<BacktestRun[]> {
    const { createdBefore } = validate(
      z.strictObject({ createdBefore: z.iso.datetime().optional() }),
      options,
      'options',
    );
    const out: BacktestRun[] = [];
    let beforeId: string | undefined;
    for (;;) {
      const rows = await this.#store.listBacktestRuns({
        statuses: LIVE,
        limit: 100,
        ...(beforeId === undefined ? {} : { beforeId }),
      });
      for (const row of rows) {
        if (this.#jobs.has(row.id)) continue;
        if (createdBefore !== undefined && Date.parse(row.createdAt) >= Date.parse(createdBefore)) continue;
        const run = await this.#finish(row.id, [row.status], 'failed', {
          code: 'ENGINE_CLOSED',
          message: 'Interrupted: the process running this backtest stopped',
          details: { interrupted: true },
        });
        if (run.status === 'failed' && run.error?.code === 'ENGINE_CLOSED') out.push(run);
      }
      if (rows.length < 100) return out;
      beforeId = (rows.at(-1) as BacktestRunRow).id;
    }
  }

  stats(): BacktestRunnerStats {
    let running = 0;
    let queued = 0;
    for (const job of this.#jobs.values()) {
      if (job.running) running++;
      else if (!job.settled) queued++;
    }
    return {
      running,
      queued,
      concurrency: this.#concurrency,
      maxQueued: this.#maxQueued,
      maxQueuedPerOwner: this.#maxPerOwner,
      mode: this.#workerSpec ? 'worker' : 'inline',
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  // ----- submission and execution --------------------------------------------------------

  #open(): void {
    if (this.#closing) throw new FoliokitError('ENGINE_CLOSED', 'The backtest runner is closed');
  }

  async #enqueue(
    kind: 'single' | 'compare',
    request: BacktestRequest | BacktestCompareRequest,
    ownerId: string | null,
  ): Promise<BacktestRun> {
    // Held: every run not final, and every run still replaying (a cancelled one until it stops).
    let held = 0;
    let heldByOwner = 0;
    for (const job of this.#jobs.values()) {
      if (job.settled && !job.running) continue;
      held++;
      if (ownerId !== null && job.ownerId === ownerId) heldByOwner++;
    }
    if (held >= this.#concurrency + this.#maxQueued) {
      throw new FoliokitError(
        'QUEUE_FULL',
        `The backtest queue is full (${this.#maxQueued} waiting, ${this.#concurrency} running): try again later`,
        { scope: 'runner', maxQueued: this.#maxQueued, concurrency: this.#concurrency },
      );
    }
    if (ownerId !== null && heldByOwner >= this.#maxPerOwner) {
      throw new FoliokitError(
        'QUEUE_FULL',
        `You already have ${heldByOwner} backtests queued or running (at most ${this.#maxPerOwner}): try again once one has finished`,
        { scope: 'owner', maxQueuedPerOwner: this.#maxPerOwner, held: heldByOwner },
      );
    }
    const nowMs = this.#host.clock.now();
    const row: BacktestRunRow = {
      id: newId('bt', nowMs),
      ownerId,
      kind,
      status: 'queued',
      request,
      progressDone: 0,
      progressTotal: 0,
      result: null,
      error: null,
      createdAt: toIso(nowMs),
      startedAt: null,
      finishedAt: null,
    };
    const job: Job = {
      id: row.id,
      ownerId,
      kind,
      request,
      controller: new AbortController(),
      running: false,
      settled: false,
      progress: { done: 0, total: 0 },
      storedTenths: 0,
      writes: Promise.resolve(),
      waiters: [],
      execution: null,
    };
    this.#jobs.set(job.id, job); // reserved before the write: concurrent submits count it
    try {
      await this.#store.saveBacktestRun(row);
    } catch (error) {
      this.#jobs.delete(job.id);
      throw wrapError(error, 'STORE_ERROR', 'Could not store the backtest run');
    }
    const task = this.#queue
      .add(() => this.#execute(job))
      .catch((error: unknown) => {
        this.#host.logger.error('A backtest run failed unexpectedly', { runId: job.id, error: String(error) });
      });
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
    return this.#toRun(row);
  }

  async #execute(job: Job): Promise<void> {
    if (job.settled || this.#closing) {
      this.#jobs.delete(job.id);
      return;
    }
    try {
      const started = await this.#store.updateBacktestRun(job.id, ['queued'], {
        status: 'running',
        startedAt: toIso(this.#host.clock.now()),
      });
      if (!started) {
        this.#settle(job, this.#toRun(await this.#row(job.id)));
        return;
      }
      job.running = true;
      let outcome: { result: BacktestResult | BacktestComparison } | { error: BacktestRunError };
      try {
        const bars = await this.#loadBars(job);
        outcome = { result: await this.#replay(job, bars) };
      } catch (error) {
        outcome = { error: error instanceof RunFailure ? error.runError : runErrorOf(error) };
      }
      await job.writes;
      if (job.controller.signal.aborted) {
        // Cancelled, closed, or changed through another runner: whoever did it wrote the final state.
        this.#settle(job, this.#toRun(await this.#row(job.id)));
      } else if ('result' in outcome) {
        await this.#finish(job.id, ['running'], 'succeeded', outcome.result);
      } else {
        await this.#finish(job.id, ['running'], 'failed', outcome.error);
      }
    } catch (error) {
      // The store failed: answer the waiters with what is known.
      this.#host.logger.error('Could not store a backtest run', { runId: job.id, error: String(error) });
      this.#settle(job, {
        ...this.#jobRun(job),
        status: 'failed',
        error: runErrorOf(wrapError(error, 'STORE_ERROR', 'Could not store the backtest run')),
      });
    } finally {
      job.running = false;
      this.#jobs.delete(job.id);
    }
  }

  /** Loads every symbol's bars (and the benchmark's) on this thread, as `runBacktest` would. */
  async #loadBars(job: Job): Promise<Record<string, DailyBar[]>> {
    const r = job.request as { symbols: string[]; from: string; to: string; benchmark?: unknown };
    const range = { from: parseDay(r.from, 'from'), to: parseDay(r.to, 'to') };
    const symbols = r.symbols.map((s, i) => normalizeSymbol(s, `symbols.${i}`));
    if (typeof r.benchmark === 'string') symbols.push(normalizeSymbol(r.benchmark, 'benchmark'));
    const bars: Record<string, DailyBar[]> = {};
    const signal = job.controller.signal;
    for (const symbol of symbols) {
      if (symbol in bars) continue;
      signal.throwIfAborted();
      try {
        bars[symbol] = await this.#marketData.getDailyHistory(symbol, range, { signal });
      } catch (error) {
        throw wrapError(error, 'PROVIDER_ERROR', `Could not load the history of ${symbol}`, { symbol });
      }
    }
    return bars;
  }

  /** Replays in a worker when the worker knows every strategy of the request, else on this thread. */
  async #replay(job: Job, bars: Record<string, DailyBar[]>): Promise<BacktestResult | BacktestComparison> {
    const replay: ReplayJob = {
      kind: job.kind,
      request: job.request,
      bars,
      source: this.#marketData.name ?? 'marketData',
    };
    const onProgress = (done: number, total: number) => this.#progress(job, done, total);
    let reason: BacktestExecution['reason'] = 'worker-disabled';
    if (this.#workerSpec) {
      const slot = this.#slot();
      try {
        const known = await slot.ready;
        const names =
          job.kind === 'single'
            ? [(job.request as BacktestRequest).strategy]
            : (job.request as BacktestCompareRequest).variants.map((v) => v.strategy);
        if (names.every((n) => known.has(n))) {
          this.#setExecution(job, { mode: 'worker', threadId: slot.threadId });
          return await this.#inWorker(slot, job, replay, onProgress);
        }
      } finally {
        slot.claimed = false;
      }
      reason = 'strategy-not-in-worker';
    }
    this.#setExecution(job, { mode: 'inline', threadId: mainThreadId, reason });
    return replayJob(replay, onProgress, job.controller.signal);
  }

  #setExecution(job: Job, execution: BacktestExecution): void {
    job.execution = execution;
    this.#executions.set(job.id, execution);
    if (this.#executions.size > EXECUTIONS_KEPT) {
      const oldest = this.#executions.keys().next().value;
      if (oldest !== undefined) this.#executions.delete(oldest);
    }
  }

  /** Progress of a run: an event each time, a store write each tenth (compare-and-set on `running`). */
  #progress(job: Job, done: number, total: number): void {
    if (job.settled) return; // cancelled: the worker may still report before it stops
    job.progress = { done, total };
    this.#host.emit({ type: 'backtest.progress', runId: job.id, ownerId: job.ownerId, done, total });
    const tenths = total === 0 ? 10 : Math.floor((done * 10) / total);
    if (tenths <= job.storedTenths || done >= total) return; // the final write stores the end
    job.storedTenths = tenths;
    job.writes = job.writes
      .then(async () => {
        const ok = await this.#store.updateBacktestRun(job.id, ['running'], {
          progressDone: done,
          progressTotal: total,
        });
        // Cancelled (or marked interrupted) through another runner: stop replaying it.
        if (!ok && !job.controller.signal.aborted) job.controller.abort();
      })
      .catch((error: unknown) => {
        this.#host.logger.warn('Could not store a backtest run progress', { runId: job.id, error: String(error) });
      });
  }

  /**
   * Makes a run final with a compare-and-set from `from`; emits `backtest.completed` and answers the
   * waiters when this call made it final. Answers the run as stored either way.
   */
  async #finish(
    id: string,
    from: readonly BacktestRunStatus[],
    status: 'succeeded' | 'failed' | 'cancelled',
    value: BacktestResult | BacktestComparison | BacktestRunError,
  ): Promise<BacktestRun> {
    const job = this.#jobs.get(id);
    const finishedAt = toIso(this.#host.clock.now());
    const patch: Parameters<RunStore['updateBacktestRun']>[2] =
      status === 'succeeded' ? { status, result: value, finishedAt } : { status, error: value, finishedAt };
    if (status === 'succeeded' && job) {
      patch.progressDone = job.progress.done;
      patch.progressTotal = job.progress.total;
    }
    const changed = await this.#store.updateBacktestRun(id, from, patch);
    const run = this.#toRun(await this.#row(id));
    if (changed) {
      const error = status === 'succeeded' ? undefined : (value as BacktestRunError);
      this.#host.emit({
        type: 'backtest.completed',
        runId: id,
        ownerId: run.ownerId,
        status,
        ...(error ? { error } : {}),
      });
    }
    if (job && FINAL.has(run.status)) {
      this.#settle(job, run);
      job.controller.abort();
    }
    return run;
  }

  #settle(job: Job, run: BacktestRun): void {
    if (job.settled) return;
    job.settled = true;
    for (const waiter of job.waiters.splice(0)) waiter(run);
  }

  // ----- worker pool ---------------------------------------------------------------------

  /** A free worker of the pool (one is always free: the queue runs at most `concurrency` replays). */
  #slot(): Slot {
    this.#slots = this.#slots.filter((s) => !s.dead);
    const free = this.#slots.find((s) => !s.claimed);
    if (free) {
      free.claimed = true;
      return free;
    }
    const spec = this.#workerSpec as WorkerSpec;
    const worker = new Worker(spec.filename, { ...spec.options, workerData: { modules: this.#modules } });
    let onReady!: Slot['onReady'];
    let onInitFailure!: Slot['onInitFailure'];
    const ready = new Promise<ReadonlySet<string>>((resolve, reject) => {
      onReady = resolve;
      onInitFailure = reject;
    });
    ready.catch(() => {}); // observed by the run that waits for it
    const slot: Slot = {
      worker,
      ready,
      onReady,
      onInitFailure,
      threadId: worker.threadId,
      busy: null,
      claimed: true,
      dead: false,
      lastError: null,
    };
    worker.on('message', (message: WorkerOutbound) => this.#onMessage(slot, message));
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (exitCode) => this.#onExit(slot, exitCode));
    this.#slots.push(slot);
    return slot;
  }

  #onMessage(slot: Slot, message: WorkerOutbound): void {
    switch (message.type) {
      case 'ready':
        slot.onReady(new Set(message.strategies));
        if (!slot.busy) slot.worker.unref();
        return;
      case 'init-error':
        slot.onInitFailure(
          new RunFailure({
            code: 'INVALID_CONFIGURATION',
            message: `The worker module ${message.module} failed to load: ${message.error.message}`,
            details: { module: message.module },
          }),
        );
        slot.dead = true;
        void slot.worker.terminate();
        return;
      case 'progress':
        if (slot.busy?.id === message.id) slot.busy.onProgress(message.done, message.total);
        return;
      case 'done':
        if (slot.busy?.id === message.id) slot.busy.resolve(message.result);
        return;
      case 'error':
        if (slot.busy?.id === message.id) slot.busy.reject(new RunFailure(message.error));
        return;
    }
  }

  #onExit(slot: Slot, exitCode: number): void {
    slot.dead = true;
    this.#slots = this.#slots.filter((s) => s !== slot);
    const why = slot.lastError instanceof Error ? `: ${slot.lastError.message}` : '';
    const failure = new RunFailure({
      code: 'WORKER_EXITED',
      message: `The backtest worker thread exited (code ${exitCode})${why}`,
      details: { exitCode },
    });
    slot.onInitFailure(failure);
    slot.busy?.reject(failure);
  }

  /** Replays a job in a worker; a cancel asks the worker to stop, then terminates it after the grace period. */
  #inWorker(
    slot: Slot,
    job: Job,
    replay: ReplayJob,
    onProgress: (done: number, total: number) => void,
  ): Promise<BacktestResult | BacktestComparison> {
    const signal = job.controller.signal;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        slot.worker.postMessage({ type: 'cancel', id: job.id });
        timer = setTimeout(() => {
          this.#host.logger.warn('A cancelled backtest did not stop in time: its worker is replaced', {
            runId: job.id,
          });
          slot.dead = true;
          void slot.worker.terminate();
        }, this.#graceMs);
      };
      const done = () => {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        slot.busy = null;
        if (!slot.dead) slot.worker.unref();
      };
      slot.busy = {
        id: job.id,
        onProgress,
        resolve: (result) => {
          done();
          resolve(result);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      slot.worker.ref();
      slot.worker.postMessage({ type: 'run', id: job.id, job: replay });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ----- reading ---------------------------------------------------------------------------

  async #row(id: string): Promise<BacktestRunRow> {
    const valid = validate(idSchema, id, 'id');
    const row = await this.#store.getBacktestRun(valid);
    if (!row)
      throw new FoliokitError('NOT_FOUND', `No backtest run ${JSON.stringify(valid)}`, { field: 'id', id: valid });
    return row;
  }

  /** A stored run, with this runner's live progress and execution when it holds the run. */
  #toRun(row: BacktestRunRow): BacktestRun {
    const job = this.#jobs.get(row.id);
    const live = job && row.status === 'running' && job.progress.done > row.progressDone;
    return {
      id: row.id,
      ownerId: row.ownerId,
      kind: row.kind,
      status: row.status,
      request: row.request as BacktestRequest | BacktestCompareRequest,
      progress: live ? { ...job.progress } : { done: row.progressDone, total: row.progressTotal },
      result: (row.result ?? null) as BacktestResult | BacktestComparison | null,
      error: (row.error ?? null) as BacktestRunError | null,
      createdAt: row.createdAt,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
      execution: job?.execution ?? this.#executions.get(row.id) ?? null,
    };
  }

  /** A run from what this runner knows of a job (when the store cannot answer). */
  #jobRun(job: Job): BacktestRun {
    return {
      id: job.id,
      ownerId: job.ownerId,
      kind: job.kind,
      status: 'failed',
      request: job.request,
      progress: { ...job.progress },
      result: null,
      error: null,
      createdAt: '',
      startedAt: null,
      finishedAt: toIso(this.#host.clock.now()),
      execution: job.execution,
    };
  }

  async #close(): Promise<void> {
    const closed: BacktestRunError = { code: 'ENGINE_CLOSED', message: 'The backtest runner was closed' };
    for (const job of [...this.#jobs.values()]) {
      if (job.settled) continue;
      try {
        await this.#finish(job.id, LIVE, 'cancelled', closed);
      } catch (error) {
        this.#settle(job, { ...this.#jobRun(job), status: 'cancelled', error: closed });
        this.#host.logger.warn('Could not store a closed backtest run', { runId: job.id, error: String(error) });
      }
      job.controller.abort();
    }
    for (const stop of [...this.#pollers]) stop(new FoliokitError('ENGINE_CLOSED', 'The backtest runner is closed'));
    // Queued tasks stay in the queue: each finds its run settled and returns at once.
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
    await Promise.allSettled([...this.#tasks]);
  }
}

/**
 * Creates a backtest runner over a host (a `PortfolioEngine` is one): runs stored in the host's
 * store (which must keep backtest runs: else `INVALID_CONFIGURATION`), bars from `marketData`,
 * events on the host's bus. See {@link BacktestRunner} and docs/backtesting.md.
 *
 * @example
 * ```ts
 * const runner = createBacktestRunner(engine, { concurrency: 2 });
 * const run = await runner.submit({ strategy: 'sma-cross', symbols: ['AAPL'], from: '2024-01-01', to: '2024-12-31', initialCash: '10000' });
 * const done = await runner.wait(run.id); // done.status === 'succeeded', done.result.finalValue
 * await runner.close();
 * ```
 * @throws FoliokitError `VALIDATION_FAILED` (options), `INVALID_CONFIGURATION` (the store)
 */
export function createBacktestRunner(host: BacktestRunnerHost, options: BacktestRunnerOptions = {}): BacktestRunner {
  return new Runner(host, validate(optionsSchema, options, 'options'));
}
