/**
 * Conformance, cash: exact deposits and withdrawals that never go below zero, refused amounts and
 * dates that change nothing, backdated entries, idempotency keys scoped to a portfolio.
 */
import { vitest } from '../runtime.js';
import { type ConformanceContext, codeOf, stateOf } from './context.js';

/** Registers the cash checks. */
export function describeCash(ctx: ConformanceContext): void {
  const { describe, expect, it } = vitest();
  describe('cash', () => {
    const h = ctx.useFixture();

    it('deposits and withdraws exactly, never below zero', async () => {
      const p = await h.engine.createPortfolio({ name: 'Cash' });
      const d = await h.engine.deposit(p.id, { amount: '0.1' });
      expect(d).toMatchObject({ kind: 'deposit', amount: '0.1', cashAfter: '0.1' });
      await h.engine.deposit(p.id, { amount: 0.2 });
      expect((await h.engine.getPortfolio(p.id)).cash).toBe('0.3');
      const w = await h.engine.withdraw(p.id, { amount: '0.3' });
      expect(w).toMatchObject({ kind: 'withdrawal', amount: '-0.3', cashAfter: '0' });
      const before = await stateOf(h.store, p.id);
      expect(await codeOf(h.engine.withdraw(p.id, { amount: '0.000000000000000001' }))).toBe('INSUFFICIENT_CASH');
      expect(await stateOf(h.store, p.id)).toEqual(before);
      const after = await h.engine.getPortfolio(p.id);
      expect(after).toMatchObject({ cash: '0', netDeposits: '0' });
    });

    it('rejects non-positive, non-finite and malformed amounts, and future dates', async () => {
      const p = await h.engine.createPortfolio({ name: 'Bad cash', initialCash: 10 });
      const before = await stateOf(h.store, p.id);
      for (const amount of [
        0,
        -0,
        -5,
        '0',
        Number.POSITIVE_INFINITY,
        Number.NaN,
        '1e309',
        'NaN',
        '',
        '1,000',
        '0x10',
      ]) {
        expect(await codeOf(h.engine.deposit(p.id, { amount: amount as never })), String(amount)).toBe(
          'VALIDATION_FAILED',
        );
      }
      expect(await codeOf(h.engine.deposit(p.id, { amount: 1, at: '2026-03-03T00:00:00Z' }))).toBe('VALIDATION_FAILED');
      expect(await codeOf(h.engine.deposit(p.id, { amount: 1, at: 'yesterday' }))).toBe('VALIDATION_FAILED');
      expect(await codeOf(h.engine.deposit('pf_missing', { amount: 1 }))).toBe('PORTFOLIO_NOT_FOUND');
      expect(await stateOf(h.store, p.id)).toEqual(before);
    });

    it('records backdated entries at their date', async () => {
      const p = await h.engine.createPortfolio({ name: 'Backdated' });
      const d = await h.engine.deposit(p.id, { amount: 100, at: '2024-01-02T10:00:00+02:00' });
      expect(d.executedAt).toBe('2024-01-02T08:00:00.000Z');
      expect(d.createdAt).toBe(h.clock.now() && new Date(h.clock.now()).toISOString());
    });

    it('replays an idempotency key and refuses it for another request', async () => {
      const p = await h.engine.createPortfolio({ name: 'Idem cash' });
      const a = await h.engine.deposit(p.id, { amount: 50, idempotencyKey: 'dep-1' });
      const b = await h.engine.deposit(p.id, { amount: '50', idempotencyKey: 'dep-1' });
      expect(b).toEqual(a);
      expect(await codeOf(h.engine.deposit(p.id, { amount: 51, idempotencyKey: 'dep-1' }))).toBe(
        'IDEMPOTENCY_CONFLICT',
      );
      expect(await codeOf(h.engine.withdraw(p.id, { amount: 50, idempotencyKey: 'dep-1' }))).toBe(
        'IDEMPOTENCY_CONFLICT',
      );
      expect((await h.engine.getPortfolio(p.id)).cash).toBe('50');
      // Keys are scoped to a portfolio: another portfolio may use the same key.
      const q = await h.engine.createPortfolio({ name: 'Idem other' });
      const c = await h.engine.deposit(q.id, { amount: 7, idempotencyKey: 'dep-1' });
      expect(c.portfolioId).toBe(q.id);
      expect(c.id).not.toBe(a.id);
    });
  });
}
