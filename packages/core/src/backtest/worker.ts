/**
 * The backtest worker thread (see `createBacktestRunner`). It imports the runner's `workerModules`
 * (which register users' strategies), answers `ready` with its thread id and the strategies it
 * knows, then replays one job at a time: `run` messages carry the request and the bars the main
 * thread loaded; `cancel` aborts the job. It posts throttled `progress`, then `done` or `error`.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { listStrategies } from './registry.js';
import type { WorkerInbound, WorkerOutbound } from './runner-protocol.js';
import { replayJob, runErrorOf } from './runner-replay.js';

if (!parentPort) throw new Error('worker.ts runs in a worker thread');
const port = parentPort;
const post = (message: WorkerOutbound): void => port.postMessage(message);

let current: { id: string; controller: AbortController } | null = null;

async function start(): Promise<void> {
  const modules: string[] = Array.isArray(workerData?.modules) ? workerData.modules : [];
  for (const specifier of modules) {
    try {
      await import(specifier);
    } catch (error) {
      post({ type: 'init-error', module: specifier, error: runErrorOf(error) });
      return;
    }
  }
  port.on('message', (message: WorkerInbound) => {
    if (message.type === 'cancel') {
      if (current?.id === message.id) current.controller.abort();
      return;
    }
    void run(message);
  });
  post({ type: 'ready', threadId, strategies: listStrategies().map((s) => s.name) });
}

async function run(message: Extract<WorkerInbound, { type: 'run' }>): Promise<void> {
  const controller = new AbortController();
  current = { id: message.id, controller };
  try {
    const result = await replayJob(
      message.job,
      (done, total) => post({ type: 'progress', id: message.id, done, total }),
      controller.signal,
    );
    post({ type: 'done', id: message.id, result });
  } catch (error) {
    post({ type: 'error', id: message.id, error: runErrorOf(error), aborted: controller.signal.aborted });
  } finally {
    if (current?.id === message.id) current = null;
  }
}

void start();
