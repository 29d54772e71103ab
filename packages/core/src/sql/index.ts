/**
 * @packageDocumentation
 * `@foliokit/core/sql`: for store authors. The shared Kysely store both SQL adapters build on, its
 * migrations and schema types, the row mappers, and the store runtime every adapter wraps what it
 * returns with. Apps need none of this: they import `@foliokit/core` and a store package.
 */
export {
  guardStore,
  isGuardedStore,
  missingStoreMethods,
  OPTIONAL_STORE_METHODS,
  REQUIRED_STORE_METHODS,
} from '../engine/store-runtime.js';
export { foliokitMigrations, migrationProvider, type SqlDialect } from './migrations.js';
export { PlannerError, runPlanner } from './planner.js';
export * as rows from './rows.js';
export type * from './schema.js';
export { createKyselyStore, type KyselyStore, type KyselyStoreOptions } from './store.js';
