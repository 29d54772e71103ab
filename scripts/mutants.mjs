#!/usr/bin/env node
/**
 * `pnpm mutants`: proof that the tests bite. Each mutant is a known-bad change to the code (no row
 * lock, a plain BEGIN, reversed FIFO order, ...). For each one this script copies the repository to
 * a temporary folder (node_modules linked, never the original touched), applies the change there,
 * runs the tests that must catch it, and records whether they failed (caught) or passed (survived).
 * A mutant whose `find` text is not in its file exactly once is stale and fails the run loudly.
 * Before the mutants, each test selection runs once on an unchanged copy: a selection that fails
 * there proves nothing, and fails the run too.
 *
 *   node scripts/mutants.mjs                 every mutant, 2 at a time (those marked equivalent are listed, not run)
 *   node scripts/mutants.mjs fifo-order-reversed   the named mutants only (equivalent ones too)
 *   node scripts/mutants.mjs --list          names and files
 *   options: --jobs N (1..2), --no-baseline, --keep (leave the copies, print where)
 *
 * Exit 0 only when every selected mutant is caught.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** A test run longer than this is stopped and counted as caught (a hang fails the suite too). */
const RUN_TIMEOUT_MS = 5 * 60_000;

const SQLITE_NATIVE = 'packages/store-sqlite/src/native-path.ts';
const PLAN = 'packages/core/src/ledger/plan.ts';
const PG_NATIVE = 'packages/store-postgres/src/native-path.ts';

/**
 * The mutants. `tests` are vitest file paths (from the repository root); `testNamePattern`, when
 * given, runs only the tests whose name matches it (vitest's `-t`), to keep each run short.
 */
