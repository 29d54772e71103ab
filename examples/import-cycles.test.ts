/**
 * No import cycles anywhere in the tree, type-only imports included: `pnpm lint` enforces it with
 * Biome's `noImportCycles`, and this test makes the README's test command (and so CI) enforce it too.
 * It also proves the rule bites: a pair of files importing each other must be reported.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');
const lint = (...paths: string[]) =>
  run(process.execPath, [biome, 'lint', '--only=suspicious/noImportCycles', '--max-diagnostics=50', ...paths], {
    cwd: root,
    timeout: 120_000,
  });

const scratch = mkdtempSync(join(root, 'packages/core/src/.cycle-probe-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('finds no import cycle in packages, examples, bench and test-support', async () => {
  await lint('packages', 'examples', 'bench', 'test-support').catch((error) => {
    throw new Error(`import cycles found:\n${error.stdout}\n${error.stderr}`);
  });
}, 150_000);

it('reports a cycle made only of type imports', async () => {
  writeFileSync(join(scratch, 'a.ts'), "import type { B } from './b.js';\nexport interface A { b?: B }\n");
  writeFileSync(join(scratch, 'b.ts'), "import type { A } from './a.js';\nexport interface B { a?: A }\n");
  const failure = await lint(scratch).then(
    () => null,
    (error: { stdout: string; stderr: string }) => `${error.stdout}${error.stderr}`,
  );
  expect(failure).toContain('noImportCycles');
}, 150_000);
