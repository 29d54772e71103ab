/**
 * The README's promises: its quick start, pasted into a file, runs; the quick-start script leaves a
 * portfolio that a second run finds again; the demo command starts the example server (its bin; the
 * server itself is tested in examples/paper-trading-server/test).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const work = mkdtempSync(join(tmpdir(), 'foliokit-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// tsx resolved from the repository, so the child can run from a scratch folder.
const tsxLoader = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;

function tsx(file: string, env: Record<string, string> = {}) {
  return run(process.execPath, ['--import', tsxLoader, '--conditions=source', file], {
    cwd: work,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

describe('README', () => {
  it('quick start runs as pasted', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Quick start'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, 'a ts block under "## Quick start"').toBeTruthy();
    const file = join(here, `.readme-quickstart-${process.pid}.ts`);
    writeFileSync(file, code as string);
    try {
      const { stdout } = await tsx(file);
      expect(stdout).toContain('INSUFFICIENT_QUANTITY');
      const last = stdout.trim().split('\n').pop() as string;
      const [cash, marketValue, total] = last.split(' ');
      expect(Number(cash)).toBeGreaterThan(0);
      expect(Number(marketValue)).toBeGreaterThan(0);
      expect(total).toMatch(/^\d+(\.\d+)?$/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('the demo command is the example server, whose bin is installed', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.demo).toBe('foliokit-paper-trading');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('npx -y pnpm@10.34.9 install --frozen-lockfile && npx -y pnpm@10.34.9 demo');
    expect(readFileSync(join(root, 'node_modules', '.bin', 'foliokit-paper-trading'), 'utf8').length).toBeGreaterThan(
      0,
    );
  });

  it('the quick-start script creates a persistent portfolio and finds it again', async () => {
    const db = join(work, 'demo.db');
    const first = await tsx(join(here, 'quickstart.ts'), { FOLIOKIT_DEMO_DB: db });
    const id = /Portfolio Demo \((pf_\w+)\)/.exec(first.stdout)?.[1];
    expect(id).toBeTruthy();
    expect(first.stdout).toContain('Valuation');
    const second = await tsx(join(here, 'quickstart.ts'), { FOLIOKIT_DEMO_DB: db });
    expect(second.stdout).toContain(`Portfolio Demo (${id})`);
  });
});
