/**
 * Signals: what a strategy decides on each bar, without trading. `getSignals` evaluates a
 * strategy over history (heatmap data: symbol × day × signal); `startSignalEvaluator` evaluates
 * it live on `price.updated` and emits `signal.generated` when a symbol's decision changes.
 *
 * The strategy runs against a recording context: `ctx.buy` and `ctx.sell` record a signal for the
 * bar instead of placing an order, and the position the strategy reads is a nominal long/flat one
 * that follows its own signals (a buy always "fills"). So on `runBacktest` with `fill: 'close'`
 * the signals fall on the same days, with the same directions, as the fills (plus a signal on a
 * symbol's last bar, which the backtest drops), as long as the backtest can afford every buy.
 */
import { z } from 'zod';
import { FoliokitError, wrapError } from '../errors.js';
import type { FoliokitEventName, Listener, SignalGeneratedEvent } from '../events.js';
import { dec } from '../money/decimal.js';
import type { Clock, DailyBar, MarketDataProvider } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import { validateBars } from '../prices/validate.js';
import { dayOf, parseDay } from '../time.js';
import { getStrategy } from './registry.js';
import { rebalanceStrategy } from './strategies/rebalance.js';
import type { AnyStrategy, StrategyContext } from './strategy.js';

/** A signal's direction. */
export type SignalDirection = 'buy' | 'sell';

/**
 * A strategy that may say how strong its signals are: `signalStrength(ctx)` is called after an
 * `onBar` that signalled, with the same context (a number, or null for none).
 */
export type SignalStrategy = AnyStrategy & {
  signalStrength?(ctx: StrategyContext): number | null;
};

/** One cell of the heatmap: a symbol's signal on a day (null: none). */
export interface SignalCell {
  day: string;
  signal: SignalDirection | null;
  /** The strategy's strength for the signal, null when it gives none or there is no signal. */
  strength: number | null;
}

/** What {@link getSignals} returns. */
export interface SignalsResult {
  strategy: string;
  /** The parameters as the strategy's schema validated them. */
  params: unknown;
  from: string;
  to: string;
  /** Every day any symbol has a bar, ascending (the heatmap's columns). */
  days: string[];
  /** One row per symbol, in the order given, one cell per bar of that symbol. */
  rows: Array<{ symbol: string; cells: SignalCell[] }>;
}

/** Input of {@link getSignals}. */
export interface GetSignalsOptions {
  symbols: string[];
  from: string;
  to: string;
  params?: Record<string, unknown>;
}

/** What the signal code needs from the engine (the engine satisfies it). */
export interface SignalHost {
  readonly marketData: MarketDataProvider;
  readonly clock?: Clock;
  on<K extends FoliokitEventName>(name: K, listener: Listener<K>): () => void;
  emit(event: SignalGeneratedEvent): void;
}

/** A trade a live signal asks for (see {@link SignalEvaluatorOptions.trade}). */
export interface SignalTradeRequest {
  symbol: string;
  side: SignalDirection;
  /** The live price that produced the signal (a decimal string). */
  price: string;
  /** `signal:<strategy>:<symbol>:<day>:<direction>`: pass it to `engine.trade` so a repeat never trades twice. */
  idempotencyKey: string;
  event: SignalGeneratedEvent;
}

/** Input of {@link startSignalEvaluator}. */
export interface SignalEvaluatorOptions {
  /** A registered strategy's name or a strategy object. */
  strategy: string | AnyStrategy;
  params?: Record<string, unknown>;
  symbols: string[];
  /** Calendar days of history loaded at start. @default 400 */
  lookbackDays?: number;
  /** The day the live evaluation starts from (history is loaded up to it). @default today (host clock) */
  today?: string;
  /**
   * Trades on each signal (a paper portfolio): called at most once per idempotency key in this
   * evaluator; pass the key on to `engine.trade` so other evaluators do not trade it again either.
   * A rejection is reported through `onError`, never thrown into the event bus.
   */
  trade?: (request: SignalTradeRequest) => Promise<unknown>;
  /** Told about a failed trade. */
  onError?: (error: unknown, request: SignalTradeRequest) => void;
}