const MUTANTS = [
  {
    name: 'date-order-ignored',
    what: 'Ledger: a backdated entry is planned on the state as it stands (entry order), never re-planned in date order',
    file: 'packages/core/src/ledger/replan.ts',
    find: '  if (isBackdated(state.portfolio, cmd.executedAt)) {',
    replace: '  if (false) {',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'ledger in date order|ledger model',
  },
  {
    name: 'ties-out-of-entry-order',
    what: 'Ledger: a backdated entry lands before the entries already at its instant',
    file: 'packages/core/src/ledger/replan.ts',
    find: '.executedAt > inserted.executedAt) at--;',
    replace: '.executedAt >= inserted.executedAt) at--;',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'ledger in date order',
  },
  {
    name: 'stale-marks-skipped',
    what: 'SQL stores: snapshots after a backdated entry are not marked stale',
    file: 'packages/core/src/sql/ledger-sql.ts',
    find: '  if (write.staleFrom !== undefined) out.push(',
    replace: '  if (false) out.push(',
    tests: ['packages/store-sqlite/test/conformance.test.ts'],
    testNamePattern: 'ledger in date order',
  },
  {
    name: 'pg-row-lock-removed',
    what: 'PostgreSQL: the portfolio row is read without FOR NO KEY UPDATE',
    file: 'packages/core/src/sql/ledger-sql.ts',
    find: "lock: 'for no key update'",
    replace: "lock: ''",
    tests: ['packages/store-postgres/test/race.test.ts'],
  },
  {
    name: 'pg-trade-no-transaction',
    what: 'PostgreSQL: a trade runs without a transaction (no BEGIN; each statement commits alone)',
    file: PG_NATIVE,
    find: "const BEGIN: Stmt = { text: 'begin isolation level read committed' };",
    replace: "const BEGIN: Stmt = { text: 'select 1' };",
    tests: ['packages/store-postgres/test/race.test.ts'],
  },
  {
    name: 'pg-valuation-reads-apart',
    what: 'PostgreSQL: readPortfolioStates reads positions and then cash in two statements',
    file: 'packages/core/src/sql/kysely-states.ts',
    find: '    for (const r of result.rows) {\n      const list = r.open_positions',
    replace: [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of the mutant
      "    const apart = await sql<Record<string, unknown>>`select * from ${table('portfolios')} where id in (${sql.join(ids)})`.execute(db);",
      '    for (const first of result.rows) {',
      '      const r = { ...first, ...apart.rows.find((a) => a.id === first.id) } as typeof first;',
      '      const list = r.open_positions',
    ].join('\n'),
    tests: ['packages/store-postgres/test/consistent-read-deterministic.test.ts'],
  },
  {
    name: 'sqlite-trade-plain-begin',
    what: 'SQLite: the trade transaction begins with a plain (deferred) BEGIN instead of BEGIN IMMEDIATE',
    file: SQLITE_NATIVE,
    find: 'return locked(() => runChange.immediate(request, plan));',
    replace: 'return locked(() => runChange(request, plan));',
    tests: ['packages/store-sqlite/test/multi-process.test.ts'],
  },
  {
    name: 'sqlite-trade-no-transaction',
    what: 'SQLite: the trade runs its statements without a transaction',
    file: SQLITE_NATIVE,
    find: 'return locked(() => runChange.immediate(request, plan));',
    replace: 'return locked(() => change(request, plan));',
    tests: ['packages/store-sqlite/test/multi-process.test.ts', 'packages/store-sqlite/test/fault-injection.test.ts'],
  },
  {
    name: 'sqlite-writes-plain-begin',
    what: 'SQLite: non-trade writes (deletes, watchlist, snapshots, prices) begin with a plain BEGIN',
    file: 'packages/store-sqlite/src/kysely-dialect.ts',
    find: "CompiledQuery.raw('begin immediate')",
    replace: "CompiledQuery.raw('begin')",
    tests: ['packages/store-sqlite/test/multi-process-writes.test.ts'],
    // Not run by default (run it by name). SQLite retries the first write of a deferred transaction
    // through the busy handler while the transaction holds no read snapshot yet, and every
    // non-trade Kysely transaction writes before it reads: with two processes writing at once the
    // plain BEGIN behaves as BEGIN IMMEDIATE does. It becomes a live mutant as soon as such a
    // transaction reads first; the test below then catches it (it catches a missing busy timeout).
    equivalent: 'every non-trade transaction writes first; SQLite then waits on the busy timeout either way',
  },
  {
    name: 'sqlite-busy-timeout-removed',
    what: 'SQLite: no busy timeout (a writer fails at once while another process writes)',
    file: 'packages/store-sqlite/src/index.ts',
    find: 'database.pragma(`busy_timeout = ${',
    replace: 'database.pragma(`busy_timeout = ${0 * ',
    tests: ['packages/store-sqlite/test/multi-process-writes.test.ts'],
  },
  {
    name: 'fees-out-of-cost-basis',
    what: "A buy's fee is left out of the position's cost basis",
    file: PLAN,
    find: 'costBasis: fmt(heldCost.plus(cost)),',
    replace: 'costBasis: fmt(heldCost.plus(gross)),',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'trades|ledger model',
  },
  {
    name: 'buy-cash-boundary-gte',
    what: 'A buy costing exactly the cash held is refused (gt → gte)',
    file: PLAN,
    find: 'if (cost.gt(cash)) {',
    replace: 'if (cost.gte(cash)) {',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'trades|ledger model|race',
  },
  {
    name: 'withdraw-check-removed',
    what: 'A withdrawal larger than the cash held is accepted',
    file: PLAN,
    find: 'if (cmd.amount.gt(cash)) {',
    replace: 'if (false) {',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'cash|ledger model',
  },
  {
    name: 'sell-quantity-check-removed',
    what: 'A sell of more than the quantity held is accepted',
    file: PLAN,
    find: 'if (cmd.quantity.gt(held)) {',
    replace: 'if (false) {',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'ledger model',
  },
  {
    name: 'idempotency-conflict-explicit-price',
    what: 'A keyed trade with an explicit price replays the first answer for other parameters',
    file: 'packages/core/src/ledger/replan.ts',
    find: '  const replay = replayOrConflict(state, cmd.requestHash, cmd.idempotencyKey);\n  if (replay) return { write: null, outcome: replay };\n  let planned',
    replace: [
      "  const replay = cmd.type === 'trade' && state.existing",
      '    ? { transaction: state.existing, replayed: true }',
      '    : replayOrConflict(state, cmd.requestHash, cmd.idempotencyKey);',
      '  if (replay) return { write: null, outcome: replay };',
      '  let planned',
    ].join('\n'),
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'trades',
  },
  {
    name: 'fifo-order-reversed',
    what: 'A FIFO sell consumes the newest lot first',
    file: PLAN,
    find: 'for (const lot of state.lots) {',
    replace: 'for (const lot of [...state.lots].reverse()) {',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'ledger model',
  },
  {
    name: 'average-cost-of-whole-position',
    what: 'An average-cost sell removes the cost of the whole position',
    file: PLAN,
    find: 'divide(heldCost.times(cmd.quantity), held)',
    replace: 'heldCost',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'ledger model',
  },
  {
    name: 'sell-fee-added-to-proceeds',
    what: "A sell's fee is added to its proceeds instead of taken off",
    file: PLAN,
    find: 'const proceeds = gross.minus(cmd.fee);',
    replace: 'const proceeds = gross.plus(cmd.fee);',
    tests: ['packages/core/src/testing/memory-store.test.ts'],
    testNamePattern: 'ledger model',
  },
  {
    name: 'sma-cross-entry-at-start',
    what: 'Backtest: sma-cross buys on its first reading when fast is already above slow (no crossing)',
    file: 'packages/core/src/backtest/strategies/sma-cross.ts',
    find: '    if (!crossed) return;',
    replace: '',
    tests: ['packages/core/src/backtest/run.test.ts'],
  },
  {
    name: 'sma-cross-tie-is-a-side',
    what: 'Backtest: sma-cross treats equal SMAs as a side, so a touch signals',
    file: 'packages/core/src/backtest/strategies/sma-cross.ts',
    find: 'if (side === null || side === 0 || side === s.side) return;',
    replace: 'if (side === null || side === s.side) return;',
    tests: ['packages/core/src/backtest/run.test.ts'],
  },
  {
    name: 'alert-cool-down-ignored',
    what: 'Alerts: a crossing inside the cool-down fires',
    file: 'packages/core/src/alerts/evaluate.ts',
    find: '    if (t.row.coolDownUntil !== null && now < Date.parse(t.row.coolDownUntil)) return;',
    replace: '',
    tests: ['packages/core/src/alerts/alerts.test.ts'],
  },
  {
    name: 'alert-never-disarmed',
    what: 'Alerts: an alert fires on every update while its condition holds, not once per crossing',
    file: 'packages/core/src/alerts/evaluate.ts',
    find: '    if (!t.armed) return;',
    replace: '',
    tests: ['packages/core/src/alerts/alerts.test.ts'],
  },
  {
    name: 'alert-fired-without-claim',
    what: 'Alerts: an instance announces a fire even when another instance claimed it first',
    file: 'packages/core/src/alerts/evaluate.ts',
    find: 'if (await store.markAlertFired(t.row.id, at, until, t.row.lastFiredAt)) {',
    replace: 'if ((await store.markAlertFired(t.row.id, at, until, t.row.lastFiredAt)) || true) {',
    tests: ['packages/core/src/alerts/alerts.test.ts'],
  },
  {
    name: 'backtest-late-success-over-cancel',
    what: 'Backtest runner: a success arriving after a cancel is written over the cancelled state',
    file: 'packages/core/src/backtest/runner.ts',
    find: "await this.#finish(job.id, ['running'], 'succeeded', outcome.result);",
    replace: "await this.#finish(job.id, ['running', 'cancelled'], 'succeeded', outcome.result);",
    tests: ['packages/core/src/backtest/runner.test.ts'],
    testNamePattern: 'late success',
  },
  {
    name: 'http-backtest-owner-unchecked',
    what: "HTTP: another user's backtest run is answered",
    file: 'packages/http-hono/src/routes/backtests.ts',
    find: '  if (run.ownerId !== userId) throw backtestNotFound(id);',
    replace: '',
    tests: ['packages/http-hono/test/backtests.test.ts'],
  },
  {
    name: 'ws-portfolio-owner-unchecked',
    what: "WebSocket: a subscription to another user's portfolio channel is accepted",
    file: 'packages/http-hono/src/ws/hub.ts',
    find: '        if (ownerId !== user.userId || this.#deletedDuringChecks.has(channel.id)) {',
    replace: '        if (this.#deletedDuringChecks.has(channel.id)) {',
    tests: ['packages/http-hono/test/ws.test.ts'],
  },
];

