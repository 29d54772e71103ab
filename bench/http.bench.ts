/**
 * `@foliokit/http-hono` on a real server (`@hono/node-server` on 127.0.0.1), each figure beside a
 * baseline measured in the same run:
 *
 * 1. `GET /portfolios/:id/valuation` (10 positions, SQLite file store, static prices) requests per
 *    second, against a bare Hono route answering a constant JSON of the same size, on the same kind
 *    of server, with the same autocannon settings (10 connections, a fixed time each, in a worker
 *    thread so the load generator does not share the server's event loop; targets alternate over
 *    rounds, median). Callers resolved by the host (`auth: { resolve }`, a fixed user); a JWT
 *    (`auth.jwt`, HS256, one verification per request) is measured too, for information.
 * 2. `POST /portfolios/:id/trades` on SQLite, one request at a time on one kept-alive connection
 *    (a small `node:http` client in a worker thread, see {@link POST_WORKER}), against `engine.trade`
 *    called directly: fresh stores, same count, same symbols and prices.
 * 3. SSE fan-out: 1,000 clients (raw `http.request`, in a worker thread) on `GET /stream/prices`,
 *    then price updates (`engine.refreshPrices` after the provider's price moved): the time from
 *    `price.updated` being emitted to the last client's receipt, p50 and p99 over the updates.
 * 4. Across instances on PostgreSQL (two stores on one schema, two engines, routers and servers): a
 *    trade on A (`engine.trade`) to a client of B receiving `trade.executed` on
 *    `/stream/portfolios/:id`, p50 and p99.
 *
 * Times across threads come from `process.hrtime` (one monotonic clock for the whole process).
 * Needs the PostgreSQL of `FOLIOKIT_PG_URL` (default postgres://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createPortfolioEngine, dec, fmt, type PortfolioEngine, silentLogger } from '@foliokit/core';
import { createFoliokitRouter, type FoliokitRouter, type FoliokitRouterOptions } from '@foliokit/http-hono';
import { createStaticProvider, type StaticProvider } from '@foliokit/providers';
import { createPostgresStore, type PostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { SignJWT } from 'jose';
import pg from 'pg';
import type { Report } from './run.js';

const PG_URL = process.env.FOLIOKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Seconds of load per autocannon measurement. */
const LOAD_SECONDS = 4;
const ROUNDS = 3;
const CONNECTIONS = 10;
const TRADES = 2_000;
const SSE_CLIENTS = 1_000;
const PRICE_UPDATES = 20;
const CROSS_TRADES = 50;
const PRICE = '100.25';
const TRADE_SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL'];
/** The one caller of every request (the host's `resolve`, or the JWT's `sub`). */
const USER = { userId: 'bench-user', roles: [] as string[] };
const NO_LIMITS = { windowMs: 60_000, max: 1_000_000_000 };
const RATE_LIMITS = { trades: NO_LIMITS, market: NO_LIMITS, admin: NO_LIMITS };
const JWT_SECRET = 'bench-secret-of-at-least-32-bytes!!';

