/**
 * The replay of a backtest run, shared by the worker thread and the runner's inline mode: the bars
 * were loaded on the main thread; here they are served by an in-memory provider to `runBacktest`,
 * once for a single run or once per variant of a comparison, with throttled progress.
 */
import { FoliokitError, isFoliokitError } from '../errors.js';
import type { DailyBar, MarketDataProvider } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import { type BacktestResult, runBacktest } from './run.js';
import type { BacktestCompareRequest, BacktestComparison, BacktestRequest, BacktestRunError } from './runner-types.js';

/** What a replay needs: the run's kind and request, and every symbol's bars by (normalised) symbol. */
export interface ReplayJob {
  kind: 'single' | 'compare';
  request: BacktestRequest | BacktestCompareRequest;
  bars: Record<string, DailyBar[]>;
  /** The name of the provider the bars came from (in `runBacktest`'s bar validation messages). */
  source: string;
}

/** Progress reports of one replay at most (compared variants count together). */
export const MAX_PROGRESS_REPORTS = 100;

/** A provider over bars already loaded: `getDailyHistory` answers them (within the range asked). */
export function barsProvider(bars: Record<string, DailyBar[]>, name: string): MarketDataProvider {
  return {
    name,
    async getQuotes() {
      throw new FoliokitError('PRICE_UNAVAILABLE', 'A backtest replay has no live quotes');
    },
    async getDailyHistory(symbol, range) {
      const own = bars[symbol] ?? bars[normalizeSymbol(symbol, 'symbol')];
      if (own === undefined) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `No bars were loaded for ${symbol}`, { field: 'symbol', symbol });
      }
      return own.filter((b) => b.day >= range.from && b.day <= range.to);
    },
  };
}

/** The label of each variant: its own, else its strategy's name (numbered when names repeat). */
export function variantLabels(variants: BacktestCompareRequest['variants']): string[] {
  const counts = new Map<string, number>();
  for (const v of variants) counts.set(v.strategy, (counts.get(v.strategy) ?? 0) + 1);
  return variants.map(
    (v, i) => v.label ?? ((counts.get(v.strategy) ?? 0) > 1 ? `${v.strategy} #${i + 1}` : v.strategy),
  );
}

/** The request of one variant of a comparison: the shared fields with the variant's strategy and params. */
export function variantRequest(
  request: BacktestCompareRequest,
  variant: BacktestCompareRequest['variants'][number],
): BacktestRequest {
  const { variants: _variants, ...shared } = request;
  return { ...shared, strategy: variant.strategy, ...(variant.params === undefined ? {} : { params: variant.params }) };
}

/**
 * Replays a job: `runBacktest` over the loaded bars (each variant in turn for a comparison).
 * `onProgress` gets at most about {@link MAX_PROGRESS_REPORTS} calls, in order, the last at
 * `done === total`.
 */
export async function replayJob(
  job: ReplayJob,
  onProgress: (done: number, total: number) => void,
  signal: AbortSignal,
): Promise<BacktestResult | BacktestComparison> {
  const marketData = barsProvider(job.bars, job.source);
  let last = -1;
  const report = (done: number, total: number): void => {
    const step = Math.max(1, Math.ceil(total / MAX_PROGRESS_REPORTS));
    if (done === total ? done === last : done - Math.max(last, 0) < step) return;
    last = done;
    onProgress(done, total);
  };
  if (job.kind === 'single') {
    return runBacktest({
      ...(job.request as BacktestRequest),
      marketData,
      signal,
      onProgress: (p) => report(p.done, p.total),
    });
  }
  const request = job.request as BacktestCompareRequest;
  const labels = variantLabels(request.variants);
  const n = request.variants.length;
  const out: BacktestComparison = { variants: [] };
  for (const [i, variant] of request.variants.entries()) {
    const result = await runBacktest({
      ...variantRequest(request, variant),
      marketData,
      signal,
      // Every variant replays the same bars: the whole comparison is n times one variant's total.
      onProgress: (p) => report(i * p.total + p.done, n * p.total),
    });
    out.variants.push({ label: labels[i] as string, strategy: result.strategy, params: result.params, result });
  }
  return out;
}

/** A run's error as stored: a FoliokitError's code, message and details; anything else `INTERNAL_ERROR`. */
export function runErrorOf(error: unknown): BacktestRunError {
  if (isFoliokitError(error)) {
    const details = jsonSafe(error.details);
    return { code: error.code, message: error.message, ...(details ? { details } : {}) };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'INTERNAL_ERROR', message };
}

/** Details reduced to what JSON keeps (a cause or a function is dropped); undefined when empty. */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> | undefined {
  try {
    const copy = JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
    return Object.keys(copy).length > 0 ? copy : undefined;
  } catch {
    return undefined;
  }
}
