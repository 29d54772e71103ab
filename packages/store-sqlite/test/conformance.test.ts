/**
 * The store conformance suite on SQLite, in memory and on a WAL file, with raw SQL on the store's
 * own database as the independent check.
 */
import { join } from 'node:path';
import { type RawQuery, runStoreConformance } from '@foliokit/core/testing';
import { createSqliteStore, type SqliteStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir();
let n = 0;

/** Reads the database the store writes, bypassing its getters. */
const raw =
  (store: SqliteStore): RawQuery =>
  async (sql, params) =>
    store.database.prepare(sql).all(...params) as Record<string, unknown>[];

runStoreConformance({
  name: 'sqlite (memory)',
  createStore: () => createSqliteStore({ filename: ':memory:' }),
  raw,
  numRuns: 1000,
});

runStoreConformance({
  name: 'sqlite (file, WAL)',
  createStore: () => createSqliteStore({ filename: join(dir, `conf-${++n}.db`) }),
  raw,
  numRuns: 200,
});