export default async function run(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-bench-http-'));
  try {
    // `FOLIOKIT_BENCH_ONLY=sse` runs the SSE figures only (fan-out and across instances).
    const only = process.env.FOLIOKIT_BENCH_ONLY;
    if (only !== 'sse') {
      await valuationFigure(report, dir);
      await tradesFigure(report, dir);
    }
    await fanOutFigure(report, dir);
    await crossInstanceFigure(report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----- 1. valuation vs a bare route --------------------------------------------------------------

async function valuationFigure(report: Report, dir: string): Promise<void> {
  const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'NFLX', 'ADBE', 'ORCL'];
  const provider = createStaticProvider({ prices: Object.fromEntries(symbols.map((s, i) => [s, `${50 + i * 7}.25`])) });
  const { engine, close: closeEngine } = await sqliteEngine(join(dir, 'valuation.db'), provider);
  const portfolio = await engine.createPortfolio({ name: 'bench', ownerId: USER.userId, initialCash: '10000000' });
  for (const symbol of symbols) await engine.trade(portfolio.id, { symbol, side: 'buy', quantity: '12.5' });

  const byResolve = routerOf(engine, { auth: { resolve: async () => USER } });
  const byJwt = routerOf(engine, { auth: { jwt: { secret: JWT_SECRET, algorithms: ['HS256'] } } });
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(USER.userId)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));
  const path = `/portfolios/${portfolio.id}/valuation`;
  const routed = await listen(byResolve.fetch);
  const jwt = await listen(byJwt.fetch);
  const sample = await (await fetch(routed.url + path)).text();
  const constant = JSON.parse(sample) as unknown;
  const bare = await listen(new Hono().get(path, (c) => c.json(constant)).fetch);
  const bareSample = await (await fetch(bare.url + path)).text();
  if (bareSample.length !== sample.length) throw new Error('the bare route must answer as many bytes');
  const auth = { authorization: `Bearer ${token}` };
  if ((await fetch(jwt.url + path, { headers: auth })).status !== 200) throw new Error('the JWT is refused');

  try {
    const targets = {
      bare: () => load({ url: bare.url + path, connections: CONNECTIONS, duration: LOAD_SECONDS }),
      resolve: () => load({ url: routed.url + path, connections: CONNECTIONS, duration: LOAD_SECONDS }),
      jwt: () => load({ url: jwt.url + path, connections: CONNECTIONS, duration: LOAD_SECONDS, headers: auth }),
    };
    const rates = await alternate(targets, ROUNDS, async () => {
      for (const url of [bare.url + path, routed.url + path])
        await load({ url, connections: CONNECTIONS, duration: 1 });
      await load({ url: jwt.url + path, connections: CONNECTIONS, duration: 1, headers: auth });
    });
    const note = `${sample.length} B answers, ${CONNECTIONS} connections, ${LOAD_SECONDS} s × ${ROUNDS} rounds, median`;
    report({ name: 'http bare Hono route, constant JSON (baseline)', value: rates.bare, unit: 'req/s', note });
    report({
      name: 'http GET /portfolios/:id/valuation, 10 positions, SQLite, auth resolve',
      value: rates.resolve,
      unit: 'req/s',
      baseline: 'bare Hono route',
      ratio: rates.resolve / rates.bare,
      goal: '≥ 0.5 of bare',
      pass: rates.resolve / rates.bare >= 0.5,
    });
    report({
      name: 'http GET /portfolios/:id/valuation, auth.jwt HS256 (verify per request)',
      value: rates.jwt,
      unit: 'req/s',
      baseline: 'bare Hono route',
      ratio: rates.jwt / rates.bare,
      note: 'for information',
    });
  } finally {
    for (const server of [bare, routed, jwt]) await server.close();
    await byResolve.close();
    await byJwt.close();
    await closeEngine();
  }
}

// ----- 2. trades over HTTP vs engine.trade -------------------------------------------------------

async function tradesFigure(report: Report, dir: string): Promise<void> {
  let file = 0;
  const fresh = () => join(dir, `trades-${file++}.db`);
  // One short run of each first, so neither pays for the JIT alone.
  await directTrades(fresh(), 200);
  await httpTrades(fresh(), 200);
  const rates = await alternate(
    { direct: () => directTrades(fresh(), TRADES), http: () => httpTrades(fresh(), TRADES) },
    ROUNDS,
  );
  const note = `${TRADES.toLocaleString('en-US')} sequential trades on a fresh SQLite file each, ${ROUNDS} rounds, median`;
  report({ name: 'sqlite engine.trade called directly (baseline)', value: rates.direct, unit: 'trades/s', note });
  report({
    name: 'http POST /portfolios/:id/trades, SQLite, sequential on 1 connection',
    value: rates.http,
    unit: 'trades/s',
    baseline: 'engine.trade',
    ratio: rates.http / rates.direct,
    goal: '≥ 0.7 of engine.trade',
    pass: rates.http / rates.direct >= 0.7,
  });
}

