/**
 * The API reference builds with typedoc, warnings treated as errors: every public export is
 * documented and reachable (`pnpm docs` writes it to docs/api).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'foliokit-api-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('typedoc builds the reference with no warning', async () => {
  const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
  await run(process.execPath, [typedoc, '--out', out, '--treatWarningsAsErrors'], {
    cwd: root,
    timeout: 240_000,
  }).catch((error) => {
    throw new Error(`typedoc failed:\n${error.stdout}\n${error.stderr}`);
  });
  expect(existsSync(join(out, 'index.html'))).toBe(true);
  expect(existsSync(join(out, 'modules'))).toBe(true);
  // Core's three doors are all documented: apps, store authors (/sql), tests and authors (/testing).
  for (const page of ['_foliokit_core.index', '_foliokit_core.sql', '_foliokit_core.testing']) {
    expect(existsSync(join(out, 'modules', `${page}.html`)), page).toBe(true);
  }
}, 300_000);
