/**
 * The post-trade snapshot: the prices fetched before a trade's transaction, and the snapshot row
 * planned inside it from the post-trade state.
 */
import type { Dec } from '../money/decimal.js';
import type { LedgerState, LedgerWrite, PositionRow, SnapshotRow } from '../ports/index.js';
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
 * and totals from the write, positions as loaded under lock with the touched one replaced. A
 * position the prefetch did not know (bought through another instance since) is valued at the
 * price book's in-memory price, flagged stale; with none, it is flagged `SYM:unpriced`, never guessed.
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
    (effective as Map<string, HoldingPrice>).set(p.symbol, stand);
  }
  const hints = hintsOf(host);
  if (hints.size >= 10_000) hints.clear();
  hints.set(state.portfolio.id, held);
  return computeSnapshot(snapshotBase(state.portfolio.id, write.portfolio, 'trade', toIso(nowMs)), positions, effective)
    .row;
}
