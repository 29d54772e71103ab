/**
 * The provider conformance suite: what every `MarketDataProvider` does, whoever wrote it. Every
 * built-in provider of `@foliokit/providers` runs it, and a third-party provider can too.
 *
 * @example
 * ```ts
 * // my-feed.test.ts
 * import { runProviderConformance } from '@foliokit/core/testing';
 * runProviderConformance({
 *   name: 'my-feed',
 *   create: () => createMyFeed({ baseUrl: server.url }),
 *   knownSymbols: ['AAPL', 'MSFT'],
 *   historyRange: { from: '2025-01-01', to: '2025-01-31' },
 *   skip: { abort: 'my-feed answers from memory and takes no signal' },
 * });
 * ```
 */
import type { MarketDataProvider } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import { validateBars, validateQuote } from '../prices/validate.js';
import { nextDay, parseDay } from '../time.js';
import { codeOf } from './harness.js';
import { type Vitest, vitest } from './runtime.js';

/** The checks of the suite, by id; any of them can be skipped with a stated reason. */
export const PROVIDER_CONFORMANCE_CHECKS = [
  'name',
  'quotes',
  'emptyQuotes',
  'history',
  'narrowerRange',
  'unknownHistory',
  'emptyRange',
  'malformedRange',
  'abort',
  'searchSymbols',
] as const;

/** The id of one check of {@link runProviderConformance}. */
export type ProviderConformanceCheck = (typeof PROVIDER_CONFORMANCE_CHECKS)[number];

/** Options of {@link runProviderConformance}. */
export interface ProviderConformanceOptions {
  /** Shown in test names. */
  name: string;
  /** A fresh provider. Called once per test, inside the test (so servers started in `beforeAll` are up). */
  create: () => MarketDataProvider | Promise<MarketDataProvider>;
  /** Normalised symbols the provider quotes, each with at least one bar in `historyRange`. */
  knownSymbols: readonly string[];
  /** A symbol the provider does not know. @default 'FOLIOKIT-UNKNOWN' */
  unknownSymbol?: string;
  /** A range of days with bars for every known symbol (two or more for the narrower-range check). */
  historyRange: { from: string; to: string };
  /**
   * Checks to skip, each with the reason (shown in the report as a skip, never counted as passed).
   * A provider without the optional `searchSymbols` has that check skipped on its own.
   * @example `{ abort: 'answers from memory synchronously' }`
   */
  skip?: Partial<Record<ProviderConformanceCheck, string>>;
  /** The author's own tests, registered inside the suite's `describe` with the same `create`. */
  extend?: (create: () => Promise<MarketDataProvider>) => void;
}

type Context = Vitest.TestContext;

/**
 * Registers the provider conformance suite with vitest. Call it at the top level of a test file.
 *
 * It checks, against the `MarketDataProvider` port: a name; quotes keyed by normalised symbol with
 * positive decimal-string prices, UTC ISO-8601 instants and a source; unknown symbols listed in
 * `unknown`; an empty batch for no symbols; daily bars valid, strictly ascending and inside the
 * range, and only those of a narrower range; `UNKNOWN_SYMBOL` for an unknown symbol's history;
 * `[]` for an empty range; `VALIDATION_FAILED` for a malformed one; an already aborted signal
 * honoured; and `searchSymbols`, when the provider has it.
 *
 * @throws Error at registration when `knownSymbols` is empty or `historyRange` is not two days.
 */
