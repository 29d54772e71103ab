/**
 * Runnable documentation samples: the code blocks of a markdown page marked `ts runnable`, what each
 * says it prints (`console.log(...); // expected`), the type errors of a sample file, and running
 * one as a user would (tsx, with the `source` export condition so no build is needed).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);

/** The repository root. */
export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** tsx resolved from the repository, so a sample runs from any working directory. */
const tsxLoader = pathToFileURL(createRequire(join(repositoryRoot, 'package.json')).resolve('tsx')).href;

/** The code blocks of `markdown` marked `ts runnable`, in page order. */
export function runnableSamples(markdown: string): string[] {
  return [...markdown.matchAll(/```ts runnable\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/**
 * What each `console.log(...); // expected` line of a sample says it prints, in order. The comment
 * is matched as a whole line; `…` stands for any run of non-space characters (an id, a price).
 */
export function expectedOutput(code: string): RegExp[] {
  return [...code.matchAll(/console\.log\(.*\);\s*\/\/ (.+)$/gm)].map((m) => {
    const escaped = (m[1] as string).trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`^${escaped.replace(/…/g, '\\S*')}$`);
  });
}

/** Type errors of one file, checked with the repository's compiler options. */
export function typeErrors(file: string): string[] {
  const config = ts.readConfigFile(join(repositoryRoot, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repositoryRoot);
  const program = ts.createProgram([file], { ...parsed.options, noEmit: true });
  const source = program.getSourceFile(file);
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : '?';
    return `line ${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/**
 * Runs a TypeScript file with tsx and the `source` condition in `cwd`; resolves with its output,
 * rejects (with the child's stderr) when it exits non-zero or runs past `timeoutMs`.
 */
export async function runTs(
  file: string,
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', tsxLoader, '--conditions=source', file], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 60_000,
  });
}
