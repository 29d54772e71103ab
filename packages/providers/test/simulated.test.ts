import { isFoliokitError } from '@foliokit/core';
import { codeOf, createManualClock } from '@foliokit/core/testing';
import { describe, expect, it } from 'vitest';
import { createSimulatedProvider, DEFAULT_SIMULATED_SYMBOLS } from '../src/index.js';

const DECIMAL_4 = /^[1-9]\d*(?:\.\d{1,4})?$|^0\.\d{0,3}[1-9]$/;

describe('createSimulatedProvider', () => {
  it('knows about twenty default symbols', () => {
    const provider = createSimulatedProvider({ seed: 1 });
    expect(provider.name).toBe('simulated');
    expect(provider.listSymbols()).toHaveLength(DEFAULT_SIMULATED_SYMBOLS.length);
    expect(provider.listSymbols()).toContain('BRK.B');
  });

  it('gives the same prices for the same seed and instant, in two instances', async () => {
    const clock = createManualClock('2025-06-10T14:03:07.250Z');
    const a = createSimulatedProvider({ seed: 42, clock });
    const b = createSimulatedProvider({ seed: 42, clock });
    const symbols = a.listSymbols();
    const qa = await a.getQuotes(symbols);
    const qb = await b.getQuotes([...symbols].reverse());
    expect(qa).toEqual({ quotes: qb.quotes, unknown: [] });
    const range = { from: '2024-01-01', to: '2025-06-01' };
    expect(await a.getDailyHistory('NVDA', range)).toEqual(await b.getDailyHistory('NVDA', range));
  });

  it('gives the same price at an instant whatever was asked before (pure function of time)', async () => {
    const clock = createManualClock('2025-06-10T14:03:07Z');
    const fresh = createSimulatedProvider({ seed: 7, clock });
    const used = createSimulatedProvider({
      seed: 7,
      clock: createManualClock('2010-01-01T00:00:00Z'),
    });
    await used.getQuotes(['AAPL']);
    await used.getDailyHistory('AAPL', {
      from: '2000-01-01',
      to: '2009-12-31',
    });
    const usedAtSameTime = createSimulatedProvider({ seed: 7, clock });
    expect((await fresh.getQuotes(['AAPL'])).quotes.AAPL?.price).toBe(
      (await usedAtSameTime.getQuotes(['AAPL'])).quotes.AAPL?.price,
    );
  });

  it('gives different prices for a different seed', async () => {
    const clock = createManualClock('2025-06-10T14:03:07Z');
    const a = await createSimulatedProvider({ seed: 1, clock }).getQuotes(['AAPL', 'MSFT', 'KO']);
    const b = await createSimulatedProvider({ seed: 2, clock }).getQuotes(['AAPL', 'MSFT', 'KO']);
    expect(a.quotes.AAPL?.price).not.toBe(b.quotes.AAPL?.price);
    expect(a.quotes.MSFT?.price).not.toBe(b.quotes.MSFT?.price);
  });

  it('starts every symbol at its start price on the anchor close, and matches bars to quotes at 21:00Z', async () => {
    const clock = createManualClock('2025-01-02T21:00:00Z');
    const provider = createSimulatedProvider({
      seed: 'demo',
      clock,
      symbols: { ACME: '12.5' },
    });
    const { quotes } = await provider.getQuotes(['AAPL', 'ACME']);
    expect(quotes.AAPL?.price).toBe('243.85');
    expect(quotes.ACME?.price).toBe('12.5');
    expect(quotes.AAPL).toMatchObject({
      symbol: 'AAPL',
      at: '2025-01-02T21:00:00.000Z',
      currency: 'USD',
      source: 'simulated',
    });

    clock.set('2025-03-14T21:00:00Z');
    const close = (await provider.getQuotes(['AAPL'])).quotes.AAPL?.price;
    const bars = await provider.getDailyHistory('AAPL', {
      from: '2025-03-14',
      to: '2025-03-14',
    });
    expect(bars).toHaveLength(1);
    expect(bars[0]?.close).toBe(close);
  });

  it('moves once per step and stays put within a step', async () => {
    const clock = createManualClock('2025-05-05T10:00:00Z');
    const provider = createSimulatedProvider({
      seed: 3,
      clock,
      stepMs: 60_000,
    });
    const p0 = (await provider.getQuotes(['TSLA'])).quotes.TSLA?.price;
    await clock.advance(59_000);
    expect((await provider.getQuotes(['TSLA'])).quotes.TSLA?.price).toBe(p0);
    const seen = new Set([p0]);
    for (let i = 0; i < 10; i++) {
      await clock.advance(60_000);
      seen.add((await provider.getQuotes(['TSLA'])).quotes.TSLA?.price);
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it('keeps intraday moves small and continuous (a bridge, not noise)', async () => {
    const clock = createManualClock('2025-05-05T10:00:00Z');
    const provider = createSimulatedProvider({ seed: 3, clock, stepMs: 1000 });
    let previous = Number((await provider.getQuotes(['AAPL'])).quotes.AAPL?.price);
    for (let i = 0; i < 200; i++) {
      await clock.advance(1000);
      const price = Number((await provider.getQuotes(['AAPL'])).quotes.AAPL?.price);
      expect(Math.abs(price / previous - 1)).toBeLessThan(0.005);
      previous = price;
    }
  });

  it('lists unknown symbols and refuses their history', async () => {
    const provider = createSimulatedProvider({ seed: 1 });
    const batch = await provider.getQuotes(['AAPL', 'NOPE', 'aapl']);
    expect(Object.keys(batch.quotes)).toEqual(['AAPL']);
    expect(batch.unknown).toEqual(['NOPE']);
    expect(
      await codeOf(
        provider.getDailyHistory('NOPE', {
          from: '2024-01-01',
          to: '2024-02-01',
        }),
      ),
    ).toBe('UNKNOWN_SYMBOL');
    expect(
      await codeOf(
        provider.getDailyHistory('AAPL', {
          from: '2024-1-1',
          to: '2024-02-01',
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      await provider.getDailyHistory('AAPL', {
        from: '2024-02-01',
        to: '2024-01-01',
      }),
    ).toEqual([]);
  });

  it('gives weekday bars only, ascending, with consistent open/high/low/close', async () => {
    const clock = createManualClock('2025-06-30T12:00:00Z');
    const provider = createSimulatedProvider({ seed: 9, clock });
    for (const symbol of provider.listSymbols()) {
      const bars = await provider.getDailyHistory(symbol, {
        from: '2020-01-01',
        to: '2025-12-31',
      });
      expect(bars.length).toBeGreaterThan(1400);
      const problems: string[] = [];
      let previous = '';
      for (const bar of bars) {
        const weekday = new Date(`${bar.day}T00:00:00Z`).getUTCDay();
        if (weekday === 0 || weekday === 6) problems.push(`${bar.day} is a weekend`);
        if (bar.day <= previous) problems.push(`${bar.day} after ${previous}`);
        previous = bar.day;
        for (const value of [bar.open, bar.high, bar.low, bar.close]) {
          if (!DECIMAL_4.test(value ?? '')) problems.push(`${bar.day}: bad price ${value}`);
        }
        const [o, h, l, c] = [bar.open, bar.high, bar.low, bar.close].map(Number) as [number, number, number, number];
        if (!(l > 0 && l <= Math.min(o, c) && h >= Math.max(o, c))) problems.push(`${bar.day}: ${JSON.stringify(bar)}`);
        if (!/^\d+$/.test(bar.volume ?? '')) problems.push(`${bar.day}: bad volume ${bar.volume}`);
      }
      expect(problems).toEqual([]);
      // No bar after now: 2025-06-30 closes at 21:00Z, after the clock.
      expect(bars.at(-1)?.day).toBe('2025-06-27');
    }
  });

  it('has the volatility it was given', async () => {
    const clock = createManualClock('2025-01-02T22:00:00Z');
    const provider = createSimulatedProvider({
      seed: 11,
      clock,
      volatility: 0.4,
      drift: 0,
      includeDefaultSymbols: false,
      symbols: { X: 100 },
    });
    const bars = await provider.getDailyHistory('X', {
      from: '2005-01-01',
      to: '2025-01-01',
    });
    // Only Tue–Fri bars are one calendar day after the previous one.
    const returns: number[] = [];
    for (let i = 1; i < bars.length; i++) {
      const gap = (Date.parse(bars[i]!.day) - Date.parse(bars[i - 1]!.day)) / 86_400_000;
      if (gap === 1) returns.push(Math.log(Number(bars[i]!.close) / Number(bars[i - 1]!.close)));
    }
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const sd = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / (returns.length - 1));
    const expected = 0.4 / Math.sqrt(365.25);
    expect(sd / expected).toBeGreaterThan(0.93);
    expect(sd / expected).toBeLessThan(1.07);
  });

  it('computes ten years of daily history for 50 symbols, the same from a fresh instance', async () => {
    // How fast: `pnpm bench providers` (a figure, not a test).
    const symbols: Record<string, string> = {};
    for (let i = 0; i < 30; i++) symbols[`SYM${i}`] = String(10 + i);
    const range = { from: '2015-06-30', to: '2025-06-29' };
    const clock = createManualClock('2025-06-30T12:00:00Z');
    const provider = createSimulatedProvider({ seed: 100, symbols, clock });
    const all = provider.listSymbols();
    expect(all).toHaveLength(50);
    let count = 0;
    for (const symbol of all) count += (await provider.getDailyHistory(symbol, range)).length;
    // Every weekday of the ten years: 2,609 bars per symbol.
    expect(count).toBe(50 * 2609);
    const fresh = createSimulatedProvider({ seed: 100, symbols, clock });
    expect(await fresh.getDailyHistory('SYM7', range)).toEqual(await provider.getDailyHistory('SYM7', range));
  });

  it('validates options, naming the field', () => {
    const fieldOf = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        if (isFoliokitError(error)) return error.details.field;
      }
      return 'no error';
    };
    expect(fieldOf(() => createSimulatedProvider({ seed: 1, symbols: { ACME: '-1' } }))).toBe('symbols.ACME');
    expect(fieldOf(() => createSimulatedProvider({ seed: 1, symbols: { ACME: 0 } }))).toBe('symbols.ACME');
    expect(fieldOf(() => createSimulatedProvider({ seed: 1, symbols: { ACME: Number.NaN } }))).toBe('symbols.ACME');
    expect(fieldOf(() => createSimulatedProvider({ seed: 1, stepMs: 0 }))).toBe('stepMs');
    expect(fieldOf(() => createSimulatedProvider({ seed: 1, anchor: 'soon' }))).toBe('anchor');
  });

  it('searches its symbols', async () => {
    const provider = createSimulatedProvider({ seed: 1 });
    expect((await provider.searchSymbols('micro')).map((m) => m.symbol)).toEqual(['AMD', 'MSFT']);
    expect((await provider.searchSymbols('AM')).map((m) => m.symbol)).toEqual(['AMD', 'AMZN']);
  });
});
