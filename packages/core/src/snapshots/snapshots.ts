/**
 * Snapshots: a portfolio's value at an instant, recorded after trades, on an interval, by the daily
 * job and by backfill. This module holds the pure valuation of a snapshot, the options, the
 * post-trade snapshot planner, manual snapshots and the history query; the jobs live in
 * `daily.ts`, `backfill.ts` and `scheduler.ts`.
 *
 * A position without a current price is counted at its last known price and flagged `SYM:stale`;
 * a position with no price at all is left out of the totals and flagged `SYM:unpriced`. A snapshot
 * never carries NaN and never counts a position as a silent zero.
 */
import { z } from 'zod';
import { validate } from '../engine/validation.js';
import { FoliokitError } from '../errors.js';
import type { FoliokitEvent } from '../events.js';
import { type Dec, dec, fmt, ZERO } from '../money/decimal.js';
import { formatScaled, parseScaled } from '../money/fixed.js';
import type {
  Clock,
  HoldingRow,
  LedgerState,
  LedgerWrite,
  Logger,
  MarketDataProvider,
  PositionRow,
  SnapshotKind,
  SnapshotRow,
  Store,
} from '../ports/index.js';
import { SNAPSHOT_KINDS } from '../ports/index.js';
import { dayOf, parseInstant, toIso } from '../time.js';

/** A recorded snapshot, as the public API shows it. Decimals are strings. */
export type Snapshot = SnapshotRow;

/** Snapshot options of `createPortfolioEngine({ snapshots })`. */
export interface SnapshotOptions {
  /**
   * Record a `trade` snapshot in the same store transaction as each trade (prices are fetched
   * before the transaction). @default true
   */
  onTrade?: boolean;
  /** How often the scheduler's interval job snapshots portfolios with open positions, in ms. @default 30_000 */
  intervalMs?: number;
  /** Longest range `backfill` accepts, in days. @default 3660 */
  maxBackfillDays?: number;
  /** Days of daily history fetched before a backfill's first day, so it starts with a close. @default 14 */
  backfillLookbackDays?: number;
  /** Portfolios per batch in the daily and interval jobs (one read, one price fetch, one write each). @default 1000 */
  batchSize?: number;
}

/** {@link SnapshotOptions} after defaults. */
export type ResolvedSnapshotOptions = Required<SnapshotOptions>;

const snapshotOptionsSchema = z.strictObject({
  onTrade: z.boolean().default(true),
  intervalMs: z.number().int().min(1000).max(86_400_000).default(30_000),
  maxBackfillDays: z.number().int().min(1).max(36_600).default(3660),
  backfillLookbackDays: z.number().int().min(0).max(366).default(14),
  batchSize: z.number().int().min(1).max(10_000).default(1000),
});

/** Validates and freezes the snapshot options. @throws `INVALID_CONFIGURATION` */
export function resolveSnapshotOptions(input: SnapshotOptions | undefined): ResolvedSnapshotOptions {
  const r = snapshotOptionsSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = `snapshots.${issue?.path.map(String).join('.') ?? ''}`;
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `createPortfolioEngine: ${field}: ${issue?.message ?? 'invalid'}`,
      {
        field,
      },
    );
  }
  return Object.freeze(r.data);
}

/** What the snapshot code needs from the engine (the engine satisfies it). */
export interface SnapshotHost {
  readonly store: Store;
  readonly marketData: MarketDataProvider;
  readonly clock: Clock;
  readonly logger: Logger;
  emit(event: FoliokitEvent): void;
  /** Latest prices: the provider's, else the store's last known (stale); absent when neither. */
  latestPrices(symbols: readonly string[]): Promise<ReadonlyMap<string, SnapshotPrice>>;
  /** The engine's price book: its in-memory prices, read without I/O. */
  readonly priceBook?: { peek(symbol: string): SnapshotPrice | undefined };
}

/** A price as the snapshot valuation needs it. */
export interface SnapshotPrice {
  price: Dec;
  /** True when it is a last known price rather than a current one. */
  stale: boolean;
}

/** The portfolio-level figures a snapshot carries over unchanged. */
export interface SnapshotBase {
  portfolioId: string;
  at: string;
  day: string;
  kind: SnapshotKind;
  cash: string;
  netDeposits: string;
  realizedPnl: string;
}

/** A computed snapshot with the symbols it could not price at a current price. */
export interface ComputedSnapshot {
  row: SnapshotRow;
  /** Symbols held but priced nowhere: left out of the totals. */
  unpriced: string[];
  /** Symbols valued at a last known price. */
  stale: string[];
}

/** A price as a bigint scaled by 10^18, computed once per price object. */
const scaledPrices = new WeakMap<object, bigint | null>();
function priceScaled(p: SnapshotPrice): bigint | null {
  let v = scaledPrices.get(p.price);
  if (v === undefined) {
    v = parseScaled(fmt(p.price), 18);
    scaledPrices.set(p.price, v);
  }
  return v;
}

