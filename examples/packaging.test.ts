/**
 * Packaging: every package builds with tsup to dist/ with .d.ts files, and a consumer outside the
 * workspace — plain Node.js ESM resolution, no `source` condition, TypeScript with NodeNext —
 * imports every export of every package.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['core', 'store-sqlite', 'store-postgres', 'providers'];
const consumer = mkdtempSync(join(tmpdir(), 'foliokit-consumer-'));
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

beforeAll(async () => {
  for (const pkg of PACKAGES) {
    await run(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], {
      cwd: join(root, 'packages', pkg),
      timeout: 120_000,
    });
  }
  mkdirSync(join(consumer, 'node_modules/@foliokit'), { recursive: true });
  for (const pkg of PACKAGES) {
    symlinkSync(join(root, 'packages', pkg), join(consumer, 'node_modules/@foliokit', pkg), 'dir');
  }
  // A Node.js consumer has Node's types (AbortSignal, fetch appear in the public .d.ts files).
  mkdirSync(join(consumer, 'node_modules/@types'), { recursive: true });
  symlinkSync(join(root, 'node_modules/@types/node'), join(consumer, 'node_modules/@types/node'), 'dir');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
}, 300_000);

describe('packages as a consumer sees them', () => {
  it('every export map entry resolves to built ESM with types', () => {
    for (const pkg of PACKAGES) {
      const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
      expect(manifest.type).toBe('module');
      for (const [entry, target] of Object.entries<Record<string, string>>(manifest.exports)) {
        expect(Object.keys(target)[0], `${pkg} ${entry}: the source condition comes first, then types`).toBe('source');
        expect(Object.keys(target)[1]).toBe('types');
        readFileSync(join(root, 'packages', pkg, target.types as string));
        readFileSync(join(root, 'packages', pkg, target.import as string));
      }
    }
  });

  it('plain Node.js imports each package and uses the engine end to end', async () => {
    writeFileSync(
      join(consumer, 'main.mjs'),
      `
import * as core from '@foliokit/core';
import * as testing from '@foliokit/core/testing';
import * as storeSql from '@foliokit/core/sql';
import * as sqlite from '@foliokit/store-sqlite';
import * as postgres from '@foliokit/store-postgres';
import * as providers from '@foliokit/providers';
const store = await sqlite.createSqliteStore({ filename: ':memory:' });
const engine = core.createPortfolioEngine({ store, marketData: providers.createSimulatedProvider({ seed: 1 }) });
const p = await engine.createPortfolio({ name: 'outside', initialCash: '1000' });
const t = await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '1.5' });
console.log(JSON.stringify({
  kind: t.kind,
  core: Object.keys(core).length, testing: typeof testing.runStoreConformance,
  sql: [typeof storeSql.createKyselyStore, typeof storeSql.guardStore, typeof storeSql.assembleLedgerState],
  postgres: typeof postgres.createPostgresStore, providers: Object.keys(providers).length,
}));
await store.close();
`,
    );
    // A consumer's process, not a vitest worker: none of vitest's variables.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: consumer, env, timeout: 60_000 });
    const out = JSON.parse(stdout.trim());
    expect(out).toMatchObject({ kind: 'buy', testing: 'function', postgres: 'function' });
    expect(out.sql).toEqual(['function', 'function', 'function']);
    expect(out.core).toBeGreaterThan(20);
    expect(out.providers).toBeGreaterThan(5);
  });

  it('TypeScript (NodeNext, strict) type-checks a consumer against the published .d.ts', async () => {
    writeFileSync(
      join(consumer, 'main.ts'),
      `
import { createPortfolioEngine, type Valuation, type FoliokitError, isFoliokitError } from '@foliokit/core';
import { createManualClock } from '@foliokit/core/testing';
import { createKyselyStore, guardStore, type KyselyStore, type LedgerRead } from '@foliokit/core/sql';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { createSimulatedProvider } from '@foliokit/providers';
const store = await createSqliteStore({ filename: ':memory:' });
const engine = createPortfolioEngine({ store, marketData: createSimulatedProvider({ seed: 1 }), clock: createManualClock() });
const v: Valuation = await engine.getValuation('pf_x').catch((e: unknown) => { if (isFoliokitError(e)) { const f: FoliokitError = e; throw f; } throw e; });
const total: string = v.totals.totalValue;
engine.on('trade.executed', (e) => { const q: string | null = e.transaction.quantity; void q; });
const forAuthors: [typeof createKyselyStore, typeof guardStore, KyselyStore | LedgerRead | null] = [createKyselyStore, guardStore, null];
export { forAuthors, total };
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          lib: ['ES2023'],
        },
        files: ['main.ts'],
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer, timeout: 120_000 }).catch((error) => {
      throw new Error(`tsc failed:\n${error.stdout}\n${error.stderr}`);
    });
  });
});
