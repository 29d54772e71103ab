/**
 * Backfill's incremental day walk against the totals kernel: for random ledgers and close series,
 * every day's row equals the kernel's snapshot of the ledger replayed to the end of that day,
 * valued at the last valid close on or before it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replayLedger } from '../ledger/index.js';
import { type Dec, dec, divide, fmt, parseDecimal, ZERO } from '../money/decimal.js';
import type { TransactionRow } from '../ports/index.js';
import { endOfDay, nextDay, toIso } from '../time.js';
import { type HoldingPrice, valueHoldings } from '../valuation/kernel.js';
import type { SymbolHistory } from './backfill-history.js';
import { walkDays } from './backfill-walk.js';

const FIRST_DAY = '2026-01-01';
const SYMBOLS = ['AAA', 'BBB', 'CCC', 'ZZZ'];
/** ZZZ is a symbol the provider does not know: it never has a close. */
const UNKNOWN = 'ZZZ';

function dayAt(offset: number): string {
  return toIso(Date.parse(`${FIRST_DAY}T00:00:00Z`) + offset * 86_400_000).slice(0, 10);
}

/** A positive decimal with up to `places` decimals and at most `intDigits` integer digits. */
const positive = (places: number, intDigits: number) =>
  fc
    .tuple(fc.bigInt({ min: 1n, max: 10n ** BigInt(intDigits + places) - 1n }), fc.integer({ min: 0, max: places }))
    .map(([digits, p]) => fmt(dec(`${digits}e-${p}`)));

/** A close as a provider might send it: mostly valid, sometimes not (never used then). */
const rawClose = fc.oneof(
  { weight: 8, arbitrary: positive(18, 6) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1.5', 'n/a', ' 12.5 ', '1.5e2', '0.0000000000000000001') },
);

interface Intent {
  day: number;
  kind: 'deposit' | 'withdrawal' | 'buy' | 'sell';
  symbol: string;
  quantity: string;
  /** For a sell: the share of the holding sold, in percent (100 closes it). */
  percent: number;
  price: string;
  fee: string;
}

const intent = (days: number) =>
  fc.record({
    day: fc.integer({ min: 0, max: days - 1 }),
    kind: fc.constantFrom('deposit', 'withdrawal', 'buy', 'buy', 'sell'),
    symbol: fc.constantFrom(...SYMBOLS),
    quantity: positive(18, 4),
    percent: fc.oneof(fc.integer({ min: 1, max: 99 }), fc.constant(100)),
    price: positive(8, 4),
    fee: fc.oneof(fc.constant('0'), positive(2, 1)),
  });

/** Turns intents into a consistent ledger (sells only of what is held), oldest first. */
function ledgerOf(intents: readonly Intent[]): TransactionRow[] {
  const held = new Map<string, { quantity: Dec; cost: Dec }>();
  const rows: TransactionRow[] = [];
  const sorted = [...intents].sort((a, b) => a.day - b.day);
  for (const [n, it] of sorted.entries()) {
    const executedAt = `${dayAt(it.day)}T12:${String(n).padStart(2, '0')}:00.000Z`;
    const row = (fields: Partial<TransactionRow>): TransactionRow => ({
      id: `tx_${String(n).padStart(4, '0')}`,
      portfolioId: 'pf_1',
      kind: it.kind,
      symbol: null,
      quantity: null,
      price: null,
      fee: '0',
      amount: '0',
      realizedPnl: null,
      cashAfter: '0',
      quantityAfter: null,
      idempotencyKey: null,
      requestHash: null,
      voidedAt: null,
      voidKey: null,
      executedAt,
      createdAt: executedAt,
      ...fields,
    });
    if (it.kind === 'deposit' || it.kind === 'withdrawal') {
      rows.push(row({ amount: it.kind === 'deposit' ? it.price : fmt(dec(it.price).neg()) }));
      continue;
    }
    const h = held.get(it.symbol) ?? { quantity: ZERO, cost: ZERO };
    if (it.kind === 'buy') {
      const cost = dec(it.quantity).times(it.price).plus(it.fee);
      held.set(it.symbol, { quantity: h.quantity.plus(it.quantity), cost: h.cost.plus(cost) });
      rows.push(
        row({ symbol: it.symbol, quantity: it.quantity, price: it.price, fee: it.fee, amount: fmt(cost.neg()) }),
      );
      continue;
    }
    if (h.quantity.isZero()) continue;
    const all = it.percent === 100;
    const quantity = all ? h.quantity : divide(h.quantity.times(it.percent), '100', 18);
    if (quantity.isZero()) continue;
    const removed = all ? h.cost : divide(h.cost.times(quantity), h.quantity, 12);
    const proceeds = quantity.times(it.price).minus(it.fee);
    held.set(it.symbol, { quantity: h.quantity.minus(quantity), cost: h.cost.minus(removed) });
    rows.push(
      row({
        symbol: it.symbol,
        quantity: fmt(quantity),
        price: it.price,
        fee: it.fee,
        amount: fmt(proceeds),
        realizedPnl: fmt(proceeds.minus(removed)),
      }),
    );
  }
  return rows;
}

/** The reference's reading of a close: what the API accepts as a price, or nothing. */
function validClose(raw: string): Dec | null {
  try {
    const v = parseDecimal(raw, 'close');
    return v.gt(0) && v.lte('1e18') ? v : null;
  } catch {
    return null;
  }
}

const scenario = fc.integer({ min: 1, max: 45 }).chain((days) =>
  fc.record({
    days: fc.constant(days),
    startOffset: fc.integer({ min: 0, max: days - 1 }),
    intents: fc.array(intent(days), { minLength: 1, maxLength: 25 }),
    bars: fc.record(
      Object.fromEntries(
        SYMBOLS.filter((s) => s !== UNKNOWN).map((s) => [
          s,
          fc.uniqueArray(fc.tuple(fc.integer({ min: -5, max: days - 1 }), rawClose), {
            selector: ([d]) => d,
            maxLength: days,
          }),
        ]),
      ) as Record<string, fc.Arbitrary<Array<[number, string]>>>,
    ),
    emitEvery: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 4 })),
  }),
);