// ----- command line ------------------------------------------------------------------------------

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const jobsAt = args.indexOf('--jobs');
const jobs = Math.min(2, Math.max(1, jobsAt >= 0 ? Number(args[jobsAt + 1]) || 1 : 2));
const names = args.filter((a, i) => !a.startsWith('--') && !(jobsAt >= 0 && i === jobsAt + 1));

if (flag('--list')) {
  for (const m of MUTANTS) console.log(`${m.name.padEnd(38)} ${m.file}\n${''.padEnd(38)} ${m.what}`);
  process.exit(0);
}
const unknown = names.filter((n) => !MUTANTS.some((m) => m.name === n));
if (unknown.length > 0) {
  console.error(`Unknown mutant(s): ${unknown.join(', ')} (see --list)`);
  process.exit(2);
}
/** Named mutants run even when marked equivalent; by default equivalent ones are listed, not run. */
const selected =
  names.length > 0 ? MUTANTS.filter((m) => names.includes(m.name)) : MUTANTS.filter((m) => !m.equivalent);
const equivalent = names.length > 0 ? [] : MUTANTS.filter((m) => m.equivalent);

// ----- copies ------------------------------------------------------------------------------------

/** Top-level entries never copied (version control, caches, build output of test runs). */
const SKIP = new Set(['.git', 'node_modules', '.tmp', 'coverage']);
const copies = new Set();

