/**
 * Every code sample marked runnable (```ts runnable) in README.md and docs/*.md type-checks and runs
 * as pasted, and prints exactly what its `console.log(...); // expected` comments say, line by line
 * (`…` in a comment stands for a value that changes: an id, a simulated price). A sample that
 * throws, prints something else, or says nothing about what it prints fails.
 *
 * The samples of one page run in order, in one scratch folder of their own: a later sample may open
 * the file an earlier one wrote (getting-started reopens its SQLite file to show it persists).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedOutput, repositoryRoot, runnableSamples, runTs, typeErrors } from './support/samples.js';

const here = dirname(fileURLToPath(import.meta.url));

/** README.md and every page of docs/, relative to the repository root. */
const pages = [
  'README.md',
  ...readdirSync(join(repositoryRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

/** The runnable samples of each page that has some, with the line each starts on. */
const samplesByPage = pages
  .map((page) => {
    const text = readFileSync(join(repositoryRoot, page), 'utf8');
    const samples = runnableSamples(text).map((code) => ({
      code,
      line: text.slice(0, text.indexOf(code)).split('\n').length,
    }));
    return { page, samples };
  })
  .filter(({ samples }) => samples.length > 0);

/** Runs one sample from a file beside this test (so it resolves @foliokit/* as a user's file would). */
async function checkSample(page: string, code: string, line: number, cwd: string): Promise<void> {
  const slug = page.replace(/[^a-z0-9]+/gi, '-');
  const file = join(here, `.docs-sample-${process.pid}-${slug}-${line}.ts`);
  writeFileSync(file, code);
  try {
    expect(typeErrors(file), `type errors in the sample of ${page} at line ${line}`).toEqual([]);
    const expected = expectedOutput(code);
    expect(expected.length, `the sample of ${page} at line ${line} says what it prints`).toBeGreaterThan(0);
    const { stdout } = await runTs(file, { cwd });
    const printed = stdout.trimEnd().split('\n');
    expect(printed, `what the sample of ${page} at line ${line} printed`).toHaveLength(expected.length);
    for (const [n, text] of printed.entries()) expect(text).toMatch(expected[n] as RegExp);
  } finally {
    rmSync(file, { force: true });
  }
}

describe('runnable documentation samples', () => {
  it('are found where the guides promise them', () => {
    const found = samplesByPage.map(({ page }) => page);
    expect(found).toEqual(expect.arrayContaining(['docs/getting-started.md', 'docs/concepts.md']));
  });

  for (const { page, samples } of samplesByPage) {
    describe(page, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'foliokit-docs-'));
      afterAll(() => rmSync(cwd, { recursive: true, force: true }));
      for (const { code, line } of samples) {
        it(
          `runs the sample at line ${line} and prints what it says`,
          () => checkSample(page, code, line, cwd),
          120_000,
        );
      }
    });
  }
});
