/** The messages between the backtest runner and its worker threads (internal). */

import type { BacktestResult } from './run.js';
import type { ReplayJob } from './runner-replay.js';
import type { BacktestComparison, BacktestRunError } from './runner-types.js';

/** Main thread → worker. */
export type WorkerInbound = { type: 'run'; id: string; job: ReplayJob } | { type: 'cancel'; id: string };

/** Worker → main thread. */
export type WorkerOutbound =
  | { type: 'ready'; threadId: number; strategies: string[] }
  | { type: 'init-error'; module: string; error: BacktestRunError }
  | { type: 'progress'; id: string; done: number; total: number }
  | { type: 'done'; id: string; result: BacktestResult | BacktestComparison }
  | { type: 'error'; id: string; error: BacktestRunError; aborted: boolean };
