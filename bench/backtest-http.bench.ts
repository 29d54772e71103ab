/**
 * HTTP latency while a backtest runs (#13): a cheap `GET /strategies` on a real server
 * (`@hono/node-server` on 127.0.0.1, SQLite file store), sent one at a time on a kept-alive
 * connection, measured three ways in the same run:
 *
 * 1. idle (the baseline);
 * 2. while a long backtest runs in the router's runner with worker threads (the default);
 * 3. while the same backtest runs inline (`backtests: { worker: false }`): the replay shares the
 *    event loop with the server, yielding between slices.
 *
 * The backtest: `sma-cross` (3/8) over 40 symbols × 5,000 daily bars (200,000 bars), cancelled once
 * the samples are taken; the samples start at its first progress event and count only while it is
 * still `running`. Reported: median and p99 latency, and each as a ratio of idle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPortfolioEngine, type DailyBar, type PortfolioEngine, silentLogger } from '@foliokit/core';
import { createFoliokitRouter, type FoliokitRouter } from '@foliokit/http-hono';
import { createStaticProvider } from '@foliokit/providers';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { serve } from '@hono/node-server';
import type { Report } from './run.js';

const SYMBOLS = Array.from({ length: 40 }, (_, i) => `L${String(i).padStart(2, '0')}`);
const BARS = 5_000;
const SAMPLES = 300;
const USER = { userId: 'bench-user', roles: [] as string[] };
const NO_LIMITS = { windowMs: 60_000, max: 1_000_000_000 };
const REQUEST = {
  strategy: 'sma-cross',
  params: { fast: 3, slow: 8 },
  symbols: SYMBOLS,
  from: '2000-01-03',
  to: '2019-12-31',
  initialCash: '1000000',
};

/** Weekday bars from 2000-01-03: a deterministic wave per symbol. */
function bars(seed: number): DailyBar[] {
  const out: DailyBar[] = [];
  let ms = Date.parse('2000-01-03T00:00:00Z');
  while (out.length < BARS) {
    const wd = new Date(ms).getUTCDay();
    if (wd !== 0 && wd !== 6) {
      const i = out.length;
      const close = 100 + 20 * Math.sin(i / (9 + seed)) + 7 * Math.cos(i / (23 + seed));
      out.push({ day: new Date(ms).toISOString().slice(0, 10), close: close.toFixed(2) });
    }
    ms += 86_400_000;
  }
  return out;
}

interface Served {
  router: FoliokitRouter;
  url: string;
  close(): Promise<void>;
}

async function serveRouter(engine: PortfolioEngine, worker: boolean): Promise<Served> {
  const router = createFoliokitRouter(engine, {
    auth: { resolve: async () => USER },
    rateLimits: { trades: NO_LIMITS, market: NO_LIMITS, admin: NO_LIMITS },
    backtests: { worker },
    alerts: { evaluate: false },
  });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((done) => {
    const s = serve({ fetch: router.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      done({ server: s, port: info.port }),
    );
  });
  return {
    router,
    url: `http://127.0.0.1:${port}`,
    async close() {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((done) => server.close(() => done()));
      await router.close();
    },
  };
}

/** Latencies (ms) of `count` sequential GETs, while `keepGoing()` holds. */
async function sample(url: string, count: number, keepGoing: () => boolean): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count && keepGoing(); i++) {
    const started = performance.now();
    const res = await fetch(`${url}/strategies`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET /strategies answered ${res.status}`);
    out.push(performance.now() - started);
  }
  return out;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Samples while a long backtest runs on `served`'s runner; cancels it afterwards. */
async function whileRunning(engine: PortfolioEngine, served: Served): Promise<{ latencies: number[]; ran: boolean }> {
  let id: string | undefined;
  let final = false;
  const started = new Promise<void>((resolve) => {
    const off = engine.on('backtest.progress', (e) => {
      if (e.runId === id && e.done > 0) {
        off();
        resolve();
      }
    });
  });
  const offDone = engine.on('backtest.completed', (e) => {
    if (e.runId === id) final = true;
  });
  const res = await fetch(`${served.url}/backtests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(REQUEST),
  });
  if (res.status !== 202) throw new Error(`POST /backtests answered ${res.status}: ${await res.text()}`);
  id = ((await res.json()) as { id: string }).id;
  await started;
  const latencies = await sample(served.url, SAMPLES, () => !final);
  const run = await served.router.deps.backtests.get(id);
  const ran = run.status === 'running';
  await served.router.deps.backtests.cancel(id);
  await served.router.deps.backtests.wait(id);
  offDone();
  return { latencies, ran };
}

export default async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-bench-backtest-http-'));
  const store = await createSqliteStore({ filename: join(dir, 'bench.db') });
  const provider = createStaticProvider({
    prices: Object.fromEntries(SYMBOLS.map((s) => [s, '100'])),
    history: Object.fromEntries(SYMBOLS.map((s, i) => [s, bars(i)])),
  });
  const engine = createPortfolioEngine({ store, marketData: provider, logger: silentLogger });
  const workerServed = await serveRouter(engine, true);
  const inlineServed = await serveRouter(engine, false);
  try {
    await sample(workerServed.url, 50, () => true); // warm-up
    const idle = await sample(workerServed.url, SAMPLES, () => true);
    const worker = await whileRunning(engine, workerServed);
    const inline = await whileRunning(engine, inlineServed);
    const base = { p50: quantile(idle, 0.5), p99: quantile(idle, 0.99) };
    const note = (n: number, ran: boolean) =>
      `${n} sequential GETs${ran ? ', the run still running after the last' : ', the run ended before the last'}`;
    report({
      name: 'http GET /strategies idle, p50 (baseline)',
      value: base.p50,
      unit: 'ms',
      note: `${idle.length} GETs`,
    });
    report({ name: 'http GET /strategies idle, p99', value: base.p99, unit: 'ms' });
    for (const [label, m] of [
      ['worker thread', worker],
      ['inline (worker: false)', inline],
    ] as const) {
      const p50 = quantile(m.latencies, 0.5);
      const p99 = quantile(m.latencies, 0.99);
      const isWorker = label === 'worker thread';
      report({
        name: `http GET /strategies while a 200,000-bar backtest runs, ${label}, p50`,
        value: p50,
        unit: 'ms',
        baseline: 'idle p50',
        ratio: p50 / base.p50,
        ...(isWorker ? { goal: '≤ 2 × idle', pass: p50 / base.p50 <= 2 } : {}),
        note: note(m.latencies.length, m.ran),
      });
      report({
        name: `http GET /strategies while a 200,000-bar backtest runs, ${label}, p99`,
        value: p99,
        unit: 'ms',
        baseline: 'idle p99',
        ratio: p99 / base.p99,
      });
    }
  } finally {
    await workerServed.close();
    await inlineServed.close();
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