/**
 * Values holdings (quantity ≠ 0) at prices. Market value and cost basis count priced positions
 * only (stale ones included, flagged); unpriced positions are left out and flagged. The sums are
 * exact, on scaled bigints (quantities and prices have at most 18 decimals, amounts 36), with
 * decimal.js as the fallback for anything that does not fit.
 */
export function computeSnapshot(
  base: SnapshotBase,
  holdings: Iterable<Pick<HoldingRow, 'symbol' | 'quantity' | 'costBasis'>>,
  prices: ReadonlyMap<string, SnapshotPrice>,
): ComputedSnapshot {
  let marketValue = 0n;
  let costBasis = 0n;
  const unpriced: string[] = [];
  const stale: string[] = [];
  const flags: string[] = [];
  const all = Array.isArray(holdings)
    ? (holdings as ReadonlyArray<Pick<HoldingRow, 'symbol' | 'quantity' | 'costBasis'>>)
    : [...holdings];
  for (const h of all) {
    if (h.quantity === '0') continue;
    const known = prices.get(h.symbol);
    if (!known) {
      unpriced.push(h.symbol);
      flags.push(`${h.symbol}:unpriced`);
      continue;
    }
    const q = parseScaled(h.quantity, 18);
    const c = parseScaled(h.costBasis, 36);
    const p = priceScaled(known);
    if (q === null || c === null || p === null) return computeSnapshotDec(base, all, prices);
    marketValue += q * p;
    costBasis += c;
    if (known.stale) {
      stale.push(h.symbol);
      flags.push(`${h.symbol}:stale`);
    }
  }
  const cash = parseScaled(base.cash, 36);
  if (cash === null) return computeSnapshotDec(base, all, prices);
  const row: SnapshotRow = {
    portfolioId: base.portfolioId,
    at: base.at,
    day: base.day,
    kind: base.kind,
    cash: base.cash,
    marketValue: formatScaled(marketValue, 36),
    totalValue: formatScaled(cash + marketValue, 36),
    costBasis: formatScaled(costBasis, 36),
    unrealizedPnl: formatScaled(marketValue - costBasis, 36),
    realizedPnl: base.realizedPnl,
    netDeposits: base.netDeposits,
    flags,
  };
  return { row, unpriced, stale };
}

/** {@link computeSnapshot} in decimal.js: the reference, and the fallback. */
export function computeSnapshotDec(
  base: SnapshotBase,
  holdings: Iterable<Pick<HoldingRow, 'symbol' | 'quantity' | 'costBasis'>>,
  prices: ReadonlyMap<string, SnapshotPrice>,
): ComputedSnapshot {
  let marketValue = ZERO;
  let costBasis = ZERO;
  const unpriced: string[] = [];
  const stale: string[] = [];
  const flags: string[] = [];
  for (const h of holdings) {
    if (h.quantity === '0') continue;
    const known = prices.get(h.symbol);
    if (!known) {
      unpriced.push(h.symbol);
      flags.push(`${h.symbol}:unpriced`);
      continue;
    }
    marketValue = marketValue.plus(dec(h.quantity).times(known.price));
    costBasis = costBasis.plus(dec(h.costBasis));
    if (known.stale) {
      stale.push(h.symbol);
      flags.push(`${h.symbol}:stale`);
    }
  }
  const row: SnapshotRow = {
    portfolioId: base.portfolioId,
    at: base.at,
    day: base.day,
    kind: base.kind,
    cash: base.cash,
    marketValue: fmt(marketValue),
    totalValue: fmt(dec(base.cash).plus(marketValue)),
    costBasis: fmt(costBasis),
    unrealizedPnl: fmt(marketValue.minus(costBasis)),
    realizedPnl: base.realizedPnl,
    netDeposits: base.netDeposits,
    flags,
  };
  return { row, unpriced, stale };
}

/** Positions after a planned write: the touched position replaced (or added), flat ones dropped. */
function positionsAfter(state: LedgerState, write: LedgerWrite): PositionRow[] {
  const out: PositionRow[] = [];
  let replaced = false;
  for (const p of state.positions) {
    if (write.position && p.symbol === write.position.symbol) {
      out.push(write.position);
      replaced = true;
    } else out.push(p);
  }
  if (write.position && !replaced) out.push(write.position);
  out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return out;
}

/** Symbols each portfolio held after its last trade here: a hint that saves a read before each trade. */
const heldHints = new WeakMap<SnapshotHost, Map<string, readonly string[]>>();

function hintsOf(host: SnapshotHost): Map<string, readonly string[]> {
  let hints = heldHints.get(host);
  if (!hints) {
    hints = new Map();
    heldHints.set(host, hints);
  }
  return hints;
}

