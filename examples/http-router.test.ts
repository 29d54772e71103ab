/**
 * docs/http.md keeps its promises: its `ts runnable` samples type-check and run as pasted, each
 * `console.log(...); // expected` prints what its comment says, and its route, error-code and
 * metric tables list exactly what the router serves, what `ERROR_STATUS` maps and what the metrics
 * render.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createTestEngine } from '@foliokit/core/testing';
import { createFoliokitRouter, createMetrics, ERROR_STATUS, listRoutes } from '@foliokit/http-hono';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const doc = readFileSync(join(root, 'docs/http.md'), 'utf8');
const tsxLoader = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;

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

/** The code blocks marked `ts runnable`. */
function runnableSamples(): string[] {
  return [...doc.matchAll(/```ts runnable\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** Type errors of one file, checked with the repository's compiler options. */
function typeErrors(file: string): string[] {
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram([file], { ...parsed.options, noEmit: true });
  const source = program.getSourceFile(file);
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : '?';
    return `line ${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** What each `console.log(...); // expected` line of a sample says it prints, in order. */
function expectedOutput(code: string): RegExp[] {
  return [...code.matchAll(/console\.log\(.*\);\s*\/\/ (.+)$/gm)].map((m) => {
    const escaped = (m[1] as string).trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^${escaped.replace(/…/g, '\\S*')}$`);
  });
}

describe('docs/http.md', () => {
  it('has runnable samples that type-check and print what their comments say', async () => {
    const samples = runnableSamples();
    expect(samples.length, 'at least one ```ts runnable block').toBeGreaterThan(0);
    for (const [i, code] of samples.entries()) {
      // Beside this test, so the sample resolves @foliokit/* and hono as a user's file would.
      const file = join(here, `.http-doc-sample-${process.pid}-${i}.ts`);
      writeFileSync(file, code);
      try {
        expect(typeErrors(file), `type errors in runnable sample ${i + 1}`).toEqual([]);
        const { stdout } = await run(process.execPath, ['--import', tsxLoader, '--conditions=source', file], {
          cwd: here,
          timeout: 60_000,
        });
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
        .filter((route) => /^(GET|POST|PATCH|DELETE) \//.test(route));
      expect([...documented].sort()).toEqual([...served].sort());
    } finally {
      router.close();
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
