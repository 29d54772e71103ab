/**
 * The post-trade snapshot: the prices fetched before a trade's transaction, and the snapshot row
 * planned inside it from the post-trade state.
 *
 * The prefetch guesses which symbols the portfolio holds from the last trade through this engine.
 * Another engine instance on the same store may have bought something since: the planner, which
 * sees every position under the transaction, then rolls the transaction back naming the symbols it
 * has no price for, and {@link withTradeSnapshotPrices} fetches them and runs the transaction once
 * more. A position still priced nowhere after that is flagged `SYM:unpriced`, never left out.
 */
import type { Dec } from '../money/decimal.js';
import type { LedgerState, LedgerWrite, PositionRow, SnapshotRow, Store } from '../ports/index.js';
import { toIso } from '../time.js';
import type { HoldingPrice } from '../valuation/kernel.js';
import { computeSnapshot, snapshotBase } from '../valuation/snapshot.js';
import type { SnapshotHost } from './host.js';

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

/**
 * Thrown by {@link planTradeSnapshot} inside the trade's transaction (which it rolls back) when the
 * post-trade state holds symbols the prefetch did not price; caught by {@link withTradeSnapshotPrices}.
 */
class SnapshotPricesMissing extends Error {
  override readonly name = 'SnapshotPricesMissing';
  constructor(readonly symbols: readonly string[]) {
    super(`The post-trade snapshot has no prefetched price for ${symbols.join(', ')}`);
  }
}

/** Prefetched price maps whose transaction may still be retried for missing symbols. */
const retryable = new WeakSet<ReadonlyMap<string, HoldingPrice>>();

/**
 * Runs a trade's transaction whose planner calls {@link planTradeSnapshot} with `prices`. When the
 * planner finds held symbols missing from `prices` (bought through another engine instance since
 * this one's last trade), the transaction is rolled back, their prices are fetched into `prices`,
 * and the transaction runs once more (then a symbol still missing is valued at the price book's
 * memory or flagged unpriced). With `prices` null (no post-trade snapshot), `run` runs once.
 *
 * @example
 * ```ts
 * await withTradeSnapshotPrices(host, snapPrices, () => host.store.applyLedgerChange(request, planner));
 * // or, the same: await tradeSnapshotLedger(host, snapPrices).applyLedgerChange(request, planner);
 * ```
 */
export async function withTradeSnapshotPrices<T>(
  host: SnapshotHost,
  prices: Map<string, HoldingPrice> | null,
  run: () => Promise<T>,
): Promise<T> {
  if (!prices) return run();
  retryable.add(prices);
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof SnapshotPricesMissing)) throw error;
    retryable.delete(prices);
    const known = await host.latestPrices(error.symbols);
    for (const [s, p] of known) prices.set(s, { price: p.price, stale: p.stale });
    return run();
  } finally {
    retryable.delete(prices);
  }
}

/**
 * The store's `applyLedgerChange`, run through {@link withTradeSnapshotPrices}: a trade calls it in
 * place of `host.store.applyLedgerChange` when its planner plans a post-trade snapshot on `prices`.
 *
 * @example
 * ```ts
 * await tradeSnapshotLedger(host, snapPrices).applyLedgerChange(request, planner);
 * ```
 */
export function tradeSnapshotLedger(
  host: SnapshotHost,
  prices: Map<string, HoldingPrice> | null,
): Pick<Store, 'applyLedgerChange'> {
  return {
    applyLedgerChange: (request, plan) =>
      withTradeSnapshotPrices(host, prices, () => host.store.applyLedgerChange(request, plan)),
  };
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
): Promise<Map<string, HoldingPrice>> {
  let held = hintsOf(host).get(portfolioId);
  if (!held) {
    const rows = await host.store.listPositions(portfolioId);
    held = rows.filter((r) => r.quantity !== '0').map((r) => r.symbol);
  }
  const symbols = new Set<string>();
  if (backdated) symbols.add(symbol);
  for (const s of held) if (s !== symbol) symbols.add(s);
  const out = new Map<string, HoldingPrice>();
  if (symbols.size === 0) return out;
  const known = await host.latestPrices([...symbols]);
  for (const [s, p] of known) out.set(s, { price: p.price, stale: p.stale });
  return out;
}

/**
 * Plans the post-trade snapshot inside the trade's transaction, from the post-trade state: cash
 * and totals from the write, positions as loaded under lock (every position: the request must set
 * `loadAllPositions`) with the touched one replaced. A position the prefetch did not price (bought
 * through another instance since) makes the planner throw, for {@link withTradeSnapshotPrices} to
 * fetch its price and retry; on the retry, or without that wrapper, it is valued at the price
 * book's in-memory price, flagged stale, and with none it is flagged `SYM:unpriced`, never guessed.
 */
export function planTradeSnapshot(
  host: SnapshotHost,
  state: LedgerState,
  write: LedgerWrite,
  prices: ReadonlyMap<string, HoldingPrice>,
  fill: { symbol: string; price: Dec; stale: boolean },
  nowMs: number,
): SnapshotRow {
  const positions = positionsAfter(state, write);
  const held = positions.filter((p) => p.quantity !== '0').map((p) => p.symbol);
  const hints = hintsOf(host);
  if (hints.size >= 10_000) hints.clear();
  hints.set(state.portfolio.id, held);
  const missing = held.filter((s) => s !== fill.symbol && !prices.has(s));
  if (missing.length > 0 && retryable.has(prices)) throw new SnapshotPricesMissing(missing);
  let effective = prices;
  for (const p of positions) {
    if (p.quantity === '0' || effective.has(p.symbol)) continue;
    const stand =
      p.symbol === fill.symbol
        ? { price: fill.price, stale: fill.stale }
        : (() => {
            const peeked = host.priceBook?.peek(p.symbol);
            return peeked ? { price: peeked.price, stale: true } : undefined;
          })();
    if (!stand) continue;
    if (effective === prices) effective = new Map(prices);
    (effective as Map<string, HoldingPrice>).set(p.symbol, stand);
  }
  return computeSnapshot(snapshotBase(state.portfolio.id, write.portfolio, 'trade', toIso(nowMs)), positions, effective)
    .row;
}
