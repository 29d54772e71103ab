/**
 * The alert evaluator: price alerts on `price.updated`, portfolio alerts on `snapshot.recorded` and
 * `trade.executed`. An alert fires when its condition becomes true (a crossing) and re-arms when it
 * becomes false again; a crossing within the cool-down is swallowed (the alert re-arms only once
 * the condition is false again). A fire is claimed with the store's compare-and-set
 * (`markAlertFired`), so among engines sharing one database exactly one emits `alert.triggered`.
 *
 * A price update older than the latest one evaluated for its symbol (an update from another
 * instance relayed late) is skipped.
 *
 * An alert that has fired before the evaluator loaded it starts disarmed: it fires at its next
 * crossing, not at once because its condition still holds.
 */
import type { FoliokitEventMap, FoliokitEventName, Listener } from '../events.js';
import { type Dec, dec, divide, fmt } from '../money/decimal.js';
import type { AlertRow, PortfolioState, SnapshotRow } from '../ports/index.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { dayOf, toIso } from '../time.js';
import { valueHoldings } from '../valuation/kernel.js';
import { alertStore, isPriceAlert, registerEvaluator } from './alerts.js';

/** What the evaluator needs from the engine (the engine satisfies it). */
export interface AlertHost extends SnapshotHost {
  on<K extends FoliokitEventName>(name: K, listener: Listener<K>): () => void;
}

/** Options of {@link startAlertEvaluator}. */
export interface AlertEvaluatorOptions {
  /** How often alerts are reloaded from the store (others' creates and deletes). @default 60_000 */
  reloadMs?: number;
}

/** A running evaluator. */
export interface AlertEvaluator {
  /** Reloads the active alerts from the store now (done by `createAlert` / `deleteAlert` too). */
  reload(): Promise<void>;
  /** Resolves when every evaluation queued so far has finished. */
  idle(): Promise<void>;
  /** Unsubscribes and stops the periodic reload. */
  stop(): void;
  /** Active alerts loaded. */
  readonly size: number;
}

/** One loaded alert and its crossing state. */
interface Tracked {
  row: AlertRow;
  threshold: Dec;
  /** True when the condition was last seen false (or never seen): the next true fires. */
  armed: boolean;
}

/** The value an alert's condition was measured at, and whether the condition holds. */
interface Reading {
  value: Dec;
  hit: boolean;
}

const DAY_MS = 86_400_000;
/** How far before a `change` alert's reference day a close is looked for (weekends, holidays). */
const REFERENCE_LOOKBACK_DAYS = 10;

function minusDays(day: string, days: number): string {
  return dayOf(Date.parse(`${day}T00:00:00.000Z`) - days * DAY_MS);
}

/** A signed threshold: ≥ 0 fires at or above it, < 0 at or below it. */
function signedHit(value: Dec, threshold: Dec): boolean {
  return threshold.isNegative() ? value.lte(threshold) : value.gte(threshold);
}

/** `above` / `below` at a price. */
function levelReading(t: Tracked, price: Dec): Reading {
  return { value: price, hit: t.row.kind === 'above' ? price.gte(t.threshold) : price.lte(t.threshold) };
}

