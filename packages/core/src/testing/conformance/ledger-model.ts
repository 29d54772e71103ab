/**
 * Conformance, ledger model (fast-check `commands`): random deposits, withdrawals, buys and sells
 * (at a given price and at the market price), price ticks and snapshots, under average cost and
 * FIFO, each checked after every command against an exact reference model written here on its own
 * rules, not the engine's planner: cash, net deposits, positions (quantity, cost basis, realized
 * P&L), FIFO lots, every ledger entry (realized P&L of each sell, cash and quantity after it), the
 * error code of each refusal, and the figures of a snapshot and a valuation. A wrong rule cannot
 * hide behind a replay of what the store recorded: the model computes every figure itself.
 *
 * The model is a ledger in date order: entries sorted by `at`, entries at one instant in entry
 * order, and every state is the replay of that ledger by the model's rules. An entry that would make
 * itself or a later entry impossible is refused with the code of the first entry that fails, and
 * nothing changes.
 */
import type { Arbitrary, AsyncCommand } from 'fast-check';
import type { PortfolioEngine } from '../../engine/index.js';
import type { ErrorCode } from '../../errors.js';
import { type Dec, dec, divide, fmt, ZERO } from '../../money/decimal.js';
import type { CostBasisMethod, Store } from '../../ports/index.js';
import { toIso } from '../../time.js';
import type { ManualClock } from '../clock.js';
import type { TestProvider } from '../provider.js';
import { fastCheck, vitest } from '../runtime.js';
import { type ConformanceContext, codeOf } from './context.js';

/**
 * Whether commands may carry an `at` earlier than entries already made. Off: every command's `at`
 * is the clock's now, which only moves forward (ties included). On: cash movements and trades at a
 * given price are backdated by up to a few days, and the store must re-plan from that instant.
 */
const BACKDATE_ENTRIES = true;

/** The symbols the model trades, and the prices its provider starts with. */
const START_PRICES: Readonly<Record<string, string>> = { AAPL: '100', MSFT: '250.5' };
const SYMBOLS = Object.keys(START_PRICES);

// ----- the reference model ----------------------------------------------------------------------

interface CashEntry {
  kind: 'deposit' | 'withdrawal';
  at: number;
  amount: Dec;
}
interface TradeEntry {
  kind: 'buy' | 'sell';
  at: number;
  symbol: string;
  quantity: Dec;
  price: Dec;
  fee: Dec;
}
type Entry = CashEntry | TradeEntry;

const isCash = (e: Entry): e is CashEntry => e.kind === 'deposit' || e.kind === 'withdrawal';

interface Lot {
  at: number;
  quantity: Dec;
  cost: Dec;
}

interface Holding {
  quantity: Dec;
  costBasis: Dec;
  realizedPnl: Dec;
  /** FIFO lots, oldest first (empty under average cost). */
  lots: Lot[];
}

/** A ledger entry as the store must hold it. */
interface LedgerLine {
  kind: string;
  symbol: string | null;
  quantity: string | null;
  amount: string;
  realizedPnl: string | null;
  cashAfter: string;
  quantityAfter: string | null;
}

/** The state a replay of the model's ledger reaches. */
interface ModelState {
  cash: Dec;
  netDeposits: Dec;
  realizedPnl: Dec;
  holdings: Map<string, Holding>;
  lines: LedgerLine[];
}

const emptyState = (): ModelState => ({
  cash: ZERO,
  netDeposits: ZERO,
  realizedPnl: ZERO,
  holdings: new Map(),
  lines: [],
});

