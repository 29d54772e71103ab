/**
 * @packageDocumentation
 * `@foliokit/core/sql`: for store authors. The shared Kysely store both SQL adapters build on, its
 * migrations and schema types, the row mappers, the ledger-SQL contract (what a ledger change reads,
 * how its state is assembled, the columns and values of its writes, their SQL per dialect) that
 * native paths follow, and the store runtime every adapter wraps what it returns with. Apps need
 * none of this: they import `@foliokit/core` and a store package.
 */
export {
  guardStore,
  isGuardedStore,
  missingStoreMethods,
  OPTIONAL_STORE_METHODS,
  REQUIRED_STORE_METHODS,
} from '../engine/store-runtime.js';
export {
  createKyselyStore,
  type KyselyStore,
  type KyselyStoreOptions,
  type StoreHotPath,
} from './kysely-store.js';
export * from './ledger-contract.js';
export * from './ledger-sql.js';
export { foliokitMigrations, migrationProvider, type SqlDialect } from './migrations.js';
export * as rows from './rows.js';
export type * from './schema.js';