/** A running evaluator. */
export interface SignalEvaluator {
  /** Unsubscribes from `price.updated`; no more signals or trades. */
  stop(): void;
  /** The current decision per symbol on its latest bar. */
  decisions(): Record<string, { day: string; signal: SignalDirection | null } | null>;
}

// ----- the recording evaluation ------------------------------------------------------

/** One symbol's signal on its bar. */
interface BarSignal {
  signal: SignalDirection | null;
  strength: number | null;
}

function fail(field: string, message: string): FoliokitError {
  return new FoliokitError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}

/** The strategy and its validated parameters; every failure is `VALIDATION_FAILED` naming the field. */
function resolveStrategy(
  strategy: string | AnyStrategy,
  params: Record<string, unknown> | undefined,
): { strategy: SignalStrategy; params: unknown } {
  let s: AnyStrategy;
  if (typeof strategy === 'string') {
    try {
      s = getStrategy(strategy);
    } catch {
      throw fail('strategy', `no strategy named ${JSON.stringify(strategy.slice(0, 64))}`);
    }
  } else {
    s = strategy;
  }
  if (s === rebalanceStrategy) {
    throw fail('strategy', '"rebalance" trades a whole portfolio to target weights; it runs only in runBacktest');
  }
  const parsed = s.params.safeParse(params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw fail(path === '' ? 'params' : `params.${path}`, issue?.message ?? 'invalid parameters');
  }
  return { strategy: s, params: parsed.data };
}

const symbolsSchema = z.array(z.string()).min(1).max(1000);

function parseSymbols(input: unknown): string[] {
  const parsed = symbolsSchema.safeParse(input);
  if (!parsed.success) throw fail('symbols', 'must be 1 to 1,000 symbols');
  const symbols = parsed.data.map((s, i) => normalizeSymbol(s, `symbols.${i}`));
  const seen = new Set<string>();
  symbols.forEach((s, i) => {
    if (seen.has(s)) throw fail(`symbols.${i}`, `${s} is listed twice`);
    seen.add(s);
  });
  return symbols;
}

/** One symbol's evaluation state. */
interface Lane {
  symbol: string;
  bars: DailyBar[];
  index: number;
  /** Nominal quantity held (long/flat from the strategy's own signals), a decimal string. */
  position: string;
  ctx: StrategyContext;
}

/**
 * Replays `bars` (one array per symbol) through the strategy in date order across symbols, with a
 * recording context, and calls `record` for each bar with its signal. A strategy's `buy` / `sell`
 * of another symbol records on that symbol's current bar.
 */
function evaluate(
  strategy: SignalStrategy,
  params: unknown,
  symbols: readonly string[],
  allBars: readonly DailyBar[][],
  record: (symbolIndex: number, bar: DailyBar, signal: BarSignal) => void,
): void {
  const lanes: Lane[] = [];
  const bySymbol = new Map<string, Lane>();
  let signals = new Map<Lane, SignalDirection>();
  const laneOf = (symbol: string | undefined, self: Lane, field: string): Lane => {
    if (symbol === undefined || symbol === self.symbol) return self;
    const other = bySymbol.get(symbol) ?? bySymbol.get(normalizeSymbol(symbol, field));
    if (!other) throw fail(field, `${symbol} is not one of the evaluated symbols`);
    return other;
  };
  const order = (lane: Lane, side: SignalDirection, quantity: string | number | undefined): void => {
    signals.set(lane, side);
    if (side === 'buy') lane.position = quantity === undefined ? '1' : String(quantity);
    else lane.position = '0';
  };
  symbols.forEach((symbol, i) => {
    const lane = { symbol, bars: allBars[i] as DailyBar[], index: -1, position: '0' } as Lane;
    lane.ctx = {
      day: '',
      previousDay: null,
      symbol,
      bar: { day: '', close: '0' },
      index: -1,
      params,
      state: strategy.init ? strategy.init({ symbol, params }) : undefined,
      cash: '0',
      history(a: string | number, b?: number): readonly DailyBar[] {
        const target = typeof a === 'number' ? lane : laneOf(a, lane, 'history.symbol');
        const n = typeof a === 'number' ? a : (b ?? 1);
        return target.bars.slice(Math.max(0, target.index + 1 - n), target.index + 1);
      },
      position: (s?: string) => laneOf(s, lane, 'position.symbol').position,
      buy: (s?: string, q?: string | number) => order(laneOf(s, lane, 'buy.symbol'), 'buy', q),
      sell: (s?: string, q?: string | number) => order(laneOf(s, lane, 'sell.symbol'), 'sell', q),
    } as StrategyContext;
    lanes.push(lane);
    bySymbol.set(symbol, lane);
  });
  const days = [...new Set(allBars.flatMap((bars) => bars.map((b) => b.day)))].sort();
  let previousDay: string | null = null;
  for (const day of days) {
    for (const lane of lanes) {
      const next = lane.bars[lane.index + 1];
      if (next === undefined || next.day !== day) continue;
      lane.index += 1;
      const ctx = lane.ctx as { day: string; bar: DailyBar; index: number };
      ctx.day = day;
      (lane.ctx as { previousDay: string | null }).previousDay = previousDay;
      ctx.bar = next;
      ctx.index = lane.index;
      signals = new Map();
      strategy.onBar(lane.ctx);
      const own = signals.get(lane) ?? null;
      const strength = own && strategy.signalStrength ? (strategy.signalStrength(lane.ctx) ?? null) : null;
      record(lanes.indexOf(lane), next, { signal: own, strength });
    }
    previousDay = day;
  }
}

