/**
 * Signals: `getSignals` on the CSV fixtures falls on the same days with the same directions as
 * `runBacktest` with `fill: 'close'` (its fills, plus the signal on a last bar it drops), for each
 * built-in; the live evaluator, driven by real `price.updated` events from an engine's price
 * refresh, emits once per change and not per price update, stops when told, and trades each signal
 * once.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsvProvider } from '@foliokit/providers';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { SignalGeneratedEvent } from '../events.js';
import type { DailyBar } from '../ports/index.js';
import { codeOf, createTestEngine, type TestEngine } from '../testing/index.js';
import { runBacktest } from './run.js';
import { getSignals, type SignalTradeRequest, startSignalEvaluator } from './signals.js';
import { defineStrategy } from './strategy.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const csv = createCsvProvider({ directory: fixtures });
const range = { symbols: ['AAA', 'BBB'], from: '2025-03-01', to: '2025-03-31' };

describe('getSignals on the CSV fixtures', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['sma-cross', { fast: 2, slow: 3 }],
    ['momentum', { lookback: 2 }],
    ['mean-reversion', { period: 2, low: 30, high: 70 }],
    ['buy-and-hold', {}],
  ];
  for (const [strategy, params] of cases) {
    it(`${strategy}: the same days and directions as runBacktest's 'close' fills`, async () => {
      const signals = await getSignals({ marketData: csv }, strategy, { ...range, params });
      const result = await runBacktest({
        strategy,
        params,
        ...range,
        marketData: csv,
        initialCash: '2000',
        fill: 'close',
      });
      // Every order either filled or was dropped on its symbol's last bar (never unaffordable).
      expect(result.unfilled.every((u) => u.reason === 'LAST_BAR')).toBe(true);
      const fromBacktest = [
        ...result.fills.map((f) => `${f.symbol} ${f.day} ${f.side}`),
        ...result.unfilled.map((u) => `${u.symbol} ${u.day} ${u.side}`),
      ].sort();
      const fromSignals = signals.rows
        .flatMap((r) => r.cells.filter((c) => c.signal !== null).map((c) => `${r.symbol} ${c.day} ${c.signal}`))
        .sort();
      expect(fromSignals.length).toBeGreaterThan(0);
      expect(fromSignals).toEqual(fromBacktest);
    });
  }

  it('sma-cross 2/3: the heatmap worked out by hand (the last-bar buy of AAA included)', async () => {
    const signals = await getSignals({ marketData: csv }, 'sma-cross', { ...range, params: { fast: 2, slow: 3 } });
    expect(signals.days).toHaveLength(12);
    expect(signals.rows.map((r) => r.cells.length)).toEqual([12, 12]);
    const aaa = signals.rows[0]?.cells.filter((c) => c.signal !== null).map((c) => [c.day, c.signal, c.strength]);
    // AAA closes 10 9 8 9 11 12 11 9 8 8 8 12. SMA2 / SMA3: 03-05 8.5 < 9 (first side), 03-06
    // 8.5 < 8.67, 03-07 10 > 9.33 (buy), 03-11 11.5 > 11.33, 03-12 10 < 10.67 (sell), 03-13 8.5 <
    // 9.33, 03-14 8 < 8.33, 03-17 8 = 8 (tie), 03-18 10 > 9.33 (buy, on the last bar).
    expect(aaa).toEqual([
      ['2025-03-07', 'buy', null],
      ['2025-03-12', 'sell', null],
      ['2025-03-18', 'buy', null],
    ]);
  });

  it("reports a strategy's own strength", async () => {
    const strong = defineStrategy({
      name: 'strong-up',
      description: 'Buys on every up close, strength = the rise.',
      params: z.strictObject({}),
      onBar(ctx) {
        const [prev, today] = ctx.history(2);
        if (prev && today && Number(today.close) > Number(prev.close)) ctx.buy();
      },
    });
    const withStrength = Object.assign(strong, {
      signalStrength: (ctx: { history(n: number): readonly DailyBar[] }) => {
        const [prev, today] = ctx.history(2);
        return Number(today?.close) - Number(prev?.close);
      },
    });
    const signals = await getSignals({ marketData: csv }, withStrength, { ...range, symbols: ['AAA'] });
    const cells = signals.rows[0]?.cells.filter((c) => c.signal !== null);
    expect(cells?.slice(0, 3)).toEqual([
      { day: '2025-03-06', signal: 'buy', strength: 1 },
      { day: '2025-03-07', signal: 'buy', strength: 2 },
      { day: '2025-03-10', signal: 'buy', strength: 1 },
    ]);
  });

  it('refuses an unknown strategy, bad params and a reversed range with VALIDATION_FAILED', async () => {
    expect(await codeOf(getSignals({ marketData: csv }, 'nope', range))).toBe('VALIDATION_FAILED');
    expect(await codeOf(getSignals({ marketData: csv }, 'sma-cross', { ...range, params: { fast: 5, slow: 3 } }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await codeOf(getSignals({ marketData: csv }, 'sma-cross', { ...range, from: '2025-04-01' }))).toBe(
      'VALIDATION_FAILED',
    );
  });
});

/*
 * Live, sma-cross 2/3 on AAA. History closes 10 10 10 9 8 (03-10 … 03-14): fast below slow.
 * Today 03-17 at price p: SMA2 = (8 + p) / 2, SMA3 = (17 + p) / 3, above iff p > 10.
 * Next day 03-18, after 03-17 closed at 11 (long): below iff (11 + p) / 2 < (19 + p) / 3, iff p < 5.
 */