/**
 * Copies the repository into a fresh temporary folder. Sources are copied; every `node_modules` is
 * recreated with pnpm's symlinks kept verbatim (relative, so workspace packages resolve to the
 * copy's own packages), and the root's `.pnpm` store is one symlink to the original.
 */
function copyRepository() {
  const dir = mkdtempSync(join(tmpdir(), 'foliokit-mutant-'));
  copies.add(dir);
  cpSync(ROOT, dir, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => {
      const rel = relative(ROOT, src);
      if (rel === '') return true;
      const parts = rel.split(/[\\/]/);
      if (parts.length === 1 && SKIP.has(parts[0])) return false;
      return !parts.includes('node_modules') && !parts.includes('.tmp');
    },
  });
  linkNodeModules(ROOT, dir);
  return dir;
}

/** Recreates each `node_modules` of the tree under `from` inside `to`. */
function linkNodeModules(from, to) {
  const root = join(from, 'node_modules');
  mkdirSync(join(to, 'node_modules'));
  for (const entry of readdirSync(root)) {
    if (entry === '.vite' || entry === '.vite-temp') continue;
    if (entry === '.pnpm') symlinkSync(join(root, '.pnpm'), join(to, 'node_modules', '.pnpm'), 'dir');
    else cpSync(join(root, entry), join(to, 'node_modules', entry), { recursive: true, verbatimSymlinks: true });
  }
  for (const group of ['packages', 'examples']) {
    const base = join(from, group);
    if (!existsSync(base)) continue;
    const dirs = group === 'packages' ? readdirSync(base).map((d) => join(base, d)) : [base];
    for (const d of dirs) {
      const nm = join(d, 'node_modules');
      if (!existsSync(nm)) continue;
      cpSync(nm, join(to, relative(from, nm)), { recursive: true, verbatimSymlinks: true });
    }
  }
}

function removeCopy(dir) {
  rmSync(dir, { recursive: true, force: true });
  copies.delete(dir);
}

// ----- running -----------------------------------------------------------------------------------

const running = new Set();