/** Loads and validates each symbol's bars in the range. */
async function loadBars(
  marketData: MarketDataProvider,
  symbols: readonly string[],
  range: { from: string; to: string },
): Promise<DailyBar[][]> {
  const out: DailyBar[][] = [];
  for (const symbol of symbols) {
    let bars: DailyBar[];
    try {
      bars = await marketData.getDailyHistory(symbol, range);
    } catch (error) {
      throw wrapError(error, 'PROVIDER_ERROR', `Could not load the history of ${symbol}`, { symbol });
    }
    out.push(validateBars(bars, symbol, marketData.name ?? 'marketData', range));
  }
  return out;
}

/**
 * The signals a strategy gives on each bar of each symbol from `from` to `to` (heatmap data): see
 * the module note for how the strategy is driven (a recording context, a nominal long/flat
 * position; nothing is traded).
 *
 * @throws FoliokitError `VALIDATION_FAILED` naming the field; a provider's error for a symbol it
 *   cannot serve.
 */
export async function getSignals(
  host: Pick<SignalHost, 'marketData'>,
  strategyName: string | AnyStrategy,
  options: GetSignalsOptions,
): Promise<SignalsResult> {
  const { strategy, params } = resolveStrategy(strategyName, options.params);
  const symbols = parseSymbols(options.symbols);
  const from = parseDay(options.from, 'from');
  const to = parseDay(options.to, 'to');
  if (to < from) throw fail('to', 'must not be before from');
  const allBars = await loadBars(host.marketData, symbols, { from, to });
  const rows = symbols.map((symbol) => ({ symbol, cells: [] as SignalCell[] }));
  evaluate(strategy, params, symbols, allBars, (i, bar, s) =>
    rows[i]?.cells.push({ day: bar.day, signal: s.signal, strength: s.strength }),
  );
  const days = [...new Set(allBars.flatMap((bars) => bars.map((b) => b.day)))].sort();
  return { strategy: strategy.name, params, from, to, days, rows };
}

// ----- live ------------------------------------------------------------------------

/** The day `n` calendar days before `day`. */
function daysBefore(day: string, n: number): string {
  return dayOf(Date.parse(`${day}T00:00:00.000Z`) - n * 86_400_000);
}

/** Today's bar updated from a live price: a new bar on a new day, else close, high and low moved. */
function applyPrice(bars: DailyBar[], day: string, price: string): void {
  const last = bars.at(-1);
  if (last && last.day > day) return;
  if (!last || last.day < day) {
    bars.push({ day, open: price, high: price, low: price, close: price });
    return;
  }
  const p = dec(price);
  const high = last.high === undefined || p.gt(dec(last.high)) ? price : last.high;
  const low = last.low === undefined || p.lt(dec(last.low)) ? price : last.low;
  bars[bars.length - 1] = { ...last, close: price, high, low };
}

