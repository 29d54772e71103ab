/**
 * Conformance, consistent reads: a valuation or snapshot reads cash and positions as of one
 * instant, never cash from before a trade with quantities from after it — under 300 concurrent
 * calls, and in every order of store calls that fast-check's scheduler explores.
 */
import { fastCheck, vitest } from '../runtime.js';
import type { ConformanceContext } from './context.js';

/** Registers the consistent-read checks. */
export function describeConsistentReads(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  const fc = fastCheck();
  describe('consistent reads', () => {
    const h = ctx.useFixture();

    it('a valuation or snapshot never mixes cash from before a trade with quantities from after it', async () => {
      // Buys at the valuation price with no fee move value from cash to the position and leave the
      // total unchanged: any total other than the deposit is a mixed read.
      h.provider.setPrice('MIX', '10');
      const p = await h.engine.createPortfolio({ name: 'Mix', initialCash: '100000' });
      const calls: Array<Promise<unknown>> = [];
      const totals: string[] = [];
      for (let i = 0; i < 150; i++) {
        calls.push(h.engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: 1, price: '10' }));
        calls.push(h.engine.getValuation(p.id).then((v) => totals.push(v.totals.totalValue)));
        if (i % 5 === 0) calls.push(h.engine.recordSnapshot(p.id).then((s) => totals.push(s.totalValue)));
      }
      await Promise.all(calls);
      expect(totals.length).toBe(180);
      expect([...new Set(totals)]).toEqual(['100000']);
      expect((await h.engine.getPositions(p.id))[0]?.quantity).toBe('150');
    });
  });

  describe('interleavings', () => {
    const h = ctx.useFixture();

    it('sell ∥ buy ∥ withdraw ∥ snapshot ∥ valuation, in any order of store calls: never a mixed read', async () => {
      h.provider.setPrice('MIX', '10');
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), async (s) => {
          // Every store call of this engine starts only when the scheduler says so: fast-check
          // explores the orders in which the calls of concurrent operations reach the database.
          const scheduled = new Proxy(h.store, {
            get(target, key, receiver) {
              const value = Reflect.get(target, key, receiver);
              if (typeof value !== 'function' || key === 'name') return value;
              return (...args: unknown[]) =>
                s.schedule(Promise.resolve(String(key))).then(() => value.apply(target, args));
            },
          });
          const engine = ctx.createEngine(scheduled, {
            marketData: h.provider,
            clock: h.clock,
            snapshots: { onTrade: false },
          });
          const p = await h.engine.createPortfolio({ name: 'interleave', initialCash: '1000' });
          await h.engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: 10, price: '10' });
          const totals: string[] = [];
          const ops = Promise.all([
            engine.trade(p.id, { symbol: 'MIX', side: 'sell', quantity: 3, price: '10' }),
            engine.trade(p.id, { symbol: 'MIX', side: 'buy', quantity: 2, price: '10' }),
            engine.withdraw(p.id, { amount: '0.5' }),
            engine.recordSnapshot(p.id).then((snap) => totals.push(snap.totalValue)),
            engine.getValuation(p.id).then((v) => totals.push(v.totals.totalValue)),
          ]);
          await s.waitFor(ops);
          // Trades at the valuation price keep the total; only the withdrawal changes it.
          for (const t of totals) expect(['1000', '999.5'], `${t} in ${s.report().length} steps`).toContain(t);
          const end = await h.engine.getValuation(p.id);
          expect(end.totals.totalValue).toBe('999.5');
          expect(end.positions[0]?.quantity).toBe('9');
          await engine.close();
        }),
        { numRuns: Math.max(50, Math.floor(ctx.numRuns / 2)) },
      );
    });
  });
}
