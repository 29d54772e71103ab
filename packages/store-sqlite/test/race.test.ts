/**
 * The race conformance suite on a SQLite file store (WAL): 200 concurrent calls on one portfolio
 * through the engine are serialised by the store (one writer), and a read-modify-write store without
 * that lock oversells. One instance only: SQLite is a one-process store.
 */
import { join } from 'node:path';
import { runStoreRaceConformance } from '@foliokit/core/testing';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { tempDir } from './helpers.js';

const dir = tempDir();

runStoreRaceConformance({
  name: 'sqlite (file, WAL)',
  createStore: () => createSqliteStore({ filename: join(dir, 'race.db') }),
});