const tradeInput = (i: number) => ({
  symbol: TRADE_SYMBOLS[i % TRADE_SYMBOLS.length] as string,
  side: 'buy' as const,
  quantity: '1',
  price: PRICE,
});

async function tradeEngine(filename: string) {
  const provider = createStaticProvider({ prices: Object.fromEntries(TRADE_SYMBOLS.map((s) => [s, PRICE])) });
  const running = await sqliteEngine(filename, provider);
  const portfolio = await running.engine.createPortfolio({
    name: 'bench',
    ownerId: USER.userId,
    initialCash: '1000000000',
  });
  return { ...running, portfolioId: portfolio.id };
}

async function directTrades(filename: string, count: number): Promise<number> {
  const { engine, portfolioId, close } = await tradeEngine(filename);
  try {
    const started = performance.now();
    for (let i = 0; i < count; i++) await engine.trade(portfolioId, tradeInput(i));
    return count / ((performance.now() - started) / 1000);
  } finally {
    await close();
  }
}

async function httpTrades(filename: string, count: number): Promise<number> {
  const { engine, portfolioId, close } = await tradeEngine(filename);
  const router = routerOf(engine, { auth: { resolve: async () => USER } });
  const server = await listen(router.fetch);
  try {
    const bodies = TRADE_SYMBOLS.map((_, i) => JSON.stringify(tradeInput(i)));
    const ms = await sequentialPosts({ url: `${server.url}/portfolios/${portfolioId}/trades`, bodies, count });
    const held = (await engine.getPositions(portfolioId)).reduce((sum, p) => sum.plus(p.quantity), dec(0));
    if (!held.eq(count)) throw new Error(`${fmt(held)} of ${count} trades were made`);
    return count / (ms / 1000);
  } finally {
    await server.close();
    await router.close();
    await close();
  }
}

// ----- 3. SSE fan-out ----------------------------------------------------------------------------

async function fanOutFigure(report: Report, dir: string): Promise<void> {
  const provider = createStaticProvider({ prices: { AAPL: '100' } });
  const { engine, close: closeEngine } = await sqliteEngine(join(dir, 'fan-out.db'), provider);
  // Subscribed before the router's hub: this listener sees each event first, when it is emitted.
  const emitted = new Map<string, number>();
  const off = engine.on('price.updated', (e) => {
    emitted.set(e.price, nowMs());
  });
  const router = routerOf(engine, { auth: { resolve: async () => USER }, streams: { heartbeatMs: 3_600_000 } });
  const server = await listen(router.fetch);
  const clients = await startSseClients({
    url: `${server.url}/stream/prices?symbols=AAPL`,
    clients: SSE_CLIENTS,
    event: 'price.updated',
    keyPattern: '"price":"([^"]+)"',
  });
  try {
    const latencies: number[] = [];
    const firsts: number[] = [];
    const warmup = 3;
    for (let i = 0; i < warmup + PRICE_UPDATES; i++) {
      const price = `${101 + i}.5`;
      const received = clients.next(price);
      provider.setPrice('AAPL', price);
      await engine.refreshPrices(['AAPL']);
      const { first, last } = await received;
      const at = emitted.get(price);
      if (at === undefined) throw new Error(`price ${price} was not emitted`);
      if (i >= warmup) {
        latencies.push(last - at);
        firsts.push(first - at);
      }
      await sleep(50);
    }
    const closed = await clients.close();
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    const first = percentile(firsts, 0.5);
    const note = `${PRICE_UPDATES} updates; first client p50 ${first.toFixed(1)} ms; ${closed} sockets closed`;
    report({ name: 'sse fan-out, price.updated → last of 1,000 clients, p50', value: p50, unit: 'ms' });
    report({
      name: 'sse fan-out, price.updated → last of 1,000 clients, p99',
      value: p99,
      unit: 'ms',
      goal: '< 50 ms',
      pass: p99 < 50,
      note,
    });
  } finally {
    await clients.terminate();
    off();
    await router.close();
    await server.close();
    await closeEngine();
  }
}

