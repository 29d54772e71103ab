/**
 * Alerts: price alerts (`above`, `below`, `change`) and portfolio alerts (`drawdown`, `weight`,
 * `daily-pnl`), stored in the store; {@link createAlert}, {@link listAlerts}, {@link deleteAlert}.
 * The evaluator that fires them lives in `evaluate.ts`.
 *
 * What each kind's `threshold` means (every threshold is an exact decimal):
 * - `above`: fires when the price of `symbol` is at or above `threshold`.
 * - `below`: fires when the price of `symbol` is at or below `threshold`.
 * - `change`: the percent move of `symbol` against the close of the latest daily bar on or before
 *   the day `window` days before the update's day: `(price / close − 1) × 100`. A threshold ≥ 0
 *   fires when the move is at or above it (a rise); a negative one when at or below it (a fall).
 * - `drawdown`: `(peak − value) / peak × 100` of the portfolio's total value, the peak being the
 *   highest total value of its daily (and backfill) snapshots and of the current value. Fires when
 *   at or above `threshold` (a percent, ≥ 0).
 * - `weight`: the market value of `symbol` in the portfolio as a percent of its total value. Fires
 *   when strictly above `threshold` (a percent, ≥ 0).
 * - `daily-pnl`: the change of (total value − net deposits) since the last daily snapshot of an
 *   earlier day. A threshold ≥ 0 fires when the P&L is at or above it; a negative one when at or
 *   below it.
 */
import { z } from 'zod';
import { FoliokitError } from '../errors.js';
import { newId } from '../ids.js';
import { fmt, parseDecimal } from '../money/decimal.js';
import type { AlertKind, AlertPatch, AlertQuery, AlertRow, Store } from '../ports/index.js';
import { normalizeSymbol } from '../prices/symbols.js';
import type { SnapshotHost } from '../snapshots/host.js';
import { toIso } from '../time.js';
import { checkId, decimalInput, validate } from '../validation.js';

/** Price alert kinds (need `symbol`). */
export const PRICE_ALERT_KINDS = ['above', 'below', 'change'] as const satisfies readonly AlertKind[];
/** Portfolio alert kinds (need `portfolioId`). */
export const PORTFOLIO_ALERT_KINDS = ['drawdown', 'weight', 'daily-pnl'] as const satisfies readonly AlertKind[];

/** Whether an alert kind is evaluated on price updates. */
export function isPriceAlert(kind: AlertKind): boolean {
  return (PRICE_ALERT_KINDS as readonly AlertKind[]).includes(kind);
}

/** The longest `window` of a `change` alert, in days. */
export const MAX_ALERT_WINDOW_DAYS = 3660;
/** The longest cool-down: one year. */
export const MAX_ALERT_COOL_DOWN_MS = 366 * 24 * 3_600_000;

/** A store with the alert methods (`updateAlert` is optional: see {@link updateAlert}). */
export type AlertStore = Store & Required<Pick<Store, 'listAlerts' | 'saveAlert' | 'deleteAlert' | 'markAlertFired'>>;

/**
 * The store, when it keeps alerts.
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the methods the store lacks.
 */
export function alertStore(store: Store): AlertStore {
  const methods = ['listAlerts', 'saveAlert', 'deleteAlert', 'markAlertFired'] as const;
  const missing = methods.filter((m) => typeof store[m] !== 'function').map((m) => `store.${m}`);
  if (missing.length > 0) {
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `Alerts need a store with ${missing.join(', ')}; the store "${store.name}" lacks them`,
      { field: 'store', missing },
    );
  }
  return store as AlertStore;
}

const createSchema = z.strictObject({
  kind: z.enum(['above', 'below', 'change', 'drawdown', 'weight', 'daily-pnl']),
  ownerId: z.string().min(1).max(100).nullable().optional(),
  portfolioId: z.string().optional(),
  symbol: z.string().optional(),
  threshold: decimalInput,
  window: z.number().int().min(1).max(MAX_ALERT_WINDOW_DAYS).optional(),
  coolDownMs: z.number().int().min(0).max(MAX_ALERT_COOL_DOWN_MS).optional(),
  active: z.boolean().optional(),
});