/**
 * Prices fetched before a trade's transaction, for its post-trade snapshot: the latest price of
 * every other symbol the portfolio holds (known from its last trade through this engine, else read).
 * The traded symbol is valued at the fill price, a price the market (or the user) set just now; a
 * backdated trade's fill is not current, so for one the latest price is fetched too, and the fill
 * price only stands in (flagged stale) when there is none.
 */
export async function prefetchTradePrices(
  host: SnapshotHost,
  portfolioId: string,
  symbol: string,
  backdated: boolean,
): Promise<Map<string, SnapshotPrice>> {
  let held = hintsOf(host).get(portfolioId);
  if (!held) {
    const rows = await host.store.listPositions(portfolioId);
    held = rows.filter((r) => r.quantity !== '0').map((r) => r.symbol);
  }
  const symbols = new Set<string>();
  if (backdated) symbols.add(symbol);
  for (const s of held) if (s !== symbol) symbols.add(s);
  const out = new Map<string, SnapshotPrice>();
  if (symbols.size === 0) return out;
  const known = await host.latestPrices([...symbols]);
  for (const [s, p] of known) out.set(s, { price: p.price, stale: p.stale });
  return out;
}

/**
 * Plans the post-trade snapshot inside the trade's transaction, from the post-trade state: cash
 * and totals from the write, positions as loaded under lock with the touched one replaced. A
 * position the prefetch did not know (bought through another instance since) is valued at the
 * price book's in-memory price, flagged stale; with none, it is flagged `SYM:unpriced`, never guessed.
 */
export function planTradeSnapshot(
  host: SnapshotHost,
  state: LedgerState,
  write: LedgerWrite,
  prices: ReadonlyMap<string, SnapshotPrice>,
  fill: { symbol: string; price: Dec; stale: boolean },
  nowMs: number,
): SnapshotRow {
  const positions = positionsAfter(state, write);
  let effective = prices;
  const held: string[] = [];
  for (const p of positions) {
    if (p.quantity === '0') continue;
    held.push(p.symbol);
    if (effective.has(p.symbol)) continue;
    const stand =
      p.symbol === fill.symbol
        ? { price: fill.price, stale: fill.stale }
        : (() => {
            const peeked = host.priceBook?.peek(p.symbol);
            return peeked ? { price: peeked.price, stale: true } : undefined;
          })();
    if (!stand) continue;
    if (effective === prices) effective = new Map(prices);
    (effective as Map<string, SnapshotPrice>).set(p.symbol, stand);
  }
  const hints = hintsOf(host);
  if (hints.size >= 10_000) hints.clear();
  hints.set(state.portfolio.id, held);
  return computeSnapshot(
    {
      portfolioId: state.portfolio.id,
      at: toIso(nowMs),
      day: dayOf(nowMs),
      kind: 'trade',
      cash: write.portfolio.cash,
      netDeposits: write.portfolio.netDeposits,
      realizedPnl: write.portfolio.realizedPnl,
    },
    positions,
    effective,
  ).row;
}

/** Kinds `recordSnapshot` accepts (`backfill` is written by `backfill` only). */
export const MANUAL_SNAPSHOT_KINDS = ['interval', 'trade', 'daily'] as const;

/**
 * Records one snapshot of a portfolio now, at the latest prices. `daily` replaces today's daily
 * snapshot; the other kinds append.
 */
