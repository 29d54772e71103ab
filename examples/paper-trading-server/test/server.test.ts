/**
 * The example server end to end: started in-process on a free port (health, dashboard, API
 * reference, uPlot, the seeded demo with a year of history), and as the command a newcomer runs
 * (URLs printed, clean exit 0 on SIGINT and SIGTERM, exit 1 when the port is taken, --help).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaperTradingServer, type PaperTradingServer } from '../src/server.js';

const BIN = fileURLToPath(new URL('../bin/paper-trading-server.mjs', import.meta.url));
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'foliokit-example-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('createPaperTradingServer', () => {
  let server: PaperTradingServer;
  beforeAll(async () => {
    server = await createPaperTradingServer({ port: 0, dataDir: await tempDir(), logLevel: 'silent' });
  });
  afterAll(() => server?.close());

  it('answers /health and /api/health', async () => {
    for (const path of ['/health', '/api/health']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('ok');
    }
  });

  it('serves the dashboard, the API reference and uPlot', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<html/i);
    const docs = await fetch(`${server.url}/api/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/<html/i);
    const openapi = await fetch(`${server.url}/api/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
    const uplot = await fetch(`${server.url}/vendor/uplot/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toMatch(/javascript/);
    expect(await uplot.text()).toContain('uPlot');
    expect((await fetch(`${server.url}/vendor/uplot/uPlot.min.css`)).status).toBe(200);
    expect((await fetch(`${server.url}/vendor/uplot/package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/..%2Fpackage.json`)).status).toBe(404);
  });

  it('seeds the demo portfolio with positions and a year of daily history', async () => {
    const demo = await fetch(`${server.url}/auth/demo`, { method: 'POST' });
    expect(demo.status).toBe(200);
    const { accessToken } = (await demo.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };
    const list = (await (await fetch(`${server.url}/api/portfolios`, { headers })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(list.items.map((p) => p.id)).toEqual([server.demoPortfolioId]);
    const id = server.demoPortfolioId as string;
    const positions = (await (await fetch(`${server.url}/api/portfolios/${id}/positions`, { headers })).json()) as {
      items: unknown[];
    };
    expect(positions.items.length).toBeGreaterThanOrEqual(3);
    const history = await fetch(`${server.url}/api/portfolios/${id}/history?interval=1d&limit=10000`, { headers });
    expect(history.status).toBe(200);
    const { items } = (await history.json()) as { items: Array<{ day: string }> };
    expect(new Set(items.map((i) => i.day)).size).toBeGreaterThanOrEqual(250);
  });
});

describe('a restart on the same data folder', () => {
  it('keeps the JWT secret (sessions survive) and the demo portfolio (not seeded twice)', async () => {
    const dataDir = await tempDir();
    const first = await createPaperTradingServer({ port: 0, dataDir, logLevel: 'silent' });
    const { accessToken } = (await (await fetch(`${first.url}/auth/demo`, { method: 'POST' })).json()) as {
      accessToken: string;
    };
    await first.close();
    const second = await createPaperTradingServer({ port: 0, dataDir, logLevel: 'silent' });
    try {
      expect(second.demoPortfolioId).toBe(first.demoPortfolioId);
      const list = await fetch(`${second.url}/api/portfolios`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(list.status).toBe(200);
      expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(1);
    } finally {
      await second.close();
    }
  }, 60_000);
});

/** A spawned CLI with its output so far. */
interface Cli {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[]): Cli {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** Waits until the CLI prints its API reference URL; answers the base URL. */
async function printedUrl(cli: Cli): Promise<string> {
  for (;;) {
    const match = /API reference:\s+(http:\/\/\S+)\/api\/docs/.exec(cli.out());
    if (match?.[1]) return match[1];
    const code = await Promise.race([cli.exited, new Promise((r) => setTimeout(() => r('wait'), 100))]);
    if (code !== 'wait') throw new Error(`the server exited (${String(code)}): ${cli.err()}`);
  }
}

describe('the foliokit-paper-trading command', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`prints its URLs, answers /health and exits 0 on ${signal}`, async () => {
      const cli = startCli(['--port', '0', '--data', await tempDir(), '--log-level', 'warn']);
      const url = await printedUrl(cli);
      expect(cli.out()).toContain(`Dashboard:      ${url}/`);
      expect(cli.out()).toContain(`API:            ${url}/api`);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      // An open SSE stream does not hold the shutdown: the server ends it.
      const { accessToken } = (await (await fetch(`${url}/auth/demo`, { method: 'POST' })).json()) as {
        accessToken: string;
      };
      const stream = await fetch(`${url}/api/stream/prices?symbols=AAPL`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(stream.status).toBe(200);
      const drained = stream.text().catch(() => '');
      cli.child.kill(signal);
      expect(await cli.exited).toBe(0);
      await drained;
    }, 90_000);
  }

  it('exits 1 with a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const { port } = blocker.address() as { port: number };
    try {
      const cli = startCli(['--port', String(port), '--data', await tempDir(), '--no-demo', '--log-level', 'silent']);
      expect(await cli.exited).toBe(1);
      expect(cli.err()).toContain(`Port ${port} is already in use`);
      expect(cli.err().trim().split('\n')).toHaveLength(1);
    } finally {
      blocker.close();
    }
  }, 90_000);

  it('lists its options with --help', async () => {
    const cli = startCli(['--help']);
    expect(await cli.exited).toBe(0);
    for (const option of [
      '--port',
      'PORT',
      '--host',
      '--data',
      'FOLIOKIT_DATA',
      '--postgres',
      'FOLIOKIT_PG_URL',
      '--provider',
      '--csv-dir',
      'ALPHAVANTAGE_API_KEY',
      '--jwt-secret',
      '--admin-email',
      '--admin-password',
      '--no-demo',
      '--log-level',
    ]) {
      expect(cli.out()).toContain(option);
    }
  }, 60_000);

  it('refuses a bad option with exit 1', async () => {
    const cli = startCli(['--jwt-secret', 'short']);
    expect(await cli.exited).toBe(1);
    expect(cli.err()).toMatch(/--jwt-secret.*32 bytes/);
  }, 60_000);
});
