/**
 * A router served over real HTTP on 127.0.0.1 (`@hono/node-server`), over an engine on a real
 * SQLite file store, a manual clock at 2026-01-05T10:00Z and a test provider with daily history:
 * the CSV fixtures of core's backtester (AAA, BBB: March 2025) and synthetic long series. Callers
 * are named by the `x-test-user` header (the host-`resolve` auth mode).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DailyBar } from '@foliokit/core';
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { serve } from '@hono/node-server';
import { createFoliokitRouter, type FoliokitRouter, type FoliokitRouterOptions } from '../../src/index.js';
import { headerAuth } from './router-fixture.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../core/src/backtest/fixtures');

/** Daily bars of a CSV fixture (`Date,Open,High,Low,Close,Volume`). */
export function csvBars(symbol: string): DailyBar[] {
  const lines = readFileSync(join(FIXTURES, `${symbol}.csv`), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  return lines.map((line) => {
    const [day, open, high, low, close, volume] = line.split(',') as [string, string, string, string, string, string];
    return { day, open, high, low, close, volume };
  });
}

/** Weekday bars from `from` for `count` bars: a deterministic wave (never random), closes only. */
export function syntheticBars(from: string, count: number, seed: number): DailyBar[] {
  const out: DailyBar[] = [];
  let ms = Date.parse(`${from}T00:00:00Z`);
  while (out.length < count) {
    const wd = new Date(ms).getUTCDay();
    if (wd !== 0 && wd !== 6) {
      const i = out.length;
      const close = 100 + 20 * Math.sin(i / (9 + seed)) + 7 * Math.cos(i / (23 + seed)) + (i % 13) / 10;
      out.push({ day: new Date(ms).toISOString().slice(0, 10), close: close.toFixed(2) });
    }
    ms += 86_400_000;
  }
  return out;
}

/** An answer, its body parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read field by field
  body: any;
}

/** What {@link serveRouter} returns. */
export interface ServedRouter extends TestEngine {
  router: FoliokitRouter;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Sends a request over HTTP as `user` (default alice; null: no credentials). */
  request(method: string, path: string, options?: { user?: string | null; json?: unknown }): Promise<Answer>;
}

/** Serves a router over a fresh SQLite file; `history` adds to the fixtures' AAA and BBB. */
export async function serveRouter(
  options: {
    router?: Partial<FoliokitRouterOptions> | ((engine: TestEngine) => Partial<FoliokitRouterOptions>);
    history?: Record<string, DailyBar[]>;
    prices?: Record<string, string>;
  } = {},
): Promise<ServedRouter> {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-http-'));
  const store = await createSqliteStore({ filename: join(dir, 'http.db') });
  const test = createTestEngine({
    store,
    prices: { AAA: '11', BBB: '20', ...options.prices },
    history: { AAA: csvBars('AAA'), BBB: csvBars('BBB'), ...options.history },
  });
  const extra = typeof options.router === 'function' ? options.router(test) : (options.router ?? {});
  const router = createFoliokitRouter(test.engine, {
    auth: headerAuth,
    rateLimits: {
      trades: { windowMs: 60_000, max: 1_000_000 },
      market: { windowMs: 60_000, max: 1_000_000 },
      admin: { windowMs: 60_000, max: 1_000_000 },
    },
    ...extra,
  });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((done) => {
    const s = serve({ fetch: router.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      done({ server: s, port: info.port }),
    );
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    ...test,
    router,
    base,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = {};
      const user = o.user === undefined ? 'alice' : o.user;
      if (user !== null) headers['x-test-user'] = user;
      let body: string | undefined;
      if (o.json !== undefined) {
        body = JSON.stringify(o.json);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(`${base}${path}`, { method, headers, body });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      return {
        status: res.status,
        headers: res.headers,
        body: text !== '' && type.includes('json') ? JSON.parse(text) : text,
      };
    },
    async close() {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((done) => server.close(() => done()));
      await router.close();
      await test.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
