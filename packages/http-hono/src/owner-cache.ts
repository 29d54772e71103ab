/**
 * Who owns a portfolio, remembered so that the ownership check of `owned` routes does not read the
 * portfolio on every request. A portfolio's owner never changes after creation and ids are never
 * reused, so an entry can only become wrong by the portfolio being deleted:
 *
 * - `portfolio.deleted` drops the entry (local deletes, and deletes made through another instance,
 *   which the store's event transport relays as events);
 * - `events.gap` (relayed events may have been missed) drops every entry;
 * - an entry also expires after {@link OWNER_TTL_MS}, which bounds how long a delete that no event
 *   reports (another process on a store without an event transport) can go unnoticed;
 * - a lookup that started before a delete does not store its answer (no stale entry from a race).
 *
 * Only existing portfolios are remembered: a missing id is read again on every request.
 */
import type { PortfolioEngine } from '@foliokit/core';

/** Entries kept at most; the least recently used goes first. */
export const OWNER_CACHE_SIZE = 10_000;

/** How long an entry is trusted without news of a delete (milliseconds, engine clock). */
export const OWNER_TTL_MS = 10_000;

interface Entry {
  ownerId: string | null;
  expires: number;
}

/** The owner of each recently seen portfolio. */
export interface OwnerCache {
  /** The owner of `id` (null: a portfolio without owner), or undefined when not known. */
  get(id: string): string | null | undefined;
  /** A token to pass to {@link OwnerCache.set}: a delete seen in between makes that `set` a no-op. */
  begin(): number;
  /** Remembers `id`'s owner, read after `begin()` returned `token`. */
  set(id: string, ownerId: string | null, token: number): void;
  /** Forgets `id`. */
  delete(id: string): void;
  /** Entries held (for tests). */
  readonly size: number;
  /** Stops listening to the engine and forgets everything. Idempotent. */
  close(): void;
}

/** Creates the cache of one router, listening to `engine`'s deletes until {@link OwnerCache.close}. */
export function createOwnerCache(
  engine: Pick<PortfolioEngine, 'on' | 'clock'>,
  capacity = OWNER_CACHE_SIZE,
  ttlMs = OWNER_TTL_MS,
): OwnerCache {
  const entries = new Map<string, Entry>();
  /** Bumped by every delete or gap: lookups that began before it do not store their answer. */
  let epoch = 0;
  const forget = (id: string) => {
    epoch++;
    entries.delete(id);
  };
  const forgetAll = () => {
    epoch++;
    entries.clear();
  };
  let unsubscribe: Array<() => void> = [
    engine.on('portfolio.deleted', (e) => forget(e.portfolioId)),
    engine.on('events.gap', forgetAll),
  ];
  return {
    get(id) {
      const entry = entries.get(id);
      if (!entry) return undefined;
      if (engine.clock.now() >= entry.expires) {
        entries.delete(id);
        return undefined;
      }
      // most recently used last
      entries.delete(id);
      entries.set(id, entry);
      return entry.ownerId;
    },
    begin: () => epoch,
    set(id, ownerId, token) {
      if (token !== epoch || unsubscribe.length === 0) return;
      entries.delete(id);
      if (entries.size >= capacity) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(id, { ownerId, expires: engine.clock.now() + ttlMs });
    },
    delete: forget,
    get size() {
      return entries.size;
    },
    close() {
      for (const off of unsubscribe) off();
      unsubscribe = [];
      forgetAll();
    },
  };
}