/** Input of {@link createAlert}. */
export interface CreateAlertInput {
  kind: AlertKind;
  /** The owner (defaults to the portfolio's owner for portfolio alerts, else null). */
  ownerId?: string | null;
  /** Required for portfolio alerts; optional for price alerts. */
  portfolioId?: string;
  /** Required for price alerts and `weight`. */
  symbol?: string;
  /** See the module documentation for what it means per kind. */
  threshold: string | number;
  /** Look-back in days (`change` only, required there). */
  window?: number;
  /** No fire within this many milliseconds of the last. @default 0 */
  coolDownMs?: number;
  /** @default true */
  active?: boolean;
}

function invalid(field: string, message: string): FoliokitError {
  return new FoliokitError('VALIDATION_FAILED', `${field}: ${message}`, { field });
}

/** Checks the fields a kind needs, and only those. Returns the normalized symbol (or null). */
function checkKindFields(v: z.output<typeof createSchema>): string | null {
  const price = isPriceAlert(v.kind);
  const needsSymbol = price || v.kind === 'weight';
  if (needsSymbol && v.symbol === undefined) throw invalid('symbol', `a ${v.kind} alert needs a symbol`);
  if (!needsSymbol && v.symbol !== undefined) throw invalid('symbol', `a ${v.kind} alert takes no symbol`);
  if (!price && v.portfolioId === undefined) throw invalid('portfolioId', `a ${v.kind} alert needs a portfolioId`);
  if (v.kind === 'change' && v.window === undefined) throw invalid('window', 'a change alert needs a window (days)');
  if (v.kind !== 'change' && v.window !== undefined) throw invalid('window', `a ${v.kind} alert takes no window`);
  return v.symbol === undefined ? null : normalizeSymbol(v.symbol, 'symbol');
}

/** Reads and checks the threshold of a kind. */
function checkThreshold(kind: AlertKind, input: string | number): string {
  const t = parseDecimal(input, 'threshold');
  if ((kind === 'above' || kind === 'below') && !t.gt(0)) throw invalid('threshold', 'a price must be positive');
  if ((kind === 'drawdown' || kind === 'weight') && t.isNegative()) throw invalid('threshold', 'must not be negative');
  if (kind === 'drawdown' && t.gt(100)) throw invalid('threshold', 'a drawdown is at most 100 (percent)');
  return fmt(t);
}

/**
 * Creates and stores an alert (active unless told otherwise); the running evaluators of `host`
 * reload at once.
 * @throws FoliokitError `VALIDATION_FAILED` naming the field; `PORTFOLIO_NOT_FOUND`;
 *   `INVALID_CONFIGURATION` when the store keeps no alerts.
 */