/** The cost a sell of `quantity` removes from `h` (mutating its lots under FIFO). */
function removedCost(h: Holding, quantity: Dec, method: CostBasisMethod): Dec {
  if (quantity.eq(h.quantity)) {
    h.lots = [];
    return h.costBasis;
  }
  if (method === 'average') {
    const share = divide(h.costBasis.times(quantity), h.quantity);
    return share.gt(h.costBasis) ? h.costBasis : share;
  }
  let left = quantity;
  let removed = ZERO;
  while (left.gt(0)) {
    const lot = h.lots[0] as Lot;
    if (left.gte(lot.quantity)) {
      removed = removed.plus(lot.cost);
      left = left.minus(lot.quantity);
      h.lots.shift();
    } else {
      const part = divide(lot.cost.times(left), lot.quantity);
      removed = removed.plus(part);
      lot.quantity = lot.quantity.minus(left);
      lot.cost = lot.cost.minus(part);
      left = ZERO;
    }
  }
  return removed;
}

/** Applies one entry to `s` in place; the code when it is impossible at its own time. */
function applyEntry(s: ModelState, e: Entry, method: CostBasisMethod): ErrorCode | null {
  if (isCash(e)) {
    const signed = e.kind === 'deposit' ? e.amount : e.amount.neg();
    if (s.cash.plus(signed).isNegative()) return 'INSUFFICIENT_CASH';
    s.cash = s.cash.plus(signed);
    s.netDeposits = s.netDeposits.plus(signed);
    s.lines.push({
      kind: e.kind,
      symbol: null,
      quantity: null,
      amount: fmt(signed),
      realizedPnl: null,
      cashAfter: fmt(s.cash),
      quantityAfter: null,
    });
    return null;
  }
  const h = s.holdings.get(e.symbol) ?? { quantity: ZERO, costBasis: ZERO, realizedPnl: ZERO, lots: [] };
  const gross = e.quantity.times(e.price);
  let amount: Dec;
  let realized: Dec | null = null;
  if (e.kind === 'buy') {
    amount = gross.plus(e.fee).neg();
    if (s.cash.plus(amount).isNegative()) return 'INSUFFICIENT_CASH';
    h.quantity = h.quantity.plus(e.quantity);
    h.costBasis = h.costBasis.plus(amount.neg());
    if (method === 'fifo') h.lots.push({ at: e.at, quantity: e.quantity, cost: amount.neg() });
  } else {
    if (e.quantity.gt(h.quantity)) return 'INSUFFICIENT_QUANTITY';
    amount = gross.minus(e.fee);
    if (s.cash.plus(amount).isNegative()) return 'INSUFFICIENT_CASH';
    const removed = removedCost(h, e.quantity, method);
    realized = amount.minus(removed);
    h.quantity = h.quantity.minus(e.quantity);
    h.costBasis = h.costBasis.minus(removed);
    h.realizedPnl = h.realizedPnl.plus(realized);
    s.realizedPnl = s.realizedPnl.plus(realized);
  }
  s.cash = s.cash.plus(amount);
  s.holdings.set(e.symbol, h);
  s.lines.push({
    kind: e.kind,
    symbol: e.symbol,
    quantity: fmt(e.quantity),
    amount: fmt(amount),
    realizedPnl: realized === null ? null : fmt(realized),
    cashAfter: fmt(s.cash),
    quantityAfter: fmt(h.quantity),
  });
  return null;
}

/** A portfolio's ledger kept in date order, and the state its replay reaches. */
class LedgerModel {
  readonly method: CostBasisMethod;
  #entries: Entry[] = [];
  state: ModelState = emptyState();

  constructor(method: CostBasisMethod) {
    this.method = method;
  }

