import { defineConfig } from 'tsup';

/** The public entry points (with type declarations). */
const ENTRIES = ['src/index.ts', 'src/sql/index.ts', 'src/testing/index.ts'];

export default defineConfig({
  // The backtest worker thread is an entry of its own (dist/backtest/worker.js, found by the runner
  // relative to the bundle), sharing chunks with the rest; it has no type declarations.
  entry: [...ENTRIES, 'src/backtest/worker.ts'],
  format: ['esm'],
  dts: { entry: ENTRIES },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
