import { FoliokitError } from '../errors.js';
import type { DailyBar, MarketDataProvider, Quote } from '../ports/index.js';
import { type Clock, systemClock, toIso } from '../time.js';

/** An in-memory provider for tests: set prices, make it fail, count calls. */
export interface TestProvider extends MarketDataProvider {
  setPrice(symbol: string, price: string): void;
  removePrice(symbol: string): void;
  setHistory(symbol: string, bars: DailyBar[]): void;
  /** While true, every call throws `PROVIDER_UNAVAILABLE`. */
  failing: boolean;
  /** Calls made to getQuotes. */
  quoteCalls: number;
}

/** Creates a {@link TestProvider}. Prices are decimal strings. */
export function createTestProvider(
  options: { prices?: Record<string, string>; history?: Record<string, DailyBar[]>; clock?: Clock; name?: string } = {},
): TestProvider {
  const prices = new Map(Object.entries(options.prices ?? {}));
  const history = new Map(Object.entries(options.history ?? {}));
  const clock = options.clock ?? systemClock;
  const name = options.name ?? 'test';
  const provider: TestProvider = {
    name,
    failing: false,
    quoteCalls: 0,
    setPrice: (s, p) => void prices.set(s, p),
    removePrice: (s) => void prices.delete(s),
    setHistory: (s, bars) => void history.set(s, bars),
    async getQuotes(symbols) {
      provider.quoteCalls++;
      if (provider.failing) throw new FoliokitError('PROVIDER_UNAVAILABLE', `${name} is down`);
      const quotes: Record<string, Quote> = {};
      const unknown: string[] = [];
      for (const s of symbols) {
        const price = prices.get(s);
        if (price === undefined) unknown.push(s);
        else quotes[s] = { symbol: s, price, at: toIso(clock.now()), currency: 'USD', source: name };
      }
      return { quotes, unknown };
    },
    async getDailyHistory(symbol, { from, to }) {
      if (provider.failing) throw new FoliokitError('PROVIDER_UNAVAILABLE', `${name} is down`);
      const bars = history.get(symbol);
      if (!bars) throw new FoliokitError('UNKNOWN_SYMBOL', `${name} does not know ${symbol}`, { symbol });
      return bars.filter((b) => b.day >= from && b.day <= to).sort((a, b) => (a.day < b.day ? -1 : 1));
    },
  };
  return provider;
}