/** Runs vitest on `tests` inside `dir`; resolves with the exit code (null on a timeout) and output. */
function runTests(dir, tests, testNamePattern) {
  const vitest = join(dir, 'node_modules', 'vitest', 'vitest.mjs');
  const argv = [vitest, 'run', ...tests, '--reporter=dot'];
  if (testNamePattern) argv.push('-t', testNamePattern);
  return new Promise((done) => {
    const child = spawn(process.execPath, argv, {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    running.add(child);
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, RUN_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      done({ code: timedOut ? null : code, output });
    });
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Applies `m` to the copy at `dir`; throws when its `find` is not there exactly once. */
function applyMutant(dir, m) {
  const path = join(dir, m.file);
  const text = readFileSync(path, 'utf8');
  const count = text.split(m.find).length - 1;
  if (count !== 1) throw new Error(`stale mutant ${m.name}: its find text occurs ${count} times in ${m.file}`);
  writeFileSync(
    path,
    text.replace(m.find, () => m.replace),
  );
}

/** Checks every selected mutant against the original tree before anything runs. */
function staleMutants() {
  const stale = [];
  for (const m of selected) {
    const path = join(ROOT, m.file);
    const count = existsSync(path) ? readFileSync(path, 'utf8').split(m.find).length - 1 : -1;
    if (count !== 1)
      stale.push(`${m.name}: find text ${count < 0 ? 'file missing' : `occurs ${count} times`} in ${m.file}`);
  }
  return stale;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of results. */
async function pool(items, limit, work) {
  const results = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

const selectionKey = (m) => JSON.stringify([m.tests, m.testNamePattern ?? null]);
const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;
const lastLines = (text, n = 25) => text.trimEnd().split('\n').slice(-n).join('\n');
/** The names of the failed tests in a vitest output (its ` FAIL  file > ... > test` lines). */
const failedTests = (text) => [
  ...new Set(
    text
      .split('\n')
      .filter((l) => /^\s*FAIL\s/.test(l) && l.includes(' > '))
      .map((l) => l.replace(/^\s*FAIL\s+/, '').trim()),
  ),
];

function cleanup() {
  for (const child of running) killGroup(child);
  if (!flag('--keep')) for (const dir of copies) rmSync(dir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

async function main() {
  const stale = staleMutants();
  if (stale.length > 0) {
    console.error(`Stale mutants (their find text must occur exactly once; update them):\n  ${stale.join('\n  ')}`);
    return 1;
  }
  const started = Date.now();
  let failed = false;

  if (!flag('--no-baseline')) {
    const selections = [...new Map(selected.map((m) => [selectionKey(m), m])).values()];
    console.log(`Baseline: ${selections.length} test selection(s) on an unchanged copy, ${jobs} at a time`);
    const baseline = await pool(selections, jobs, async (m) => {
      const dir = copyRepository();
      try {
        const t0 = Date.now();
        const r = await runTests(dir, m.tests, m.testNamePattern);
        return { m, ...r, ms: Date.now() - t0 };
      } finally {
        if (!flag('--keep')) removeCopy(dir);
      }
    });
    for (const b of baseline) {
      const label = `${b.m.tests.join(' ')}${b.m.testNamePattern ? ` -t "${b.m.testNamePattern}"` : ''}`;
      if (b.code === 0) console.log(`  pass  ${seconds(b.ms).padStart(6)}  ${label}`);
      else {
        failed = true;
        console.log(`  FAIL  ${seconds(b.ms).padStart(6)}  ${label}\n${lastLines(b.output)}`);
      }
    }
    if (failed) {
      console.error('\nThe tests fail without any mutant: no mutant result would mean anything. Fix them first.');
      return 1;
    }
  }

  console.log(`\nMutants: ${selected.length}, ${jobs} at a time`);
  const results = await pool(selected, jobs, async (m) => {
    const dir = copyRepository();
    try {
      applyMutant(dir, m);
      const t0 = Date.now();
      const r = await runTests(dir, m.tests, m.testNamePattern);
      const ms = Date.now() - t0;
      const verdict = r.code === 0 ? 'SURVIVED' : r.code === null ? 'caught (timeout)' : 'caught';
      console.log(`  ${verdict.padEnd(16)} ${seconds(ms).padStart(6)}  ${m.name}`);
      if (r.code === 0) console.log(lastLines(r.output, 8));
      else for (const t of failedTests(r.output).slice(0, 3)) console.log(`      by ${t}`);
      return { m, verdict, ms, dir };
    } catch (error) {
      console.log(`  ERROR            ${m.name}: ${error.message}`);
      return { m, verdict: 'ERROR', ms: 0, dir };
    } finally {
      if (flag('--keep')) console.log(`    copy kept at ${dir}`);
      else removeCopy(dir);
    }
  });

  const testNames = (m) => m.tests.map((t) => t.split('/').pop()).join(', ');
  const rows = results.map((r) => [r.m.name, r.verdict, seconds(r.ms), testNames(r.m)]);
  for (const m of equivalent) rows.push([m.name, 'equivalent, not run', '-', testNames(m)]);
  const head = ['mutant', 'result', 'time', 'tests'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  const caught = results.filter((r) => r.verdict.startsWith('caught')).length;
  console.log(`\n${caught}/${results.length} mutants caught in ${seconds(Date.now() - started)}`);
  for (const m of equivalent) console.log(`Equivalent (run it by name to check): ${m.name}: ${m.equivalent}`);
  return caught === results.length ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} finally {
  cleanup();
}
process.exit(code);