/**
 * Starts evaluating a strategy live: loads each symbol's recent daily history once
 * (`lookbackDays` up to `today`), then on every `price.updated` of one of the symbols updates that
 * symbol's bar of the update's day and re-evaluates the strategy over the history (the strategy's
 * state is rebuilt from the bars, so a price that moves back and forth within a day is handled).
 * `signal.generated` is emitted when the decision on the latest bar changes to a buy or a sell
 * that was not already emitted for that symbol and day: once per change, not per price update.
 * With `trade`, each signal is traded once per idempotency key.
 *
 * @throws FoliokitError `VALIDATION_FAILED` naming the field; a provider's error while loading history.
 */
export async function startSignalEvaluator(
  host: SignalHost,
  options: SignalEvaluatorOptions,
): Promise<SignalEvaluator> {
  const { strategy, params } = resolveStrategy(options.strategy, options.params);
  const symbols = parseSymbols(options.symbols);
  const lookback = options.lookbackDays ?? 400;
  if (!Number.isInteger(lookback) || lookback < 1 || lookback > 20_000) {
    throw fail('lookbackDays', 'must be an integer from 1 to 20,000');
  }
  const today = options.today === undefined ? dayOf(host.clock?.now() ?? Date.now()) : parseDay(options.today, 'today');
  const allBars = await loadBars(host.marketData, symbols, { from: daysBefore(today, lookback), to: today });
  const index = new Map(symbols.map((s, i) => [s, i]));
  /** Per symbol: the latest decision, and the directions already emitted for its day. */
  const decisions = symbols.map(() => null as { day: string; signal: SignalDirection | null } | null);
  const emitted = symbols.map(() => ({ day: '', directions: new Set<SignalDirection>() }));
  const traded = new Set<string>();
  let stopped = false;

  const latest = (i: number): { day: string; signal: SignalDirection | null; strength: number | null } | null => {
    const bars = allBars[i] as DailyBar[];
    const last = bars.at(-1);
    if (!last) return null;
    let out: BarSignal = { signal: null, strength: null };
    // Only this symbol's lane matters, but the others run too: a strategy may read their history.
    evaluate(strategy, params, symbols, allBars, (j, bar, s) => {
      if (j === i && bar === last) out = s;
    });
    return { day: last.day, ...out };
  };
  symbols.forEach((_, i) => {
    const d = latest(i);
    decisions[i] = d && { day: d.day, signal: d.signal };
  });

  const onPrice = (event: { symbol: string; price: string; at: string }): void => {
    if (stopped) return;
    const i = index.get(event.symbol);
    if (i === undefined) return;
    const day = dayOf(event.at);
    applyPrice(allBars[i] as DailyBar[], day, event.price);
    const d = latest(i);
    if (!d || d.day !== day) return;
    decisions[i] = { day: d.day, signal: d.signal };
    if (d.signal === null) return;
    const seen = emitted[i] as { day: string; directions: Set<SignalDirection> };
    if (seen.day !== day) {
      seen.day = day;
      seen.directions.clear();
    }
    if (seen.directions.has(d.signal)) return;
    seen.directions.add(d.signal);
    const signal: SignalGeneratedEvent = {
      type: 'signal.generated',
      strategy: strategy.name,
      symbol: event.symbol,
      direction: d.signal,
      day,
      at: event.at,
      ...(d.strength === null ? {} : { strength: d.strength }),
    };
    host.emit(signal);
    if (options.trade) trade(signal, event.price);
  };

  const trade = (signal: SignalGeneratedEvent, price: string): void => {
    const idempotencyKey = `signal:${signal.strategy}:${signal.symbol}:${signal.day}:${signal.direction}`;
    if (traded.has(idempotencyKey)) return;
    traded.add(idempotencyKey);
    const request: SignalTradeRequest = {
      symbol: signal.symbol,
      side: signal.direction,
      price,
      idempotencyKey,
      event: signal,
    };
    const run = options.trade;
    if (!run) return;
    Promise.resolve()
      .then(() => run(request))
      .catch((error: unknown) => options.onError?.(error, request));
  };

  const off = host.on('price.updated', onPrice);
  return {
    stop() {
      stopped = true;
      off();
    },
    decisions: () => Object.fromEntries(symbols.map((s, i) => [s, decisions[i] ?? null])),
  };
}