describe('backfill walk', () => {
  it('equals the kernel for the replayed state, day by day', () => {
    fc.assert(
      fc.property(scenario, ({ days, startOffset, intents, bars, emitEvery }) => {
        const entries = ledgerOf(intents);
        const histories = new Map<string, SymbolHistory>();
        for (const s of SYMBOLS) {
          const series = [...(bars[s] ?? [])].sort((a, b) => a[0] - b[0]);
          histories.set(s, {
            days: series.map(([d]) => dayAt(d)),
            raw: series.map(([, c]) => c),
            parsed: new Array(series.length),
            unknown: s === UNKNOWN,
          });
        }
        const start = dayAt(startOffset);
        const to = dayAt(days - 1);
        const all: string[] = [];
        for (let d = start; d <= to; d = nextDay(d)) all.push(d);
        const emit = emitEvery === null ? null : new Set(all.filter((_, k) => k % emitEvery === 0));
        const nowMs = Date.parse(`${dayAt(days - 1)}T12:00:00.000Z`);
        const out = walkDays('pf_1', entries, start, to, emit, 'backfill', histories, nowMs);

        const expectedDays = emit ? all.filter((d) => emit.has(d)) : all;
        expect(out.rows.map((r) => r.day)).toEqual(expectedDays);
        const unpricedDays = new Map<string, number>();
        for (const row of out.rows) {
          const eod = endOfDay(row.day);
          const state = replayLedger(entries.filter((t) => t.executedAt <= eod));
          const holdings = [...state.positions.entries()]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([symbol, p]) => ({ symbol, quantity: fmt(p.quantity), costBasis: fmt(p.costBasis) }));
          const prices = new Map<string, HoldingPrice>();
          for (const [s, h] of histories) {
            for (let k = h.days.length - 1; k >= 0; k--) {
              const close = (h.days[k] as string) <= row.day ? validClose(h.raw[k] as string) : null;
              if (close) {
                prices.set(s, { price: close, stale: false });
                break;
              }
            }
          }
          const cash = fmt(state.cash);
          const kernel = valueHoldings(cash, holdings, prices);
          expect(row).toEqual({
            portfolioId: 'pf_1',
            at: [eod, toIso(nowMs)].sort()[0],
            day: row.day,
            kind: 'backfill',
            cash,
            ...kernel.totals,
            realizedPnl: fmt(state.realizedPnl),
            netDeposits: fmt(state.netDeposits),
            flags: kernel.flags,
          });
          for (const s of kernel.unpriced) unpricedDays.set(s, (unpricedDays.get(s) ?? 0) + 1);
        }
        expect(new Map([...out.unpriced].map(([s, u]) => [s, u.days]))).toEqual(unpricedDays);
        for (const u of out.unpriced.values()) {
          expect(u.reason).toBe(u.symbol === UNKNOWN ? 'unknown-symbol' : 'no-close-yet');
        }
      }),
      { numRuns: 300 },
    );
  });
});
