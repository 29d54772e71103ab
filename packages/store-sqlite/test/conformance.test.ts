import { join } from 'node:path';
import { runStoreConformance } from '@foliokit/core/testing';
import { createSqliteStore, type SqliteStore } from '../src/index.js';
import { rawReads, tempDir } from './helpers.js';

const dir = tempDir();
let current: SqliteStore;
let n = 0;

runStoreConformance({
  name: 'sqlite (memory)',
  createStore: async () => (current = await createSqliteStore({ filename: ':memory:' })),
  raw: rawReads(() => current),
  numRuns: 1000,
});

let currentFile: SqliteStore;
runStoreConformance({
  name: 'sqlite (file, WAL)',
  createStore: async () => (currentFile = await createSqliteStore({ filename: join(dir, `conf-${++n}.db`) })),
  raw: rawReads(() => currentFile),
  numRuns: 200,
});
