import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreConformanceOptions } from '@foliokit/core/testing';
import type { SqliteStore } from '../src/index.js';

/** A temporary folder removed at exit. */
export function tempDir(prefix = 'foliokit-sqlite-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Raw reads straight from the SQLite database, bypassing the store's getters. */
export function rawReads(getStore: () => SqliteStore): NonNullable<StoreConformanceOptions['raw']> {
  return {
    async countRows(table, portfolioId) {
      const row = getStore()
        .database.prepare(`select count(*) as n from "${table}" where portfolio_id = ?`)
        .get(portfolioId) as {
        n: number;
      };
      return row.n;
    },
    async cash(portfolioId) {
      const row = getStore().database.prepare('select cash from portfolios where id = ?').get(portfolioId) as {
        cash: string;
      };
      return row.cash;
    },
  };
}