// ----- 4. across instances on PostgreSQL --------------------------------------------------------

async function crossInstanceFigure(report: Report): Promise<void> {
  const schema = `fk_bench_http_${randomBytes(4).toString('hex')}`;
  const instances: Instance[] = [];
  let clients: SseClients | undefined;
  try {
    instances.push(await pgInstance(schema), await pgInstance(schema));
    const [a, b] = instances as [Instance, Instance];
    const portfolio = await a.engine.createPortfolio({ name: 'bench', ownerId: USER.userId, initialCash: '10000000' });
    const committed = new Map<string, number>();
    a.engine.on('trade.executed', (e) => {
      committed.set(e.transaction.id, nowMs());
    });
    clients = await startSseClients({
      url: `${b.url}/stream/portfolios/${portfolio.id}`,
      clients: 1,
      event: 'trade.executed',
      keyPattern: '"id":"(tx_[0-9a-z]+)"',
    });
    const fromEvent: number[] = [];
    const fromCall: number[] = [];
    const warmup = 5;
    for (let i = 0; i < warmup + CROSS_TRADES; i++) {
      const called = nowMs();
      const trade = await a.engine.trade(portfolio.id, { symbol: 'AAPL', side: 'buy', quantity: '1' });
      const { last } = await clients.next(trade.id);
      const at = committed.get(trade.id);
      if (at === undefined) throw new Error(`trade ${trade.id} was not emitted on A`);
      if (i >= warmup) {
        fromEvent.push(last - at);
        fromCall.push(last - called);
      }
      await sleep(20);
    }
    await clients.close();
    const p50 = percentile(fromEvent, 0.5);
    const p99 = percentile(fromEvent, 0.99);
    const callP99 = percentile(fromCall, 0.99);
    report({
      name: 'sse across instances (PostgreSQL NOTIFY), trade.executed on A → client of B, p50',
      value: p50,
      unit: 'ms',
    });
    report({
      name: 'sse across instances (PostgreSQL NOTIFY), trade.executed on A → client of B, p99',
      value: p99,
      unit: 'ms',
      note: `${CROSS_TRADES} trades; from the engine.trade call (trade included): p99 ${callP99.toFixed(1)} ms`,
    });
  } finally {
    await clients?.terminate();
    for (const instance of instances.reverse()) await instance.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
}

interface Instance {
  engine: PortfolioEngine;
  url: string;
  close(): Promise<void>;
}

/** An instance: its own store and pool on the shared schema, its own engine, router and server. */
async function pgInstance(schema: string): Promise<Instance> {
  const store = await createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 3 });
  const engine = createPortfolioEngine({
    store,
    marketData: createStaticProvider({ prices: { AAPL: PRICE } }),
    logger: silentLogger,
  });
  const router = routerOf(engine, { auth: { resolve: async () => USER }, streams: { heartbeatMs: 3_600_000 } });
  const server = await listen(router.fetch);
  await listening(store);
  return {
    engine,
    url: server.url,
    async close() {
      await router.close();
      await server.close();
      await engine.close();
      await store.close();
    },
  };
}

/** Resolves once the store's transport listens (a probe shares the engine relay's connection). */
async function listening(store: PostgresStore): Promise<void> {
  const events = store.events;
  if (!events) throw new Error('the PostgreSQL store has no event transport');
  const probe = events.subscribe(() => {});
  await probe.ready;
  await probe.close();
}

// ----- shared parts ------------------------------------------------------------------------------

async function sqliteEngine(filename: string, provider: StaticProvider) {
  const store = await createSqliteStore({ filename });
  const engine = createPortfolioEngine({ store, marketData: provider, logger: silentLogger });
  return {
    engine,
    async close() {
      await engine.close();
      await store.close();
    },
  };
}

