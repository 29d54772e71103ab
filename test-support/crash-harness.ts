/**
 * The parent side of a crash test: runs children one after another, kills each with SIGKILL at a
 * random moment, and hands the acknowledged ledger ids to a check. The next children are started
 * while the current one trades (module loading is most of a child's start-up); each is told `go`,
 * and only then opens the store, once the previous one is dead and checked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A child entry point made runnable: the node arguments, and a cleanup. */
export interface PreparedChild {
  args: string[];
  /** Whether the entry was bundled (fast start) or runs through tsx (slow start). */
  bundled: boolean;
  dispose(): void;
}

/**
 * Bundles a TypeScript child entry with esbuild (tsx's own copy) into one ESM file next to it, so a
 * child starts in ~0.1 s instead of ~0.5 s through tsx — the crash tests start 60 of them. Packages
 * in `external` (native drivers) stay imports, resolved from the entry's package. Falls back to
 * `node --import tsx` when esbuild cannot be found.
 */
export async function prepareChild(entry: string, external: string[]): Promise<PreparedChild> {
  const outDir = join(dirname(entry), '.tmp');
  const outfile = join(outDir, `child-${process.pid}-${Date.now()}.mjs`);
  try {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
    const esbuild = fromTsx('esbuild') as { build(options: Record<string, unknown>): Promise<unknown> };
    mkdirSync(outDir, { recursive: true });
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['source'],
      external,
      logLevel: 'error',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    const dispose = () => {
      rmSync(outfile, { force: true });
      try {
        rmdirSync(outDir);
      } catch {
        // Another run's bundle is still there.
      }
    };
    return { args: [outfile], bundled: true, dispose };
  } catch {
    return { args: ['--import', 'tsx', '--conditions=source', entry], bundled: false, dispose: () => {} };
  }
}

/** One child run. */
export interface CrashRound {
  /** 0-based round number. */
  round: number;
  /** Ledger ids the child printed as acknowledged before it died. */
  acked: string[];
  /** How long after `go` the kill was sent, in ms. */
  killedAfterMs: number;
  /** Whether it was killed before it reported ready (during open or migrations). */
  beforeReady: boolean;
}

/** Options of {@link runCrashRounds}. */
export interface CrashOptions {
  /** Arguments after `node` (loader flags, script, its arguments). */
  args: string[];
  cwd: string;
  rounds: number;
  /** The kill lands uniformly in [0, maxTradingMs] after the child is ready. */
  maxTradingMs: number;
  /** Share of rounds killed right after `go`, before the store is open. @default 0.1 */
  earlyKillShare?: number;
  /** Children started ahead, loading their modules while the current one trades. @default 2 */
  prewarm?: number;
  /** Runs right before each kill (e.g. to observe open transactions). */
  beforeKill?: (round: number) => Promise<void>;
  /** Checks the database after each kill; throw to fail. */
  check: (r: CrashRound) => Promise<void>;
}

interface Child {
  proc: ChildProcess;
  lines: string[];
  stderr: string;
  ready: Promise<void>;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[], cwd: string): Child {
  const proc = spawn(process.execPath, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const child = { proc, lines: [] as string[], stderr: '' } as Child;
  let partial = '';
  let onReady: () => void = () => {};
  child.ready = new Promise((resolve) => {
    onReady = resolve;
  });
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    // Only complete lines count: a line cut by the kill was not acknowledged.
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line === 'ready') onReady();
      child.lines.push(line);
    }
  });
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    child.stderr += chunk;
  });
  proc.stdin?.on('error', () => {});
  child.closed = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the rounds; resolves with what each round saw. */
export async function runCrashRounds(options: CrashOptions): Promise<CrashRound[]> {
  const early = options.earlyKillShare ?? 0.1;
  const depth = Math.max(1, options.prewarm ?? 2);
  const out: CrashRound[] = [];
  const waiting: Child[] = [];
  let started = 0;
  const refill = () => {
    while (waiting.length < depth && started < options.rounds) {
      waiting.push(start(options.args, options.cwd));
      started++;
    }
  };
  let current: Child | undefined;
  try {
    refill();
    for (let round = 0; round < options.rounds; round++) {
      const child = waiting.shift() as Child;
      current = child;
      child.proc.stdin?.write('go\n');
      const goAt = performance.now();
      refill();
      const beforeReady = Math.random() < early;
      if (!beforeReady) {
        const ended = child.closed.then(() => 'closed' as const);
        if ((await Promise.race([child.ready.then(() => 'ready' as const), ended])) === 'closed') {
          throw new Error(`child ${round} exited before it was ready: ${child.stderr}`);
        }
        await sleep(Math.random() * options.maxTradingMs);
      }
      await options.beforeKill?.(round);
      const killedAfterMs = performance.now() - goAt;
      child.proc.kill('SIGKILL');
      const { code, signal } = await child.closed;
      if (signal !== 'SIGKILL') throw new Error(`child ${round} ended by itself (code ${code}): ${child.stderr}`);
      const acked = child.lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4));
      const r = { round, acked, killedAfterMs, beforeReady };
      await options.check(r);
      out.push(r);
    }
  } finally {
    for (const c of [current, ...waiting]) {
      if (c && c.proc.exitCode === null && c.proc.signalCode === null) {
        c.proc.kill('SIGKILL');
        await c.closed;
      }
    }
  }
  return out;
}
