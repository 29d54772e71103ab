/**
 * An in-memory {@link Store} with the semantics of the SQL stores: ledger changes serialised per
 * portfolio and applied whole or not at all, the schema's constraints checked, decimals and instants
 * returned as the SQL stores print them, and copies returned, never the rows it keeps. It passes
 * the store conformance suites, so core's own tests run on it without an adapter.
 *
 * @example
 * ```ts
 * const engine = createPortfolioEngine({ store: createMemoryStore(), marketData: createTestProvider() });
 * ```
 */
import { guardStore } from '../engine/store-runtime.js';
import { FoliokitError } from '../errors.js';
import type {
  AlertRow,
  LedgerChangeRequest,
  LedgerPlanner,
  LotRow,
  PortfolioRow,
  PortfolioState,
  PositionRow,
  SnapshotRow,
  Store,
  TargetRow,
  TransactionRow,
  WatchlistRow,
} from '../ports/index.js';
import { isoOut } from '../sql/rows.js';
import { createBacktestTables } from './memory-store-backtests.js';
import {
  applyLedgerWrite,
  daySlotOf,
  ledgerState,
  type MemoryTables,
  type PortfolioTables,
  type StoredSnapshot,
} from './memory-store-ledger.js';
import {
  byLotAge,
  bySymbol,
  byText,
  copy,
  MemoryConstraintError,
  portfolioIn,
  snapshotIn,
  snapshotOut,
  transactionIn,
  watchOut,
} from './memory-store-rows.js';
import { createSharedTables } from './memory-store-shared.js';

/** The memory store: every optional capability of the port included (in-process only). */
export type MemoryStore = Store &
  Required<
    Pick<
      Store,
      | 'runExclusive'
      | 'getJobRun'
      | 'saveJobRun'
      | 'listJobRuns'
      | 'deleteJobRuns'
      | 'getTargets'
      | 'setTargets'
      | 'listAlerts'
      | 'saveAlert'
      | 'updateAlert'
      | 'deleteAlert'
      | 'markAlertFired'
      | 'saveBacktestRun'
      | 'getBacktestRun'
      | 'listBacktestRuns'
      | 'updateBacktestRun'
      | 'getStrategyParams'
      | 'setStrategyParams'
    >
  >;

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** A name for logs. @default 'memory' */
  name?: string;
}

