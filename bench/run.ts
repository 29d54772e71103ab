/**
 * `pnpm bench [filter]`: runs every bench/*.bench.ts (or those whose name contains `filter`) in
 * sequence and prints one table. Each bench measures foliokit beside a baseline in the same run,
 * so the ratios hold on any machine; absolute rates are this machine's.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** What the ratio compares against. */
  baseline?: string;
  /** value / baseline value (or goal ratio), when meaningful. */
  ratio?: number;
  /** Goal, in words ("≥ 0.6 of raw"). */
  goal?: string;
  /** Whether the goal is met. */
  pass?: boolean;
  note?: string;
}

export type Report = (row: BenchRow) => void;

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !filter || f.includes(filter))
  .sort();

const rows: Array<BenchRow & { file: string }> = [];
for (const file of files) {
  const started = performance.now();
  console.log(`\n▶ ${file}`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: (report: Report) => Promise<void> };
  await mod.default((row) => {
    rows.push({ ...row, file });
    const ratio = row.ratio === undefined ? '' : `  ratio ${row.ratio.toFixed(2)}`;
    const goal = row.goal ? `  goal ${row.goal} ${row.pass === undefined ? '' : row.pass ? '✓' : '✗'}` : '';
    console.log(
      `  ${row.name}: ${formatValue(row.value)} ${row.unit}${ratio}${goal}${row.note ? `  (${row.note})` : ''}`,
    );
  });
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

console.log('\nSummary');
console.table(
  rows.map((r) => ({
    bench: r.name,
    value: `${formatValue(r.value)} ${r.unit}`,
    ratio: r.ratio === undefined ? '' : r.ratio.toFixed(2),
    goal: r.goal ?? '',
    met: r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  })),
);
process.exit(0);

function formatValue(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}
