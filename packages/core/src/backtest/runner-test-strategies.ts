/**
 * Strategies for the runner's tests (not part of the package's API): a module both the test and
 * the runner's workers import (`workerModules`). `runner-exit` ends its worker thread on its first
 * bar (on the main thread it throws instead); `runner-stuck` never returns from its first bar in a
 * worker, so a cancel must terminate the thread.
 */
import { isMainThread } from 'node:worker_threads';
import { z } from 'zod';
import { getStrategy, registerStrategy } from './registry.js';
import { defineStrategy } from './strategy.js';

const none = z.strictObject({});

const exit = defineStrategy({
  name: 'runner-exit',
  description: 'Test: exits its worker thread on the first bar.',
  params: none,
  onBar() {
    if (isMainThread) throw new Error('runner-exit runs in a worker only');
    process.exit(7);
  },
});

const stuck = defineStrategy({
  name: 'runner-stuck',
  description: 'Test: never returns from its first bar in a worker.',
  params: none,
  onBar() {
    if (isMainThread) throw new Error('runner-stuck runs in a worker only');
    for (;;) {
      // spins until the thread is terminated
    }
  },
});

for (const strategy of [exit, stuck]) {
  try {
    getStrategy(strategy.name);
  } catch {
    registerStrategy(strategy);
  }
}