/**
 * Creates an empty memory store, already wrapped by the store runtime (closed guard, `STORE_ERROR`
 * for a broken constraint). Each call is a separate database.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const db: MemoryTables = { portfolios: new Map(), transactionIds: new Set(), lotIds: new Set(), snapshotSeq: 0 };
  /** The tail of each portfolio's queue of ledger changes. */
  const locks = new Map<string, Promise<void>>();
  /** Target holdings (model portfolios) by portfolio id, ordered by symbol. */
  const targets = new Map<string, TargetRow[]>();
  /** Alerts by id. */
  const alerts = new Map<string, AlertRow>();

  const tablesOf = (portfolioId: string): PortfolioTables | undefined => db.portfolios.get(portfolioId);

  /** Runs `fn` after every earlier change of the portfolio has finished (a per-portfolio mutex). */
  async function serialised<T>(portfolioId: string, fn: () => T): Promise<T> {
    const before = locks.get(portfolioId) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = before.then(() => mine);
    locks.set(portfolioId, tail);
    await before;
    try {
      return fn();
    } finally {
      release();
      if (locks.get(portfolioId) === tail) locks.delete(portfolioId);
    }
  }

  function watchList(t: PortfolioTables): WatchlistRow[] {
    return [...t.watch.values()].sort(bySymbol).map(watchOut);
  }

  const store: MemoryStore = {
    name: options.name ?? 'memory',
    supportsMultiInstance: false,

    async migrate() {},
    async close() {},

    async createPortfolio(row: PortfolioRow, openingDeposit?: TransactionRow) {
      const p = portfolioIn(row);
      if (db.portfolios.has(p.id)) throw new MemoryConstraintError('portfolios_pkey', `id ${p.id} exists`);
      const deposit = openingDeposit ? transactionIn(openingDeposit) : undefined;
      if (deposit && deposit.portfolioId !== p.id && !db.portfolios.has(deposit.portfolioId)) {
        throw new MemoryConstraintError('transactions_portfolio_fk', `no portfolio ${deposit.portfolioId}`);
      }
      if (deposit && db.transactionIds.has(deposit.id)) {
        throw new MemoryConstraintError('transactions_pkey', `id ${deposit.id} exists`);
      }
      const t: PortfolioTables = {
        row: p,
        positions: new Map(),
        lots: new Map(),
        transactions: [],
        byKey: new Map(),
        snapshots: [],
        daySlots: new Map(),
        watch: new Map(),
      };
      db.portfolios.set(p.id, t);
      if (deposit) {
        const owner = db.portfolios.get(deposit.portfolioId) as PortfolioTables;
        owner.transactions.push(deposit);
        if (deposit.idempotencyKey !== null) owner.byKey.set(deposit.idempotencyKey, deposit);
        db.transactionIds.add(deposit.id);
      }
    },

    async getPortfolio(id) {
      const t = tablesOf(id);
      return t ? copy(t.row) : null;
    },

    async listPortfolios(query) {
      return [...db.portfolios.values()]
        .map((t) => t.row)
        .filter((p) => query.ownerId === undefined || p.ownerId === query.ownerId)
        .filter((p) => query.afterId === undefined || p.id > query.afterId)
        .sort((a, b) => byText(a.id, b.id))
        .slice(0, query.limit)
        .map(copy);
    },

    async updatePortfolio(id, patch) {
      const t = tablesOf(id);
      if (!t) return null;
      const next = { ...t.row, updatedAt: isoOut(patch.updatedAt) };
      if (patch.name !== undefined) next.name = patch.name;
      if (patch.description !== undefined) next.description = patch.description;
      t.row = next;
      return copy(next);
    },

    async deletePortfolio(id) {
      const t = tablesOf(id);
      if (!t) return false;
      for (const tx of t.transactions) db.transactionIds.delete(tx.id);
      for (const lotId of t.lots.keys()) db.lotIds.delete(lotId);
      db.portfolios.delete(id);
      targets.delete(id);
      for (const a of [...alerts.values()]) if (a.portfolioId === id) alerts.delete(a.id);
      return true;
    },

    applyLedgerChange(request: LedgerChangeRequest, plan: LedgerPlanner) {
      return serialised(request.portfolioId, () => {
        const t = tablesOf(request.portfolioId);
        if (!t) {
          throw new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${request.portfolioId}`, {
            field: 'portfolioId',
            portfolioId: request.portfolioId,
          });
        }
        const write = plan(ledgerState(t, request));
        if (write) applyLedgerWrite(db, t, write);
      });
    },

    async listPositions(portfolioId) {
      const t = tablesOf(portfolioId);
      return t ? [...t.positions.values()].sort(bySymbol).map(copy) : [];
    },

    async listLots(portfolioId, symbol) {
      const t = tablesOf(portfolioId);
      if (!t) return [];
      return [...t.lots.values()]
        .filter((l) => symbol === undefined || l.symbol === symbol)
        .sort((a: LotRow, b: LotRow) => bySymbol(a, b) || byLotAge(a, b))
        .map(copy);
    },

    async listTransactions(portfolioId, query) {
      const t = tablesOf(portfolioId);
      if (!t) return [];
      const desc = (query.order ?? 'desc') === 'desc';
      const kinds = query.kinds && query.kinds.length > 0 ? new Set<string>(query.kinds) : null;
      const until = query.until === undefined ? null : isoOut(query.until);
      const before = query.before ? { at: isoOut(query.before.executedAt), id: query.before.id } : null;
      const order = (a: TransactionRow, b: TransactionRow) => byText(a.executedAt, b.executedAt) || byText(a.id, b.id);
      return t.transactions
        .filter((x) => kinds === null || kinds.has(x.kind))
        .filter((x) => until === null || x.executedAt <= until)
        .filter((x) => query.excludeVoided !== true || x.voidedAt === null)
        .filter((x) => {
          if (!before) return true;
          const c = byText(x.executedAt, before.at) || byText(x.id, before.id);
          return desc ? c < 0 : c > 0;
        })
        .sort((a, b) => (desc ? order(b, a) : order(a, b)))
        .slice(0, query.limit)
        .map(copy);
    },

    async addWatch(portfolioId, symbol, at) {
      const t = tablesOf(portfolioId);
      if (!t) throw new MemoryConstraintError('watchlist_portfolio_fk', `no portfolio ${portfolioId}`);
      if (!t.watch.has(symbol)) t.watch.set(symbol, { symbol, addedAt: isoOut(at) });
      return watchList(t);
    },

    async removeWatch(portfolioId, symbol) {
      const t = tablesOf(portfolioId);
      if (!t) return [];
      t.watch.delete(symbol);
      return watchList(t);
    },

    async listWatch(portfolioId) {
      const t = tablesOf(portfolioId);
      return t ? watchList(t) : [];
    },

    async getTargets(portfolioId) {
      return (targets.get(portfolioId) ?? []).map(copy);
    },

    async setTargets(portfolioId, rows, at) {
      if (!tablesOf(portfolioId))
        throw new MemoryConstraintError('targets_portfolio_fk', `no portfolio ${portfolioId}`);
      const seen = new Set<string>();
      for (const r of rows) {
        if (seen.has(r.symbol)) throw new MemoryConstraintError('targets_pk', `${r.symbol} listed twice`);
        seen.add(r.symbol);
      }
      const updatedAt = isoOut(at);
      const next = rows.map((r) => ({ portfolioId, symbol: r.symbol, weight: r.weight, updatedAt })).sort(bySymbol);
      if (next.length === 0) targets.delete(portfolioId);
      else targets.set(portfolioId, next);
    },

    async listAlerts(query) {
      return [...alerts.values()]
        .filter(
          (a) =>
            (query.ownerId === undefined || a.ownerId === query.ownerId) &&
            (query.portfolioId === undefined || a.portfolioId === query.portfolioId) &&
            (query.id === undefined || a.id === query.id) &&
            (query.activeOnly !== true || a.active),
        )
        .sort((a, b) => byText(a.id, b.id))
        .map(copy);
    },

    async saveAlert(row) {
      if (row.portfolioId !== null && !tablesOf(row.portfolioId))
        throw new MemoryConstraintError('alerts_portfolio_fk', `no portfolio ${row.portfolioId}`);
      alerts.set(row.id, { ...row, createdAt: isoOut(row.createdAt) });
    },

    async updateAlert(id, patch) {
      const a = alerts.get(id);
      if (!a) return null;
      const next: AlertRow = {
        ...a,
        ...(patch.active === undefined ? {} : { active: patch.active }),
        ...(patch.threshold === undefined ? {} : { threshold: patch.threshold }),
        ...(patch.coolDownMs === undefined ? {} : { coolDownMs: patch.coolDownMs }),
      };
      alerts.set(id, next);
      return copy(next);
    },

    async deleteAlert(id) {
      return alerts.delete(id);
    },

    async markAlertFired(id, firedAt, coolDownUntil, expectedLastFiredAt) {
      const a = alerts.get(id);
      if (!a || a.lastFiredAt !== expectedLastFiredAt) return false;
      alerts.set(id, { ...a, lastFiredAt: isoOut(firedAt), coolDownUntil: isoOut(coolDownUntil) });
      return true;
    },

    async insertSnapshots(rows, opts) {
      const replace = opts?.replace === 'day';
      const incoming = rows.map(snapshotIn);
      // Check every row before writing any: the batch is one transaction.
      const taken = new Set<string>();
      for (const s of incoming) {
        const t = tablesOf(s.portfolioId);
        if (!t) throw new MemoryConstraintError('snapshots_portfolio_fk', `no portfolio ${s.portfolioId}`);
        const slot = daySlotOf(s);
        if (replace || slot === undefined) continue;
        if (t.daySlots.has(slot) || taken.has(`${s.portfolioId}\u0000${slot}`)) {
          throw new MemoryConstraintError('snapshots_daily_unique_idx', `${s.kind} of ${s.day} exists`);
        }
        taken.add(`${s.portfolioId}\u0000${slot}`);
      }
      for (const s of incoming) {
        const t = tablesOf(s.portfolioId) as PortfolioTables;
        const slot = daySlotOf(s);
        const existing = slot === undefined ? undefined : t.daySlots.get(slot);
        if (existing) {
          existing.row = s; // an upsert keeps the row's id
          continue;
        }
        const stored: StoredSnapshot = { id: ++db.snapshotSeq, row: s };
        t.snapshots.push(stored);
        if (slot !== undefined) t.daySlots.set(slot, stored);
      }
    },

    async listSnapshots(portfolioId, query) {
      const t = tablesOf(portfolioId);
      if (!t) return [];
      const from = query.from === undefined ? null : isoOut(query.from);
      const to = query.to === undefined ? null : isoOut(query.to);
      const kinds = query.kinds && query.kinds.length > 0 ? new Set<string>(query.kinds) : null;
      const order = (a: StoredSnapshot, b: StoredSnapshot) => byText(a.row.at, b.row.at) || a.id - b.id;
      let found = t.snapshots.filter(
        ({ row }) =>
          (from === null || row.at >= from) && (to === null || row.at <= to) && (kinds === null || kinds.has(row.kind)),
      );
      if (query.bucket) {
        // The last snapshot (by at, then id) of each hour or day.
        const keyOf = (s: SnapshotRow) => (query.bucket === 'day' ? s.day : s.at.slice(0, 13));
        const last = new Map<string, StoredSnapshot>();
        for (const s of found) {
          const k = keyOf(s.row);
          const kept = last.get(k);
          if (!kept || order(s, kept) > 0) last.set(k, s);
        }
        found = [...last.values()];
      }
      found.sort(order);
      if (query.limit !== undefined) found = found.slice(0, query.limit);
      return found.map((s) => snapshotOut(s.row));
    },

    async listActiveSymbols() {
      const symbols = new Set<string>();
      for (const t of db.portfolios.values()) {
        for (const p of t.positions.values()) if (p.quantity !== '0') symbols.add(p.symbol);
        for (const w of t.watch.keys()) symbols.add(w);
      }
      return [...symbols].sort(byText);
    },

    async readPortfolioStates(portfolioIds) {
      // Synchronous: no ledger change can land between reading the cash and the positions.
      const out: PortfolioState[] = [];
      for (const id of portfolioIds) {
        const t = tablesOf(id);
        if (!t) continue;
        const positions: PositionRow[] = [...t.positions.values()]
          .filter((p) => p.quantity !== '0')
          .sort(bySymbol)
          .map(copy);
        out.push({ portfolio: copy(t.row), positions });
      }
      return out;
    },

    ...createSharedTables(),
    ...createBacktestTables(),
  };
  return guardStore(store);
}