export async function createAlert(host: SnapshotHost, input: CreateAlertInput): Promise<AlertRow> {
  const store = alertStore(host.store);
  const v = validate(createSchema, input, 'input');
  const symbol = checkKindFields(v);
  const threshold = checkThreshold(v.kind, v.threshold);
  let ownerId = v.ownerId ?? null;
  if (v.portfolioId !== undefined) {
    const portfolio = await store.getPortfolio(checkId(v.portfolioId));
    if (!portfolio) {
      throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${v.portfolioId}`, { field: 'portfolioId' });
    }
    if (v.ownerId === undefined) ownerId = portfolio.ownerId;
  }
  const now = host.clock.now();
  const row: AlertRow = {
    id: newId('al', now),
    ownerId,
    portfolioId: v.portfolioId ?? null,
    kind: v.kind,
    symbol,
    threshold,
    window: v.window ?? null,
    coolDownMs: v.coolDownMs ?? 0,
    createdAt: toIso(now),
    lastFiredAt: null,
    coolDownUntil: null,
    active: v.active ?? true,
  };
  await store.saveAlert(row);
  await notifyEvaluators(host);
  return row;
}

/** Alerts of an owner and/or a portfolio (all when neither is given), ordered by id. */
export async function listAlerts(host: SnapshotHost, query: Pick<AlertQuery, 'ownerId' | 'portfolioId'> = {}) {
  const store = alertStore(host.store);
  const q: AlertQuery = {};
  if (query.ownerId !== undefined) q.ownerId = checkId(query.ownerId, 'ownerId');
  if (query.portfolioId !== undefined) q.portfolioId = checkId(query.portfolioId);
  return store.listAlerts(q);
}

/**
 * The alert with this id.
 * @throws FoliokitError `NOT_FOUND` (field `id`) when there is no such alert;
 *   `INVALID_CONFIGURATION` when the store keeps no alerts.
 */
export async function getAlert(host: SnapshotHost, id: string): Promise<AlertRow> {
  const store = alertStore(host.store);
  const checked = checkId(id, 'id');
  const [row] = await store.listAlerts({ id: checked });
  if (!row) throw new FoliokitError('NOT_FOUND', `No alert with id ${checked}`, { field: 'id' });
  return row;
}

const patchSchema = z.strictObject({
  active: z.boolean().optional(),
  threshold: decimalInput.optional(),
  coolDownMs: z.number().int().min(0).max(MAX_ALERT_COOL_DOWN_MS).optional(),
});

/** Input of {@link updateAlert}: the fields that may change (kind, symbol, portfolio and window may not). */
export interface UpdateAlertInput {
  /** Pauses (false) or resumes (true) the alert. */
  active?: boolean;
  /** A new threshold, checked by the alert's kind as on create. */
  threshold?: string | number;
  /** A new cool-down in milliseconds (0 to one year). */
  coolDownMs?: number;
}

/**
 * Changes an alert's `active`, `threshold` and/or `coolDownMs` (validated as on create, by its kind)
 * and answers the stored alert; the running evaluators of `host` reload at once. Its fire history
 * (`lastFiredAt`, `coolDownUntil`) is kept, even when a fire is claimed while the update runs: only
 * the changed columns are written (`store.updateAlert`). An empty patch answers the alert unchanged.
 * @throws FoliokitError `VALIDATION_FAILED` naming the field; `NOT_FOUND` (field `id`);
 *   `INVALID_CONFIGURATION` when the store keeps no alerts.
 */
export async function updateAlert(host: SnapshotHost, id: string, patch: UpdateAlertInput): Promise<AlertRow> {
  const store = alertStore(host.store);
  const v = validate(patchSchema, patch, 'patch');
  const row = await getAlert(host, id);
  if (v.active === undefined && v.threshold === undefined && v.coolDownMs === undefined) return row;
  const changes: AlertPatch = {};
  if (v.threshold !== undefined) changes.threshold = checkThreshold(row.kind, v.threshold);
  if (v.active !== undefined) changes.active = v.active;
  if (v.coolDownMs !== undefined) changes.coolDownMs = v.coolDownMs;
  const next = store.updateAlert ? await store.updateAlert(row.id, changes) : await saveWhole(store, row.id, changes);
  if (!next) throw new FoliokitError('NOT_FOUND', `No alert with id ${row.id}`, { field: 'id' });
  await notifyEvaluators(host);
  return next;
}

/**
 * For a store without `updateAlert`: re-reads the alert just before saving it whole, so that only
 * a fire claimed between this read and the save can be lost (stores should implement `updateAlert`).
 */
async function saveWhole(store: AlertStore, id: string, changes: AlertPatch): Promise<AlertRow | null> {
  const [current] = await store.listAlerts({ id });
  if (!current) return null;
  const next: AlertRow = { ...current, ...changes };
  await store.saveAlert(next);
  return next;
}

/**
 * Deletes an alert; the running evaluators of `host` reload at once.
 * @throws FoliokitError `NOT_FOUND` when there is no such alert.
 */
export async function deleteAlert(host: SnapshotHost, id: string): Promise<void> {
  const store = alertStore(host.store);
  const deleted = await store.deleteAlert(checkId(id, 'id'));
  if (!deleted) throw new FoliokitError('NOT_FOUND', `No alert with id ${id}`, { field: 'id' });
  await notifyEvaluators(host);
}

/** Something to reload when the alerts of a host change. */
interface Reloadable {
  reload(): Promise<void>;
}

const evaluatorsByHost = new WeakMap<SnapshotHost, Set<Reloadable>>();

/** @internal Registers an evaluator of `host`, to reload on create/delete; returns the unregister. */
export function registerEvaluator(host: SnapshotHost, evaluator: Reloadable): () => void {
  let set = evaluatorsByHost.get(host);
  if (!set) {
    set = new Set();
    evaluatorsByHost.set(host, set);
  }
  set.add(evaluator);
  return () => set.delete(evaluator);
}

async function notifyEvaluators(host: SnapshotHost): Promise<void> {
  for (const e of evaluatorsByHost.get(host) ?? []) await e.reload();
}