/** A router with the bench's rate limits (none that a bench reaches). */
function routerOf(engine: PortfolioEngine, options: FoliokitRouterOptions): FoliokitRouter {
  return createFoliokitRouter(engine, { rateLimits: RATE_LIMITS, ...options });
}

interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Serves `fetch` on 127.0.0.1 (a free port). */
async function listen(fetch: (request: Request, env?: unknown) => Response | Promise<Response>): Promise<Listening> {
  return new Promise((done) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      done({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((closed) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => closed());
          }),
      }),
    );
  });
}

/** Runs each target once per round, in turn (the order rotating), and returns each one's median. */
async function alternate<K extends string>(
  targets: Record<K, () => Promise<number>>,
  rounds: number,
  warmup?: () => Promise<void>,
): Promise<Record<K, number>> {
  await warmup?.();
  const names = Object.keys(targets) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
    for (const name of order) samples[name].push(await targets[name]());
  }
  return Object.fromEntries(names.map((n) => [n, percentile(samples[n], 0.5)])) as Record<K, number>;
}

// ----- load generator ----------------------------------------------------------------------------

/** The part of autocannon's options and result the bench uses (the package ships no types). */
interface AutocannonOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  workers?: number;
  headers?: Record<string, string>;
}
interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  start: Date;
  finish: Date;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: AutocannonOptions) => Promise<AutocannonResult>;

/** Requests per second over a fixed time, the load generator in its own thread. */
async function load(options: Omit<AutocannonOptions, 'workers'>): Promise<number> {
  const result = await autocannon({ ...options, workers: 1 });
  checkLoad(result);
  return result.requests.total / ((result.finish.getTime() - result.start.getTime()) / 1000);
}