export async function recordSnapshot(
  host: SnapshotHost,
  portfolioId: string,
  kind: (typeof MANUAL_SNAPSHOT_KINDS)[number],
): Promise<Snapshot> {
  if (!(MANUAL_SNAPSHOT_KINDS as readonly string[]).includes(kind)) {
    throw new FoliokitError('VALIDATION_FAILED', `kind must be one of ${MANUAL_SNAPSHOT_KINDS.join(', ')}`, {
      field: 'kind',
    });
  }
  const [state] = await host.store.readPortfolioStates([portfolioId]);
  if (!state) {
    throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${portfolioId}`, {
      field: 'portfolioId',
      portfolioId,
    });
  }
  const { portfolio, positions: open } = state;
  const prices = await host.latestPrices(open.map((p) => p.symbol));
  const nowMs = host.clock.now();
  const { row } = computeSnapshot(
    {
      portfolioId,
      at: toIso(nowMs),
      day: dayOf(nowMs),
      kind,
      cash: portfolio.cash,
      netDeposits: portfolio.netDeposits,
      realizedPnl: portfolio.realizedPnl,
    },
    open,
    prices,
  );
  await host.store.insertSnapshots([row], kind === 'daily' ? { replace: 'day' } : undefined);
  host.emit({ type: 'snapshot.recorded', portfolioId, snapshot: row });
  return row;
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

/** Downsampling intervals of `engine.getHistory`. */
export const HISTORY_INTERVALS = ['raw', '1h', '1d'] as const;
export type HistoryInterval = (typeof HISTORY_INTERVALS)[number];

/** Input of `engine.getHistory`. */
export interface GetHistoryInput {
  /**
   * First instant (inclusive): an ISO instant or a day `YYYY-MM-DD` (its 00:00 UTC).
   * @default `to` minus 1 day (`raw`), 31 days (`1h`), 3660 days (`1d`)
   */
  from?: string | Date;
  /** Last instant (inclusive). A day means its end (23:59:59.999 UTC). @default now */
  to?: string | Date;
  /** Only these kinds. @default every kind */
  kinds?: SnapshotKind[];
  /**
   * `raw`: every snapshot. `1h` / `1d`: the last snapshot of each UTC hour / day (by `at` for
   * hours, by the snapshot's `day` for days). @default 'raw'
   */
  interval?: HistoryInterval;
  /** Most points returned. @default 1000, at most 10,000 */
  limit?: number;
}

/** The answer of `engine.getHistory`. */
export interface History {
  portfolioId: string;
  interval: HistoryInterval;
  from: string;
  to: string;
  /** Ordered by `at`, oldest first. */
  items: Snapshot[];
  /** True when `limit` cut the series: ask again from just after the last item. */
  truncated: boolean;
}

/** Longest range per interval, in days: beyond, `RANGE_TOO_LARGE`. */
export const HISTORY_MAX_DAYS: Record<HistoryInterval, number> = { raw: 3660, '1h': 366, '1d': 3660 };
const HISTORY_DEFAULT_DAYS: Record<HistoryInterval, number> = { raw: 1, '1h': 31, '1d': 3660 };
const DAY_MS = 86_400_000;
const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;

const historySchema = z.strictObject({
  from: z.union([z.string(), z.date()]).optional(),
  to: z.union([z.string(), z.date()]).optional(),
  kinds: z.array(z.enum(SNAPSHOT_KINDS)).min(1).max(SNAPSHOT_KINDS.length).optional(),
  interval: z.enum(HISTORY_INTERVALS).default('raw'),
  limit: z.number().int().min(1).max(10_000).default(1000),
});

/** The value series of a portfolio. See {@link GetHistoryInput}. */
export async function getHistory(host: SnapshotHost, portfolioId: string, input: GetHistoryInput): Promise<History> {
  const v = validate(historySchema, input, 'input');
  const nowMs = host.clock.now();
  const toMs =
    v.to === undefined
      ? nowMs
      : typeof v.to === 'string' && DAY_ONLY.test(v.to)
        ? parseInstant(v.to, 'to') + DAY_MS - 1
        : parseInstant(v.to, 'to');
  const fromMs =
    v.from === undefined ? toMs - HISTORY_DEFAULT_DAYS[v.interval] * DAY_MS + 1 : parseInstant(v.from, 'from');
  if (fromMs > toMs) {
    throw new FoliokitError('VALIDATION_FAILED', 'from must not be after to', { field: 'from' });
  }
  const maxDays = HISTORY_MAX_DAYS[v.interval];
  if (toMs - fromMs >= maxDays * DAY_MS) {
    throw new FoliokitError(
      'RANGE_TOO_LARGE',
      `A ${v.interval} history spans at most ${maxDays} days; ask for a shorter range or a coarser interval`,
      { field: 'from', maxDays },
    );
  }
  const portfolio = await host.store.getPortfolio(portfolioId);
  if (!portfolio) {
    throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${portfolioId}`, {
      field: 'portfolioId',
      portfolioId,
    });
  }
  const from = toIso(fromMs);
  const to = toIso(toMs);
  const bucket = v.interval === '1h' ? 'hour' : v.interval === '1d' ? 'day' : undefined;
  const rows = await host.store.listSnapshots(portfolioId, {
    from,
    to,
    limit: v.limit + 1,
    ...(v.kinds ? { kinds: v.kinds } : {}),
    ...(bucket ? { bucket } : {}),
  });
  const series = bucket ? downsample(rows, bucket) : rows;
  return {
    portfolioId,
    interval: v.interval,
    from,
    to,
    items: series.slice(0, v.limit),
    truncated: series.length > v.limit,
  };
}

/**
 * Keeps the last snapshot of each bucket (rows ordered by `at`). Idempotent, so rows a store has
 * already downsampled come out unchanged.
 */
export function downsample(rows: readonly SnapshotRow[], bucket: 'hour' | 'day'): SnapshotRow[] {
  const out: SnapshotRow[] = [];
  let lastKey: string | null = null;
  for (const r of rows) {
    const key = bucket === 'day' ? r.day : r.at.slice(0, 13);
    if (key === lastKey) out[out.length - 1] = r;
    else {
      out.push(r);
      lastKey = key;
    }
  }
  return out;
}
