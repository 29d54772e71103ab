/**
 * Packaging, tried as an app would: every package is built (tsup) and packed with pnpm (which swaps
 * in `publishConfig.exports` and resolves `workspace:` ranges), and the tarballs are installed with
 * npm into a fresh folder outside the workspace. There the README's quick start runs with `import`
 * and, on Node.js ≥ 20.19 (require of ES modules), with `require`; TypeScript type-checks the
 * README's samples under `NodeNext` and `bundler`; publint and are-the-types-wrong pass on every
 * tarball. The development `source` condition never ships.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Every published package; core first (the others' type declarations build on its). */
const PACKAGES = ['core', 'store-sqlite', 'store-postgres', 'providers', 'http-hono'];
const work = mkdtempSync(join(tmpdir(), 'foliokit-packaging-'));
const packs = join(work, 'packs');
const app = join(work, 'app');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const PNPM = `pnpm@${
  String(rootManifest.packageManager)
    .replace(/^pnpm@/, '')
    .split('+')[0]
}`;
/** The workspace's installed version of a third-party package (the app installs the same). */
const installed = (name: string): string =>
  JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;

/** A child's environment: none of vitest's variables, none of the pnpm run's npm settings. */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && !k.toLowerCase().startsWith('npm_')),
);

async function sh(file: string, args: string[], cwd: string, timeout = 120_000) {
  try {
    return await run(file, args, { cwd, env: childEnv, timeout, maxBuffer: 32 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

const tarballOf = (pkg: string) => join(packs, `foliokit-${pkg}-0.1.0.tgz`);
const installedDir = (pkg: string) => join(app, 'node_modules/@foliokit', pkg);
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name), base) : [relative(base, join(dir, d.name))],
  );
}

/** The `ts` code blocks of the README that import a foliokit package. */
function readmeSamples(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .filter((c) => c.includes('@foliokit/'));
}

/** The README's quick start: the first `ts` block under "## Quick start". */
function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Quick start')))?.[1];
  if (!code) throw new Error('README.md has no ts block under "## Quick start"');
  return code;
}

beforeAll(async () => {
  // Build: core first (the others' .d.ts builds read its types), then the rest side by side.
  const tsup = join(root, 'node_modules/tsup/dist/cli-default.js');
  const build = (pkg: string) => sh(process.execPath, [tsup], join(root, 'packages', pkg), 180_000);
  await build('core');
  await Promise.all(PACKAGES.slice(1).map(build));

  // Pack with pnpm, as publishing does.
  mkdirSync(packs, { recursive: true });
  for (const pkg of PACKAGES) {
    await sh('npx', ['-y', PNPM, 'pack', '--pack-destination', packs], join(root, 'packages', pkg));
  }

  // A fresh app outside the workspace, installing the tarballs and third-party packages with npm.
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const thirdParty = ['better-sqlite3', 'pg', 'hono', '@hono/node-server', '@types/node'].map(
    (name) => `${name}@${installed(name)}`,
  );
  // --ignore-scripts: better-sqlite3's install script would fetch or compile its addon; the app gets
  // the workspace's build of the same version instead (our own packages have no install script).
  await sh(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      ...PACKAGES.map(tarballOf),
      ...thirdParty,
    ],
    app,
    240_000,
  );
  const addon = 'build/Release/better_sqlite3.node';
  mkdirSync(join(app, 'node_modules/better-sqlite3', dirname(addon)), { recursive: true });
  copyFileSync(join(root, 'node_modules/better-sqlite3', addon), join(app, 'node_modules/better-sqlite3', addon));
}, 600_000);