  /** Adds an entry at its date (after every entry at the same instant): null, or the refusal's code. */
  add(e: Entry): ErrorCode | null {
    const at = this.#entries.findIndex((x) => x.at > e.at);
    const entries = [...this.#entries];
    entries.splice(at < 0 ? entries.length : at, 0, e);
    const next = emptyState();
    for (const x of entries) {
      const refused = applyEntry(next, x, this.method);
      if (refused) return refused;
    }
    this.#entries = entries;
    this.state = next;
    return null;
  }

  /** The quantity held now (the end of the ledger). */
  held(symbol: string): Dec {
    return this.state.holdings.get(symbol)?.quantity ?? ZERO;
  }
}

// ----- the system under test and the commands ---------------------------------------------------

/** What the commands drive: the fixture's engine, store, clock and provider, one portfolio. */
interface World {
  engine: PortfolioEngine;
  store: Store;
  clock: ManualClock;
  provider: TestProvider;
  /** The price the provider quotes for each symbol (kept across runs, as the provider is). */
  prices: Map<string, Dec>;
  portfolioId: string;
}

type Cmd = AsyncCommand<LedgerModel, World, true>;

/** When a command happens: the clock moves `delayMs` forward, and its `at` is `backMs` before now. */
interface Timing {
  delayMs: number;
  backMs: number;
}

/** Moves the clock and returns the command's `at` (never backdated for a market-priced trade). */
function instantOf(w: World, t: Timing, backdate = true): number {
  w.clock.set(w.clock.now() + t.delayMs);
  return w.clock.now() - (BACKDATE_ENTRIES && backdate ? t.backMs : 0);
}

const timingText = (t: Timing) => `+${t.delayMs}ms${BACKDATE_ENTRIES ? ` −${t.backMs}ms` : ''}`;

class CashCommand implements Cmd {
  constructor(
    readonly kind: 'deposit' | 'withdrawal',
    readonly amount: Dec,
    readonly timing: Timing,
  ) {}
  check = async () => true;
  async run(m: LedgerModel, w: World): Promise<void> {
    const at = instantOf(w, this.timing);
    const expected = m.add({ kind: this.kind, at, amount: this.amount }) ?? 'OK';
    const input = { amount: fmt(this.amount), at: toIso(at) };
    const call =
      this.kind === 'deposit' ? w.engine.deposit(w.portfolioId, input) : w.engine.withdraw(w.portfolioId, input);
    vitest()
      .expect(await codeOf(call), this.toString())
      .toBe(expected);
    await expectAgreement(m, w);
  }
  toString = () => `${this.kind} ${fmt(this.amount)} ${timingText(this.timing)}`;
}

/** A sell's size: a quantity, or a percentage of what the model holds then (over 100: an oversell). */
type Size = { quantity: Dec } | { percent: number };

class TradeCommand implements Cmd {
  constructor(
    readonly side: 'buy' | 'sell',
    readonly symbol: string,
    readonly size: Size,
    /** null: at the market price. */
    readonly price: Dec | null,
    readonly fee: Dec,
    readonly timing: Timing,
  ) {}
  check = async () => true;
  async run(m: LedgerModel, w: World): Promise<void> {
    const at = instantOf(w, this.timing, this.price !== null);
    const quantity = quantityOf(this.size, m.held(this.symbol));
    const price = this.price ?? (w.prices.get(this.symbol) as Dec);
    const expected = m.add({ kind: this.side, at, symbol: this.symbol, quantity, price, fee: this.fee }) ?? 'OK';
    const call = w.engine.trade(w.portfolioId, {
      symbol: this.symbol,
      side: this.side,
      quantity: fmt(quantity),
      ...(this.price === null ? {} : { price: fmt(this.price) }),
      fee: fmt(this.fee),
      at: toIso(at),
    });
    vitest()
      .expect(await codeOf(call), `${this.toString()} (quantity ${fmt(quantity)})`)
      .toBe(expected);
    await expectAgreement(m, w);
  }
  toString = () => {
    const size = 'quantity' in this.size ? fmt(this.size.quantity) : `${this.size.percent}% of held`;
    const price = this.price === null ? 'market' : fmt(this.price);
    return `${this.side} ${size} ${this.symbol} @ ${price} fee ${fmt(this.fee)} ${timingText(this.timing)}`;
  };
}

/** A size as a quantity: a percentage of `held` rounded down to 3 places, at least 0.001. */
function quantityOf(size: Size, held: Dec): Dec {
  if ('quantity' in size) return size.quantity;
  const q = held.times(size.percent).div(100).toDecimalPlaces(3, 1 /* ROUND_DOWN */);
  return q.isZero() ? dec('0.001') : q;
}

class TickCommand implements Cmd {
  constructor(
    readonly symbol: string,
    readonly price: Dec,
  ) {}
  check = async () => true;
  async run(m: LedgerModel, w: World): Promise<void> {
    w.clock.set(w.clock.now() + 1000);
    w.provider.setPrice(this.symbol, fmt(this.price));
    w.prices.set(this.symbol, this.price);
    await w.engine.refreshPrices([this.symbol]);
    await expectAgreement(m, w);
  }
  toString = () => `tick ${this.symbol} ${fmt(this.price)}`;
}

class SnapshotCommand implements Cmd {
  check = async () => true;
  async run(m: LedgerModel, w: World): Promise<void> {
    const { expect } = vitest();
    const s = m.state;
    let marketValue = ZERO;
    let costBasis = ZERO;
    for (const [symbol, h] of s.holdings) {
      if (h.quantity.isZero()) continue;
      marketValue = marketValue.plus(h.quantity.times(w.prices.get(symbol) as Dec));
      costBasis = costBasis.plus(h.costBasis);
    }
    const expected = {
      cash: fmt(s.cash),
      marketValue: fmt(marketValue),
      totalValue: fmt(s.cash.plus(marketValue)),
      costBasis: fmt(costBasis),
      realizedPnl: fmt(s.realizedPnl),
      netDeposits: fmt(s.netDeposits),
    };
    const snap = await w.engine.recordSnapshot(w.portfolioId);
    expect(canonical(snap, Object.keys(expected)), 'snapshot').toEqual(expected);
    const valuation = await w.engine.getValuation(w.portfolioId);
    expect(canonical({ ...valuation.totals, cash: valuation.cash }, Object.keys(expected)), 'valuation').toEqual(
      expected,
    );
    await expectAgreement(m, w);
  }
  toString = () => 'snapshot';
}

/** The decimal fields `keys` of `row`, printed canonically. */
function canonical(row: object, keys: string[]): Record<string, string> {
  const values = row as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, fmt(dec(String(values[k])))]));
}

