/**
 * docs/http.md keeps its promises: its `ts runnable` samples type-check and run as pasted, each
 * `console.log(...); // expected` prints what its comment says, and its route, error-code and
 * metric tables list exactly what the router serves, what `ERROR_STATUS` maps and what the metrics
 * render.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestEngine } from '@foliokit/core/testing';
import { createFoliokitRouter, createMetrics, ERROR_STATUS, listRoutes } from '@foliokit/http-hono';
import { describe, expect, it } from 'vitest';
import { expectedOutput, repositoryRoot, runnableSamples, runTs, typeErrors } from './support/samples.js';

const here = dirname(fileURLToPath(import.meta.url));
const doc = readFileSync(join(repositoryRoot, 'docs/http.md'), 'utf8');

/** The text of a `## title` section, up to the next `## ` heading. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `a "## ${title}" section in docs/http.md`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** The cells of every table row of `text` (header and separator rows included). */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, line.endsWith('|') ? -1 : undefined)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

describe('docs/http.md', () => {
  it('has runnable samples that type-check and print what their comments say', async () => {
    const samples = runnableSamples(doc);
    expect(samples.length, 'at least one ```ts runnable block').toBeGreaterThan(0);
    for (const [i, code] of samples.entries()) {
      // Beside this test, so the sample resolves @foliokit/* and hono as a user's file would.
      const file = join(here, `.http-doc-sample-${process.pid}-${i}.ts`);
      writeFileSync(file, code);
      try {
        expect(typeErrors(file), `type errors in runnable sample ${i + 1}`).toEqual([]);
        const { stdout } = await runTs(file, { cwd: here });
        const printed = stdout.trim().split('\n');
        const expected = expectedOutput(code);
        expect(expected.length, `sample ${i + 1} says what it prints`).toBeGreaterThan(0);
        expect(printed).toHaveLength(expected.length);
        for (const [n, line] of printed.entries()) expect(line).toMatch(expected[n] as RegExp);
      } finally {
        rmSync(file, { force: true });
      }
    }
  }, 120_000);

  it('lists every route the router serves, and no other', async () => {
    const test = createTestEngine();
    const router = createFoliokitRouter(test.engine, { auth: { resolve: async () => null } });
    try {
      const served = listRoutes(router).map((r) => `${r.method.toUpperCase()} ${r.path}`);
      const documented = tableRows(section('Routes'))
        .map(([method = '', path = '']) => `${method.replace(/`/g, '')} ${path.replace(/`/g, '')}`)
        .filter((route) => /^(GET|POST|PUT|PATCH|DELETE) \//.test(route));
      expect([...documented].sort()).toEqual([...served].sort());
    } finally {
      await router.close();
      await test.close();
    }
  });

  it('maps every error code to the status ERROR_STATUS gives it', () => {
    const documented = new Map<string, number>();
    for (const [status = '', codes = ''] of tableRows(section('Errors'))) {
      if (!/^\d{3}$/.test(status)) continue;
      for (const [, code] of codes.matchAll(/`([A-Z][A-Z_]+)`/g)) documented.set(code as string, Number(status));
    }
    expect(Object.fromEntries(documented)).toEqual({ ...ERROR_STATUS });
  });

  it('names every metric family the router renders, and no other', async () => {
    const test = createTestEngine();
    const metrics = createMetrics(test.engine);
    try {
      const rendered = Object.keys(metrics.render('json')).sort();
      const documented = tableRows(section('Metrics'))
        .map(([name = '']) => /^`(foliokit_[a-z_]+)`$/.exec(name)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
      expect(documented).toEqual(rendered);
    } finally {
      metrics.close();
      await test.close();
    }
  });
});