function checkLoad(result: AutocannonResult): void {
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`load run failed: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  }
}

/**
 * The sequential client's thread: `count` POSTs one after another on one kept-alive connection
 * (`http.request`, headers and body in one write), each answer read whole and required to be 201;
 * posts the elapsed milliseconds. autocannon and `fetch` are not used here: both send a POST's body
 * apart from its head, which costs them about 0.5 ms a request on this machine even against a raw
 * `node:http` echo server, and would be counted against the router.
 */
const POST_WORKER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, bodies, count } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(body) {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error('answered ' + res.statusCode))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
(async () => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await post(bodies[i % bodies.length]);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  agent.destroy();
  parentPort.postMessage({ ms });
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

/** Sends `count` POSTs to `url` one at a time from another thread; resolves with the elapsed ms. */
async function sequentialPosts(options: { url: string; bodies: string[]; count: number }): Promise<number> {
  const worker = new Worker(POST_WORKER, { eval: true, workerData: options });
  try {
    const answer = await withTimeout(
      new Promise<{ ms?: number; error?: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
      120_000,
      'the trades over HTTP',
    );
    if (answer.ms === undefined) throw new Error(answer.error ?? 'the client failed');
    return answer.ms;
  } finally {
    await worker.terminate();
  }
}

// ----- SSE clients in a worker thread ------------------------------------------------------------

interface SseClientsOptions {
  url: string;
  clients: number;
  /** The event name whose frames count. */
  event: string;
  /** A regular expression whose first group, matched on a frame's data, names the update. */
  keyPattern: string;
}

interface SseClients {
  /** Resolves when every client has received the update named `key` (first and last receipt, ms). */
  next(key: string): Promise<{ first: number; last: number }>;
  /** Closes every connection; resolves with how many were closed. */
  close(): Promise<number>;
  terminate(): Promise<void>;
}

/**
 * The SSE clients' thread: opens `clients` connections (raw `http.request`, one socket each, in
 * batches), reports `ready` once each has received its first bytes (the `retry:` hint: the server's
 * hub holds it), then for each update the first and last receipt time across the clients.
 */
const SSE_WORKER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, clients, event, keyPattern } = workerData;
const pattern = new RegExp(keyPattern);
const marker = 'event: ' + event + '\\n';
const now = () => Number(process.hrtime.bigint()) / 1e6;
const requests = [];
const updates = new Map();
function record(key, at) {
  let u = updates.get(key);
  if (!u) updates.set(key, (u = { count: 0, first: at, last: at }));
  u.count++;
  u.first = Math.min(u.first, at);
  u.last = Math.max(u.last, at);
  if (u.count === clients) {
    updates.delete(key);
    parentPort.postMessage({ type: 'update', key, first: u.first, last: u.last });
  }
}
function open() {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error('stream answered ' + res.statusCode));
      res.setEncoding('utf8');
      let pending = '';
      let started = false;
      res.on('data', (chunk) => {
        const at = now();
        if (!started) {
          started = true;
          resolve();
        }
        pending += chunk;
        for (let end = pending.indexOf('\\n\\n'); end >= 0; end = pending.indexOf('\\n\\n')) {
          const frame = pending.slice(0, end + 1);
          pending = pending.slice(end + 2);
          if (!frame.startsWith(marker)) continue;
          const match = pattern.exec(frame);
          if (match) record(match[1], at);
        }
      });
      res.on('error', () => {});
    });
    req.on('error', (error) => (requests.includes(req) ? undefined : reject(error)));
    requests.push(req);
    req.end();
  });
}
(async () => {
  for (let i = 0; i < clients; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, clients - i) }, open));
  }
  parentPort.postMessage({ type: 'ready', connected: requests.length });
})().catch((error) => parentPort.postMessage({ type: 'error', message: String(error) }));
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  let closed = 0;
  for (const req of requests) {
    req.destroy();
    if (req.destroyed) closed++;
  }
  parentPort.postMessage({ type: 'closed', closed });
});
`;

type WorkerMessage =
  | { type: 'ready'; connected: number }
  | { type: 'update'; key: string; first: number; last: number }
  | { type: 'closed'; closed: number }
  | { type: 'error'; message: string };

async function startSseClients(options: SseClientsOptions): Promise<SseClients> {
  const worker = new Worker(SSE_WORKER, { eval: true, workerData: options });
  const updates = new Map<string, (times: { first: number; last: number }) => void>();
  const arrived = new Map<string, { first: number; last: number }>();
  let onClosed: ((closed: number) => void) | undefined;
  let failed: ((error: Error) => void) | undefined;
  const ready = new Promise<number>((resolve, reject) => {
    failed = reject;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') resolve(m.connected);
      else if (m.type === 'error') reject(new Error(m.message));
      else if (m.type === 'closed') onClosed?.(m.closed);
      else {
        const waiting = updates.get(m.key);
        if (waiting) waiting(m);
        else arrived.set(m.key, m);
      }
    });
  });
  worker.on('error', (error) => failed?.(error));
  const connected = await withTimeout(ready, 60_000, 'the SSE clients to connect');
  if (connected !== options.clients) throw new Error(`${connected} of ${options.clients} SSE clients connected`);
  return {
    next(key) {
      const early = arrived.get(key);
      if (early) {
        arrived.delete(key);
        return Promise.resolve(early);
      }
      const received = new Promise<{ first: number; last: number }>((resolve) => updates.set(key, resolve));
      return withTimeout(received, 10_000, `every client to receive ${key}`).finally(() => updates.delete(key));
    },
    close() {
      const closed = new Promise<number>((resolve) => (onClosed = resolve));
      worker.postMessage('close');
      return withTimeout(closed, 10_000, 'the SSE clients to close');
    },
    async terminate() {
      await worker.terminate();
    },
  };
}

// ----- small helpers -----------------------------------------------------------------------------

/** Milliseconds on the process-wide monotonic clock (the same in every thread). */
function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The `q` quantile (nearest rank) of `xs`. */
function percentile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