/** Asserts that the store holds exactly what the model computed. */
async function expectAgreement(m: LedgerModel, w: World): Promise<void> {
  const { expect } = vitest();
  const s = m.state;
  const id = w.portfolioId;
  const p = await w.store.getPortfolio(id);
  expect(p && { cash: p.cash, netDeposits: p.netDeposits, realizedPnl: p.realizedPnl }, 'portfolio').toEqual({
    cash: fmt(s.cash),
    netDeposits: fmt(s.netDeposits),
    realizedPnl: fmt(s.realizedPnl),
  });
  const symbols = [...s.holdings.keys()].sort();
  const positions = (await w.store.listPositions(id)).map((r) => ({
    symbol: r.symbol,
    quantity: r.quantity,
    costBasis: r.costBasis,
    realizedPnl: r.realizedPnl,
  }));
  expect(positions, 'positions').toEqual(
    symbols.map((symbol) => {
      const h = s.holdings.get(symbol) as Holding;
      return { symbol, quantity: fmt(h.quantity), costBasis: fmt(h.costBasis), realizedPnl: fmt(h.realizedPnl) };
    }),
  );
  const ledger = (await w.store.listTransactions(id, { limit: 10_000, order: 'asc' })).map(
    (t): LedgerLine => ({
      kind: t.kind,
      symbol: t.symbol,
      quantity: t.quantity,
      amount: t.amount,
      realizedPnl: t.realizedPnl,
      cashAfter: t.cashAfter,
      quantityAfter: t.quantityAfter,
    }),
  );
  expect(ledger, 'ledger, in date order').toEqual(s.lines);
  if (m.method === 'fifo') {
    const lots = (await w.store.listLots(id)).map((l) => ({
      symbol: l.symbol,
      openedAt: l.openedAt,
      quantity: l.quantity,
      costBasis: l.costBasis,
    }));
    expect(lots, 'FIFO lots').toEqual(
      symbols.flatMap((symbol) =>
        (s.holdings.get(symbol) as Holding).lots.map((l) => ({
          symbol,
          openedAt: toIso(l.at),
          quantity: fmt(l.quantity),
          costBasis: fmt(l.cost),
        })),
      ),
    );
  }
}

