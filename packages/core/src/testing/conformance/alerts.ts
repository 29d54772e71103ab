/**
 * Conformance, alerts: the optional store members alerts use — an alert saved and read back
 * exactly, a fire claimed only from the expected `lastFiredAt` (compare-and-set), and
 * `updateAlert` writing only the columns it is given, so that a fire claimed before it (by
 * another instance, or by this one's evaluator while a user edits the alert) is never lost. A store
 * without the members gets the checks skipped, with the reason in their titles.
 */
import type { AlertRow, Store } from '../../ports/index.js';
import { vitest } from '../runtime.js';
import { type ConformanceContext, itWhen, withMembers } from './context.js';

const ALERT_MEMBERS = ['listAlerts', 'saveAlert', 'deleteAlert', 'markAlertFired'] as const;
const UPDATE_MEMBERS = [...ALERT_MEMBERS, 'updateAlert'] as const;

const optional = (members: readonly string[]) => `store has no ${members.join(', ')} (optional capability)`;
const has = (store: Store, members: readonly (keyof Store)[]) => members.every((m) => typeof store[m] === 'function');

/** One probe per suite run: a store opened and closed to see what it has. */
const probes = new WeakMap<ConformanceContext, Promise<{ alerts: boolean; update: boolean }>>();
function probe(ctx: ConformanceContext): Promise<{ alerts: boolean; update: boolean }> {
  let found = probes.get(ctx);
  if (!found) {
    found = (async () => {
      const store = await ctx.createStore();
      try {
        return { alerts: has(store, ALERT_MEMBERS), update: has(store, UPDATE_MEMBERS) };
      } finally {
        await ctx.closeStore(store);
      }
    })();
    probes.set(ctx, found);
  }
  return found;
}

const T0 = '2026-03-02T15:00:00.000Z';
const T1 = '2026-03-02T15:00:01.250Z';
const T2 = '2026-03-02T16:00:01.250Z';
const T3 = '2026-03-02T17:30:00.000Z';

/** A price alert without a portfolio (override any field). */
function alert(id: string, over: Partial<AlertRow> = {}): AlertRow {
  return {
    id,
    ownerId: 'user-1',
    portfolioId: null,
    kind: 'above',
    symbol: 'AAPL',
    threshold: '100.25',
    window: null,
    coolDownMs: 3_600_000,
    createdAt: T0,
    lastFiredAt: null,
    coolDownUntil: null,
    active: true,
    ...over,
  };
}

/** Registers the alert checks. Probes the store's capabilities first (one store opened and closed). */
export function describeAlerts(ctx: ConformanceContext): void {
  const { describe, expect } = vitest();
  describe('alerts', async () => {
    const can = await probe(ctx);
    const h = ctx.useFixture();
    const read = async (s: Store & Required<Pick<Store, 'listAlerts'>>, id: string) =>
      (await s.listAlerts({ id }))[0] ?? null;

    itWhen(
      can.alerts,
      optional(ALERT_MEMBERS),
      'reads an alert back as saved; claims a fire only from the expected lastFiredAt',
      async () => {
        const s = withMembers(h.store, ...ALERT_MEMBERS);
        const saved = alert('al_cf_1');
        await s.saveAlert(saved);
        expect(await read(s, 'al_cf_1')).toEqual(saved);
        expect(await s.markAlertFired('al_cf_1', T1, T2, T0)).toBe(false); // it never fired at T0
        expect(await read(s, 'al_cf_1')).toEqual(saved);
        expect(await s.markAlertFired('al_cf_1', T1, T2, null)).toBe(true);
        expect(await s.markAlertFired('al_cf_1', T1, T2, null)).toBe(false); // claimed already
        expect(await read(s, 'al_cf_1')).toEqual({ ...saved, lastFiredAt: T1, coolDownUntil: T2 });
        expect(await s.markAlertFired('al_cf_missing', T1, T2, null)).toBe(false);
      },
    );

    itWhen(
      can.update,
      optional(UPDATE_MEMBERS),
      'updateAlert writes only the columns given, and keeps a fire claimed before it',
      async () => {
        const s = withMembers(h.store, ...UPDATE_MEMBERS);
        const saved = alert('al_up_1');
        await s.saveAlert(saved);
        // A fire is claimed (another instance's evaluator) after the caller read the alert…
        expect(await s.markAlertFired('al_up_1', T1, T2, null)).toBe(true);
        // …then the caller's update: the fire stays.
        const fired = { ...saved, lastFiredAt: T1, coolDownUntil: T2 };
        const updated = await s.updateAlert('al_up_1', { threshold: '120.5' });
        expect(updated).toEqual({ ...fired, threshold: '120.5' });
        expect(await read(s, 'al_up_1')).toEqual({ ...fired, threshold: '120.5' });
        expect(await s.updateAlert('al_up_1', { active: false, coolDownMs: 0 })).toEqual({
          ...fired,
          threshold: '120.5',
          active: false,
          coolDownMs: 0,
        });
        expect(await s.updateAlert('al_up_1', { active: true })).toMatchObject({ active: true, coolDownMs: 0 });
        // An empty patch answers the alert as it is.
        const now = await read(s, 'al_up_1');
        expect(await s.updateAlert('al_up_1', {})).toEqual(now);
        // The fire history it kept is the one the next claim compares with.
        expect(await s.markAlertFired('al_up_1', T3, T3, null)).toBe(false);
        expect(await s.markAlertFired('al_up_1', T3, T3, T1)).toBe(true);
        expect(await read(s, 'al_up_1')).toMatchObject({ lastFiredAt: T3, coolDownUntil: T3, threshold: '120.5' });
        // No such alert: null, and nothing is created.
        expect(await s.updateAlert('al_up_missing', { active: false })).toBeNull();
        expect(await s.updateAlert('al_up_missing', {})).toBeNull();
        expect(await read(s, 'al_up_missing')).toBeNull();
        // Another alert is untouched.
        const other = alert('al_up_2', { threshold: '7' });
        await s.saveAlert(other);
        await s.updateAlert('al_up_1', { threshold: '1' });
        expect(await read(s, 'al_up_2')).toEqual(other);
      },
    );
  });
}
