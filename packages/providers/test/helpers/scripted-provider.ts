import {
  type CallOptions,
  type DailyBar,
  FoliokitError,
  type MarketDataProvider,
  type Quote,
  type QuoteBatch,
} from '@foliokit/core';

/** What a scripted provider does on one call: answer, throw, or wait for the test to release it. */
export type Step = 'ok' | 'hang' | FoliokitError | Error | ((call: SeenCall) => Promise<unknown> | unknown);

export interface SeenCall {
  operation: 'getQuotes' | 'getDailyHistory';
  symbols: readonly string[];
  signal: AbortSignal | undefined;
  at: number;
}

export interface ScriptedProvider extends MarketDataProvider {
  calls: SeenCall[];
  /** Steps used in order; when they run out, `fallback` is used. */
  script: Step[];
  fallback: Step;
  prices: Record<string, string>;
  history: Record<string, DailyBar[]>;
}

/** An upstream provider for wrapper tests, driven by a script of steps. */
export function createScriptedProvider(
  name: string,
  prices: Record<string, string> = { AAPL: '100' },
): ScriptedProvider {
  const provider: ScriptedProvider = {
    name,
    calls: [],
    script: [],
    fallback: 'ok',
    prices,
    history: {},
    async getQuotes(symbols: readonly string[], options?: CallOptions): Promise<QuoteBatch> {
      const call: SeenCall = { operation: 'getQuotes', symbols: [...symbols], signal: options?.signal, at: Date.now() };
      const custom = await run(call);
      if (custom !== undefined) return custom as QuoteBatch;
      const quotes: Record<string, Quote> = {};
      const unknown: string[] = [];
      for (const symbol of symbols) {
        const price = provider.prices[symbol];
        if (price === undefined) unknown.push(symbol);
        else quotes[symbol] = { symbol, price, at: '2025-03-10T15:00:00.000Z', currency: 'USD', source: name };
      }
      return { quotes, unknown };
    },
    async getDailyHistory(symbol: string, range: { from: string; to: string }, options?: CallOptions) {
      const call: SeenCall = {
        operation: 'getDailyHistory',
        symbols: [symbol],
        signal: options?.signal,
        at: Date.now(),
      };
      const custom = await run(call);
      if (custom !== undefined) return custom as DailyBar[];
      const bars = provider.history[symbol];
      if (!bars) throw new FoliokitError('UNKNOWN_SYMBOL', `${name} does not know ${symbol}`, { symbol });
      return bars.filter((b) => b.day >= range.from && b.day <= range.to);
    },
  };

  async function run(call: SeenCall): Promise<unknown> {
    provider.calls.push(call);
    const step = provider.script.length > 0 ? (provider.script.shift() as Step) : provider.fallback;
    if (step === 'ok') return undefined;
    if (step === 'hang') {
      return new Promise((_, reject) => {
        call.signal?.addEventListener('abort', () => reject(new Error('aborted by signal')), { once: true });
      });
    }
    if (step instanceof Error) throw step;
    return step(call);
  }
  return provider;
}

export const unavailable = (): FoliokitError => new FoliokitError('PROVIDER_UNAVAILABLE', 'down', { status: 503 });