const history: DailyBar[] = ['10', '10', '10', '9', '8'].map((close, i) => ({
  day: `2025-03-${String(10 + i).padStart(2, '0')}`,
  close,
}));

describe('startSignalEvaluator', () => {
  let t: TestEngine | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function setup() {
    t = createTestEngine({ start: '2025-03-17T14:00:00.000Z', history: { AAA: history } });
    const te = t;
    const signals = () =>
      te.events
        .filter((e): e is SignalGeneratedEvent => e.type === 'signal.generated')
        .map((e) => [e.day, e.direction]);
    const price = async (p: string, at?: string) => {
      if (at) te.clock.set(at);
      te.provider.setPrice('AAA', p);
      await te.engine.refreshPrices(['AAA']);
    };
    return { t: te, signals, price };
  }

  it('emits once per change of decision, not per price update', async () => {
    const { t, signals, price } = await setup();
    const evaluator = await startSignalEvaluator(t.engine, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 3 },
      symbols: ['AAA'],
    });
    await price('9');
    expect(signals()).toEqual([]);
    await price('11'); // crosses above: buy
    await price('12'); // still a buy: nothing new
    await price('9'); // no cross any more: no signal
    await price('11'); // a buy again the same day: already emitted
    expect(signals()).toEqual([['2025-03-17', 'buy']]);
    expect(evaluator.decisions()).toEqual({ AAA: { day: '2025-03-17', signal: 'buy' } });
    await price('6', '2025-03-18T14:00:00.000Z'); // a new day's bar: 11 then 6, still above
    await price('4'); // below: sell
    await price('3');
    expect(signals()).toEqual([
      ['2025-03-17', 'buy'],
      ['2025-03-18', 'sell'],
    ]);
    const event = t.events.find((e) => e.type === 'signal.generated');
    expect(event).toMatchObject({ strategy: 'sma-cross', symbol: 'AAA', at: '2025-03-17T14:00:00.000Z' });
    expect(event).not.toHaveProperty('strength');
    evaluator.stop();
  });

  it('stop() unsubscribes: no more signals', async () => {
    const { t, signals, price } = await setup();
    let subscribed = 0;
    const host = {
      marketData: t.engine.marketData,
      clock: t.clock,
      emit: (e: SignalGeneratedEvent) => t.engine.emit(e),
      on: ((name, listener) => {
        subscribed += 1;
        const off = t.engine.on(name, listener);
        return () => {
          subscribed -= 1;
          off();
        };
      }) as typeof t.engine.on,
    };
    const evaluator = await startSignalEvaluator(host, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 3 },
      symbols: ['AAA'],
    });
    expect(subscribed).toBe(1);
    evaluator.stop();
    expect(subscribed).toBe(0);
    await price('11');
    expect(signals()).toEqual([]);
  });

  it('trades each signal once, with a key per strategy, symbol, day and direction', async () => {
    const { t, price } = await setup();
    const requests: SignalTradeRequest[] = [];
    const pf = await t.engine.createPortfolio({ name: 'paper', initialCash: '1000' });
    const evaluator = await startSignalEvaluator(t.engine, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 3 },
      symbols: ['AAA'],
      trade: async (r) => {
        requests.push(r);
        return t.engine.trade(pf.id, {
          symbol: r.symbol,
          side: r.side,
          quantity: 1,
          price: r.price,
          idempotencyKey: r.idempotencyKey,
        });
      },
    });
    await price('11');
    await price('9');
    await price('12');
    await new Promise((resolve) => setImmediate(resolve));
    evaluator.stop();
    expect(requests.map((r) => r.idempotencyKey)).toEqual(['signal:sma-cross:AAA:2025-03-17:buy']);
    // A second evaluator (a restart) signals again; the engine's idempotency key keeps it one trade.
    const keys: string[] = [];
    const again = await startSignalEvaluator(t.engine, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 3 },
      symbols: ['AAA'],
      trade: (r) => {
        keys.push(r.idempotencyKey);
        return t.engine.trade(pf.id, {
          symbol: r.symbol,
          side: r.side,
          quantity: 1,
          price: '11',
          idempotencyKey: r.idempotencyKey,
        });
      },
    });
    await price('11');
    await new Promise((resolve) => setImmediate(resolve));
    again.stop();
    expect(keys).toEqual(['signal:sma-cross:AAA:2025-03-17:buy']);
    const trades = t.events.filter((e) => e.type === 'trade.executed');
    expect(trades).toHaveLength(1);
  });
});