describe('the published manifests', () => {
  it('export types + default only, with every target in the tarball, and the metadata a registry shows', () => {
    const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
    for (const pkg of PACKAGES) {
      const dir = installedDir(pkg);
      const m = manifestOf(dir);
      expect(m.name).toBe(`@foliokit/${pkg}`);
      expect(m.type).toBe('module');
      expect(m.license).toBe('MIT');
      expect(m.sideEffects).toBe(false);
      expect(m.files).toContain('dist');
      expect(m.keywords).toContain('foliokit');
      expect(m.repository).toMatchObject({ type: 'git', directory: `packages/${pkg}` });
      expect(m.homepage).toMatch(/^https:\/\//);
      expect(m.bugs?.url).toMatch(/^https:\/\//);
      expect(m.publishConfig).toEqual({ access: 'public' });
      expect(JSON.stringify(m), `${pkg}: no workspace: range survives packing`).not.toContain('workspace:');
      expect(JSON.stringify(m.exports), `${pkg}: the source condition is for development only`).not.toContain('source');
      for (const [entry, target] of Object.entries<Record<string, string> | string>(m.exports)) {
        if (entry === './package.json') continue;
        expect(Object.keys(target), `${pkg} ${entry}`).toEqual(['types', 'default']);
        for (const file of Object.values(target))
          expect(existsSync(join(dir, file)), `${pkg} ${entry} ${file}`).toBe(true);
      }
      const files = filesUnder(dir);
      expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']));
      for (const f of files)
        expect(f, `${pkg} ships only dist and its documents`).toMatch(/^(dist\/|[A-Z]+\.md$|LICENSE$|package\.json$)/);
      expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(rootLicense);
    }
  });

  it('the workspace keeps the source condition first, for development, and the same entries as published', () => {
    for (const pkg of PACKAGES) {
      const m = manifestOf(join(root, 'packages', pkg));
      expect(Object.keys(m.exports)).toEqual(Object.keys(m.publishConfig.exports));
      for (const [entry, target] of Object.entries<Record<string, string> | string>(m.exports)) {
        if (typeof target === 'string') continue;
        expect(Object.keys(target), `${pkg} ${entry}`).toEqual(['source', 'types', 'default']);
        expect(m.publishConfig.exports[entry]).toEqual({ types: target.types, default: target.default });
      }
    }
  });
});

describe('an app outside the workspace', () => {
  it("runs the README's quick start with import", async () => {
    const { code } = await transform(quickStart(), { loader: 'ts', format: 'esm', target: 'node20' });
    writeFileSync(join(app, 'quick-start.mjs'), code);
    const { stdout } = await sh(process.execPath, ['quick-start.mjs'], app, 60_000);
    expect(stdout).toContain('INSUFFICIENT_QUANTITY');
    const [cash, marketValue, total] = (stdout.trim().split('\n').pop() as string).split(' ');
    expect(Number(cash)).toBeGreaterThan(0);
    expect(Number(marketValue)).toBeGreaterThan(0);
    expect(total).toMatch(/^\d+(\.\d+)?$/);
  });

  it('runs the quick start with require (CommonJS), and imports every entry point', async () => {
    writeFileSync(
      join(app, 'quick-start.cjs'),
      `
const { createPortfolioEngine, isFoliokitError } = require('@foliokit/core');
const { createSimulatedProvider } = require('@foliokit/providers');
const { createSqliteStore } = require('@foliokit/store-sqlite');
const entries = {
  sql: typeof require('@foliokit/core/sql').createKyselyStore,
  postgres: typeof require('@foliokit/store-postgres').createPostgresStore,
  http: typeof require('@foliokit/http-hono').createFoliokitRouter,
  version: require('@foliokit/core/package.json').version,
};
async function main() {
  const store = await createSqliteStore({ filename: 'required.db' });
  const engine = createPortfolioEngine({ store, marketData: createSimulatedProvider({ seed: 7 }) });
  const p = await engine.createPortfolio({ name: 'Paper', initialCash: '10000' });
  await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 10 });
  let code = null;
  try {
    await engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: 11 });
  } catch (error) {
    if (isFoliokitError(error)) code = error.code;
  }
  const v = await engine.getValuation(p.id);
  await store.close();
  console.log(JSON.stringify({ ...entries, code, total: v.totals.totalValue }));
}
main();
`,
    );
    const { stdout } = await sh(process.execPath, ['quick-start.cjs'], app, 60_000);
    expect(JSON.parse(stdout.trim())).toMatchObject({
      sql: 'function',
      postgres: 'function',
      http: 'function',
      version: '0.1.0',
      code: 'INSUFFICIENT_QUANTITY',
      total: expect.stringMatching(/^\d+(\.\d+)?$/),
    });

    writeFileSync(
      join(app, 'every-entry.mjs'),
      `
const entries = ['@foliokit/core', '@foliokit/core/sql', '@foliokit/core/testing', '@foliokit/store-sqlite',
  '@foliokit/store-postgres', '@foliokit/providers', '@foliokit/http-hono'];
const sizes = {};
for (const e of entries) sizes[e] = Object.keys(await import(e)).length;
console.log(JSON.stringify(sizes));
`,
    );
    const every = JSON.parse((await sh(process.execPath, ['every-entry.mjs'], app, 60_000)).stdout.trim());
    for (const [entry, size] of Object.entries(every)) expect(size, entry).toBeGreaterThan(0);
  });

  it("runs a backtest in the installed core's worker thread (dist/backtest/worker.js), with a worker module", async () => {
    // A strategy of the app's, registered on the main thread and (as a worker module) in the worker.
    writeFileSync(
      join(app, 'my-strategy.mjs'),
      `
import { registerStrategy } from '@foliokit/core';
import { z } from 'zod';
registerStrategy({ name: 'first-bar', description: 'Buys on the first bar.', params: z.object({}),
  onBar(ctx) { if (ctx.index === 0) ctx.buy(); } });
`,
    );
    writeFileSync(
      join(app, 'backtest-worker.mjs'),
      `
import { threadId } from 'node:worker_threads';
import { createBacktestRunner, createPortfolioEngine } from '@foliokit/core';
import { createSimulatedProvider } from '@foliokit/providers';
import { createSqliteStore } from '@foliokit/store-sqlite';
import './my-strategy.mjs';
const store = await createSqliteStore({ filename: 'backtests.db' });
const engine = createPortfolioEngine({ store, marketData: createSimulatedProvider({ seed: 3 }) });
const runner = createBacktestRunner(engine, { workerModules: [new URL('./my-strategy.mjs', import.meta.url).href] });
const out = { mode: runner.stats().mode, main: threadId, runs: [] };
for (const strategy of ['sma-cross', 'first-bar']) {
  const run = await runner.submit({ strategy, symbols: ['AAPL'], from: '2024-01-01', to: '2024-06-30', initialCash: '10000' });
  const done = await runner.wait(run.id);
  out.runs.push({ status: done.status, error: done.error, execution: done.execution, bars: done.result?.bars, fills: done.result?.fills.length });
}
await runner.close();
await engine.close();
await store.close();
console.log(JSON.stringify(out));
`,
    );
    const { stdout } = await sh(process.execPath, ['backtest-worker.mjs'], app, 60_000);
    const out = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(out.mode).toBe('worker');
    expect(out.runs).toHaveLength(2);
    for (const run of out.runs) {
      expect(run).toMatchObject({ status: 'succeeded', error: null, execution: { mode: 'worker' } });
      expect(run.execution.threadId).not.toBe(out.main);
      expect(run.bars).toBeGreaterThan(100);
    }
    expect(out.runs[1].fills).toBe(1);
  });

  for (const resolution of ['NodeNext', 'bundler'] as const) {
    it(`type-checks the README's samples and every entry point under moduleResolution ${resolution}`, async () => {
      const dir = join(app, `tsc-${resolution}`);
      mkdirSync(dir, { recursive: true });
      const samples = readmeSamples();
      expect(samples.length).toBeGreaterThanOrEqual(2);
      for (const [i, code] of samples.entries()) writeFileSync(join(dir, `readme-${i}.ts`), `${code}\nexport {};\n`);
      writeFileSync(
        join(dir, 'entries.ts'),
        `
import { createPortfolioEngine, type FoliokitError, isFoliokitError, type Valuation } from '@foliokit/core';
import { createKyselyStore, guardStore, type KyselyStore } from '@foliokit/core/sql';
import { createManualClock } from '@foliokit/core/testing';
import { createFoliokitRouter } from '@foliokit/http-hono';
import { createSimulatedProvider } from '@foliokit/providers';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
const store = await createSqliteStore({ filename: ':memory:' });
const engine = createPortfolioEngine({ store, marketData: createSimulatedProvider({ seed: 1 }), clock: createManualClock() });
const v: Valuation = await engine.getValuation('pf_x').catch((e: unknown) => { if (isFoliokitError(e)) { const f: FoliokitError = e; throw f; } throw e; });
const total: string = v.totals.totalValue;
engine.on('trade.executed', (e) => { const q: string | null = e.transaction.quantity; void q; });
const router = createFoliokitRouter(engine, { auth: { development: true } });
export const used: unknown[] = [total, router, createKyselyStore, guardStore, createPostgresStore, null as KyselyStore | null];
`,
      );
      const options =
        resolution === 'NodeNext'
          ? { module: 'NodeNext', moduleResolution: 'NodeNext' }
          : { module: 'ESNext', moduleResolution: 'bundler' };
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            ...options,
            target: 'ES2022',
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
            typeRoots: [join(app, 'node_modules/@types')],
            lib: ['ES2023'],
          },
          include: ['*.ts'],
        }),
      );
      await sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
    });
  }
});

describe('the linters of published packages', () => {
  it('publint (warnings are errors) passes on every tarball', async () => {
    for (const pkg of PACKAGES) {
      await sh(join(root, 'node_modules/.bin/publint'), ['run', tarballOf(pkg), '--strict'], work);
    }
  });

  // The packages are ESM-only by design; the esm-only profile leaves out the `node10` and
  // `node16 (from CJS)` resolutions, which would flag that (a CommonJS app requires them at run time
  // on Node.js ≥ 20.19, tested above; the TypeScript that attw bundles predates require(esm)).
  it('are-the-types-wrong (esm-only profile) finds no problem in any tarball', async () => {
    for (const pkg of PACKAGES) {
      await sh(
        join(root, 'node_modules/.bin/attw'),
        [tarballOf(pkg), '--profile', 'esm-only', '--format', 'ascii'],
        work,
      );
    }
  });
});