export function runProviderConformance(options: ProviderConformanceOptions): void {
  const { describe, expect, it } = vitest();
  const { name, knownSymbols, historyRange: range } = options;
  const unknown = options.unknownSymbol ?? 'FOLIOKIT-UNKNOWN';
  if (knownSymbols.length === 0) throw new Error('runProviderConformance needs at least one known symbol');
  parseDay(range.from, 'historyRange.from');
  parseDay(range.to, 'historyRange.to');
  const create = async (): Promise<MarketDataProvider> => options.create();

  /** A check, or `it.skip` with the reason in its title when the options skip it: a skip never counts as a pass. */
  const check = (id: ProviderConformanceCheck, title: string, fn: (p: MarketDataProvider, ctx: Context) => unknown) => {
    const reason = options.skip?.[id];
    if (reason !== undefined) it.skip(`${title} (skipped: ${reason})`, () => {});
    else it(title, async (ctx) => void (await fn(await create(), ctx)));
  };

  describe(`provider conformance: ${name}`, () => {
    check('name', 'has a name', (provider) => {
      expect(typeof provider.name === 'string' && /\S/.test(provider.name)).toBe(true);
    });

    check('quotes', 'quotes known symbols, keyed by normalised symbol, and lists the others as unknown', async (p) => {
      const batch = await p.getQuotes([...knownSymbols, unknown]);
      expect(Object.keys(batch.quotes).sort()).toEqual([...knownSymbols].sort());
      expect(batch.unknown).toEqual([unknown]);
      for (const [key, quote] of Object.entries(batch.quotes)) {
        expect(normalizeSymbol(key, 'symbol', { check: false })).toBe(key);
        expect(validateQuote(quote, p.name)).toBe(quote);
        expect(quote.symbol).toBe(key);
      }
    });

    check('emptyQuotes', 'answers no symbols with an empty batch', async (p) => {
      expect(await p.getQuotes([])).toEqual({ quotes: {}, unknown: [] });
    });

    check('history', 'gives valid daily bars, strictly ascending, inside the range', async (p) => {
      for (const symbol of knownSymbols) {
        const bars = await p.getDailyHistory(symbol, range);
        expect([symbol, bars.length > 0]).toEqual([symbol, true]);
        expect(validateBars(bars, symbol, p.name, range)).toBe(bars);
      }
    });

    check('narrowerRange', 'gives only the bars of a narrower range', async (p, ctx) => {
      const symbol = knownSymbols[0] as string;
      const bars = await p.getDailyHistory(symbol, range);
      if (bars.length < 2) ctx.skip(`needs two bars of ${symbol} in ${range.from}..${range.to}`);
      const narrower = { from: (bars[1] as { day: string }).day, to: range.to };
      const inside = await p.getDailyHistory(symbol, narrower);
      expect(inside.map((b) => b.day)).toEqual(bars.slice(1).map((b) => b.day));
    });

    check('unknownHistory', 'throws UNKNOWN_SYMBOL for the history of an unknown symbol', async (p) => {
      expect(await codeOf(p.getDailyHistory(unknown, range))).toBe('UNKNOWN_SYMBOL');
    });

    check('emptyRange', 'returns [] for an empty range (from after to)', async (p) => {
      const symbol = knownSymbols[0] as string;
      expect(await p.getDailyHistory(symbol, { from: nextDay(range.to), to: range.to })).toEqual([]);
    });

    check('malformedRange', 'refuses a malformed range with VALIDATION_FAILED', async (p) => {
      const symbol = knownSymbols[0] as string;
      expect(await codeOf(p.getDailyHistory(symbol, { from: range.from, to: '31/01/2025' }))).toBe('VALIDATION_FAILED');
    });

    check('abort', 'rejects a call whose signal is already aborted', async (p) => {
      const symbol = knownSymbols[0] as string;
      const signal = AbortSignal.abort();
      await expect(p.getQuotes([symbol], { signal })).rejects.toBeDefined();
      await expect(p.getDailyHistory(symbol, range, { signal })).rejects.toBeDefined();
    });

    check('searchSymbols', 'finds a known symbol with searchSymbols, when it has one', async (p, ctx) => {
      if (typeof p.searchSymbols !== 'function') ctx.skip('the provider has no searchSymbols (optional)');
      const symbol = knownSymbols[0] as string;
      const matches = await p.searchSymbols?.(symbol);
      expect(Array.isArray(matches)).toBe(true);
      for (const match of matches ?? []) {
        expect(typeof match.symbol === 'string' && match.symbol !== '').toBe(true);
      }
      expect(matches?.map((m) => m.symbol)).toContain(symbol);
    });

    options.extend?.(create);
  });
}