// ----- the test ---------------------------------------------------------------------------------

/** Registers the model-based ledger test. */
export function describeLedgerModel(ctx: ConformanceContext): void {
  const { describe, it } = vitest();
  const fc = fastCheck();
  describe('ledger model', () => {
    const h = ctx.useFixture({ prices: { ...START_PRICES } });
    const prices = new Map(Object.entries(START_PRICES).map(([s, p]) => [s, dec(p)]));

    const cents = (min: number, max: number): Arbitrary<Dec> => fc.integer({ min, max }).map((n) => dec(n).div(100));
    const thousandths = (min: number, max: number): Arbitrary<Dec> =>
      fc.integer({ min, max }).map((n) => dec(n).div(1000));
    const symbol = fc.constantFrom(...SYMBOLS);
    const fee = fc.oneof(fc.constant(ZERO), cents(1, 500));
    const timing: Arbitrary<Timing> = fc.record({
      delayMs: fc.constantFrom(0, 0, 1, 1000, 3_600_000),
      backMs: BACKDATE_ENTRIES ? fc.constantFrom(0, 1, 60_000, 3_600_000, 3 * 86_400_000) : fc.constant(0),
    });
    const cash: Arbitrary<Cmd> = fc
      .tuple(fc.constantFrom('deposit' as const, 'withdrawal' as const), cents(1, 3_000_000), timing)
      .map(([kind, amount, t]) => new CashCommand(kind, amount, t));
    const buy: Arbitrary<Cmd> = fc
      .tuple(symbol, thousandths(1, 20_000), fc.option(cents(1, 100_000), { nil: null, freq: 4 }), fee, timing)
      .map(([s, q, px, f, t]) => new TradeCommand('buy', s, { quantity: q }, px, f, t));
    const size: Arbitrary<Size> = fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 1, max: 100 }).map((percent) => ({ percent })) },
      { weight: 1, arbitrary: fc.integer({ min: 101, max: 150 }).map((percent) => ({ percent })) },
      { weight: 1, arbitrary: thousandths(1, 20_000).map((quantity) => ({ quantity })) },
    );
    const sell: Arbitrary<Cmd> = fc
      .tuple(symbol, size, fc.option(cents(1, 100_000), { nil: null, freq: 4 }), fee, timing)
      .map(([s, z, px, f, t]) => new TradeCommand('sell', s, z, px, f, t));
    const tick: Arbitrary<Cmd> = fc.tuple(symbol, cents(1, 100_000)).map(([s, px]) => new TickCommand(s, px));
    const snapshot: Arbitrary<Cmd> = fc.constant(new SnapshotCommand());
    const commands = fc.commands([cash, buy, buy, buy, sell, sell, sell, tick, snapshot], { maxCommands: 24 });

    it('every command leaves cash, positions, FIFO lots, the ledger and refusals as an exact model computes them', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<CostBasisMethod>('average', 'fifo'),
          cents(0, 5_000_000),
          commands,
          async (method, opening, cmds) => {
            const p = await h.engine.createPortfolio({
              name: 'model',
              costBasisMethod: method,
              initialCash: fmt(opening),
            });
            const model = new LedgerModel(method);
            if (!opening.isZero()) model.add({ kind: 'deposit', at: Date.parse(p.createdAt), amount: opening });
            const world: World = {
              engine: h.engine,
              store: h.store,
              clock: h.clock,
              provider: h.provider,
              prices,
              portfolioId: p.id,
            };
            await expectAgreement(model, world);
            await fc.asyncModelRun(() => ({ model, real: world }), cmds);
          },
        ),
        { numRuns: ctx.numRuns },
      );
    }, 300_000); // a cap, not a timing: 1,000 command runs on a real database take a while on a busy machine
  });
}