/** Starts evaluating the active alerts of `host.store`. */
export function startAlertEvaluator(host: AlertHost, options: AlertEvaluatorOptions = {}): AlertEvaluator {
  const store = alertStore(host.store);
  const reloadMs = options.reloadMs ?? 60_000;
  let tracked = new Map<string, Tracked>();
  let bySymbol = new Map<string, Tracked[]>();
  let byPortfolio = new Map<string, Tracked[]>();
  /** Reference closes of `change` alerts by `symbol|day` (null: none found). */
  let references = new Map<string, Dec | null>();
  /** Peak total value per portfolio, from its daily snapshots and values seen since. */
  let peaks = new Map<string, Dec>();
  /** The instant of the latest price evaluated, per symbol. */
  const latestAt = new Map<string, number>();
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: unknown;

  const enqueue = (fn: () => Promise<void>): Promise<void> => {
    chain = chain.then(fn).catch((error: unknown) => {
      host.logger.warn('Alert evaluation failed', { error: error instanceof Error ? error.message : String(error) });
    });
    return chain;
  };

  function index(rows: readonly AlertRow[]): void {
    const next = new Map<string, Tracked>();
    const symbols = new Map<string, Tracked[]>();
    const portfolios = new Map<string, Tracked[]>();
    for (const row of rows) {
      const before = tracked.get(row.id);
      const t: Tracked = {
        row,
        threshold: dec(row.threshold),
        armed: before ? before.armed : row.lastFiredAt === null,
      };
      next.set(row.id, t);
      const key = isPriceAlert(row.kind) ? row.symbol : row.portfolioId;
      const map = isPriceAlert(row.kind) ? symbols : portfolios;
      if (key === null) continue;
      const list = map.get(key);
      if (list) list.push(t);
      else map.set(key, [t]);
    }
    tracked = next;
    bySymbol = symbols;
    byPortfolio = portfolios;
  }

  const reload = () =>
    enqueue(async () => {
      index(await store.listAlerts({ activeOnly: true }));
      references = new Map();
      peaks = new Map();
    });

  /** Claims and announces a fire, unless within the cool-down. */
  async function fire(t: Tracked, value: Dec): Promise<void> {
    const last = t.row.lastFiredAt === null ? Number.NEGATIVE_INFINITY : Date.parse(t.row.lastFiredAt);
    // Strictly after the last fire, so a compare-and-set on `lastFiredAt` can never see the same value twice.
    const now = Math.max(host.clock.now(), last + 1);
    if (t.row.coolDownUntil !== null && now < Date.parse(t.row.coolDownUntil)) return;
    const at = toIso(now);
    const until = toIso(now + t.row.coolDownMs);
    if (await store.markAlertFired(t.row.id, at, until, t.row.lastFiredAt)) {
      t.row = { ...t.row, lastFiredAt: at, coolDownUntil: until };
      host.emit({ type: 'alert.triggered', alert: { ...t.row }, value: fmt(value), at });
      return;
    }
    // Another instance fired it first (or it is gone): learn its state.
    const [fresh] = await store.listAlerts({ id: t.row.id });
    if (fresh) t.row = fresh;
  }

  /** Applies a reading: fire on a crossing, re-arm when the condition is false. */
  async function step(t: Tracked, reading: Reading | null): Promise<void> {
    if (reading === null) return;
    if (!reading.hit) {
      t.armed = true;
      return;
    }
    if (!t.armed) return;
    t.armed = false;
    await fire(t, reading.value);
  }

  async function referenceClose(symbol: string, day: string): Promise<Dec | null> {
    const key = `${symbol}|${day}`;
    const cached = references.get(key);
    if (cached !== undefined) return cached;
    const range = { from: minusDays(day, REFERENCE_LOOKBACK_DAYS), to: day };
    let bars: Array<{ close: string }> = await host.store.listDailyBars(symbol, range);
    if (bars.length === 0) bars = await host.marketData.getDailyHistory(symbol, range).catch(() => []);
    const last = bars.at(-1);
    const close = last ? dec(last.close) : null;
    const reference = close?.gt(0) ? close : null;
    references.set(key, reference);
    return reference;
  }

  async function changeReading(t: Tracked, price: Dec, at: string): Promise<Reading | null> {
    const ref = await referenceClose(t.row.symbol as string, minusDays(dayOf(at), t.row.window ?? 1));
    if (ref === null) return null;
    const value = divide(price.minus(ref).times(100), ref);
    return { value, hit: signedHit(value, t.threshold) };
  }

  async function onPrice(e: FoliokitEventMap['price.updated']): Promise<void> {
    const list = bySymbol.get(e.symbol);
    if (!list) return;
    // A price older than one already evaluated (another instance's update relayed late) would
    // fake a crossing back and forth: it is skipped.
    const at = Date.parse(e.at);
    if (at < (latestAt.get(e.symbol) ?? Number.NEGATIVE_INFINITY)) return;
    latestAt.set(e.symbol, at);
    const price = dec(e.price);
    for (const t of list) {
      const reading = t.row.kind === 'change' ? await changeReading(t, price, e.at) : levelReading(t, price);
      // Only a crossing or a re-arm does I/O; a steady condition costs a comparison.
      if (reading !== null && reading.hit === t.armed) await step(t, reading);
    }
  }

  /** The live value of a portfolio: total, net deposits, and market value per symbol. */
  async function liveFigures(state: PortfolioState) {
    const symbols = state.positions.map((p) => p.symbol);
    const prices = await host.latestPrices(symbols);
    const values = new Map<string, Dec>();
    const { totals } = valueHoldings(state.portfolio.cash, state.positions, prices, (h, _p, amounts) => {
      if (amounts) values.set(h.symbol, dec(amounts.marketValue));
    });
    return { total: dec(totals.totalValue), netDeposits: dec(state.portfolio.netDeposits), values };
  }

  async function peakOf(portfolioId: string, current: Dec): Promise<Dec> {
    let peak = peaks.get(portfolioId);
    if (peak === undefined) {
      const rows = await host.store.listSnapshots(portfolioId, { kinds: ['daily', 'backfill'], bucket: 'day' });
      peak = rows.reduce((max, s) => (dec(s.totalValue).gt(max) ? dec(s.totalValue) : max), current);
    }
    if (current.gt(peak)) peak = current;
    peaks.set(portfolioId, peak);
    return peak;
  }

  async function previousClose(portfolioId: string, day: string): Promise<SnapshotRow | null> {
    const to = toIso(Date.parse(`${day}T00:00:00.000Z`) - 1);
    const rows = await host.store.listSnapshots(portfolioId, { kinds: ['daily', 'backfill'], to, bucket: 'day' });
    return rows.at(-1) ?? null;
  }

  async function onPortfolio(portfolioId: string, snapshot: SnapshotRow | null): Promise<void> {
    const list = byPortfolio.get(portfolioId);
    if (!list) return;
    const [state] = await host.store.readPortfolioStates([portfolioId]);
    if (!state) return;
    const live = await liveFigures(state);
    const total = snapshot ? dec(snapshot.totalValue) : live.total;
    const netDeposits = snapshot ? dec(snapshot.netDeposits) : live.netDeposits;
    const at = snapshot?.at ?? toIso(host.clock.now());
    for (const t of list) {
      await step(t, await portfolioReading(t, { portfolioId, total, netDeposits, at, values: live.values }));
    }
  }

  async function portfolioReading(
    t: Tracked,
    f: { portfolioId: string; total: Dec; netDeposits: Dec; at: string; values: ReadonlyMap<string, Dec> },
  ): Promise<Reading | null> {
    switch (t.row.kind) {
      case 'drawdown': {
        const peak = await peakOf(f.portfolioId, f.total);
        if (!peak.gt(0)) return null;
        const value = divide(peak.minus(f.total).times(100), peak);
        return { value, hit: value.gte(t.threshold) };
      }
      case 'weight': {
        if (!f.total.gt(0)) return null;
        const mv = f.values.get(t.row.symbol as string) ?? dec(0);
        const value = divide(mv.times(100), f.total);
        return { value, hit: value.gt(t.threshold) };
      }
      case 'daily-pnl': {
        const base = await previousClose(f.portfolioId, dayOf(f.at));
        if (!base) return null;
        const value = f.total.minus(f.netDeposits).minus(dec(base.totalValue).minus(dec(base.netDeposits)));
        return { value, hit: signedHit(value, t.threshold) };
      }
      default:
        return null;
    }
  }

  const unsubscribe = [
    host.on('price.updated', (e) => {
      if (bySymbol.has(e.symbol)) void enqueue(() => onPrice(e));
    }),
    host.on('snapshot.recorded', (e) => {
      if (byPortfolio.has(e.portfolioId)) void enqueue(() => onPortfolio(e.portfolioId, e.snapshot));
    }),
    host.on('trade.executed', (e) => {
      if (byPortfolio.has(e.portfolioId)) void enqueue(() => onPortfolio(e.portfolioId, null));
    }),
  ];

  const evaluator: AlertEvaluator = {
    reload,
    idle: async () => {
      let seen: Promise<void> | undefined;
      while (seen !== chain) {
        seen = chain;
        await seen;
      }
    },
    stop() {
      stopped = true;
      for (const off of unsubscribe) off();
      unregister();
      if (timer !== undefined) host.clock.clearTimeout(timer);
    },
    get size() {
      return tracked.size;
    },
  };
  const unregister = registerEvaluator(host, evaluator);

  const schedule = () => {
    if (stopped) return;
    timer = host.clock.setTimeout(() => {
      void reload().then(schedule);
    }, reloadMs);
  };
  void reload().then(schedule);
  return evaluator;
}
