/**
 * The engine room: the `PortfolioEngine` façade, `createPortfolioEngine`, the inputs it validates
 * at the boundary, how it shows rows to users, and the store runtime it wraps every store with.
 */
export { createPortfolioEngine } from './create.js';
export { type EngineHealth, PortfolioEngine } from './engine.js';
export type {
  CashInput,
  CreatePortfolioInput,
  ListPortfoliosInput,
  ListTransactionsInput,
  TradeInput,
  UpdatePortfolioInput,
  VoidInput,
} from './inputs.js';
/** The zod schemas of the engine's inputs, for layers that validate the same inputs (the HTTP router). */
export {
  cashSchema,
  createPortfolioSchema,
  listPortfoliosSchema,
  listTransactionsSchema,
  tradeSchema,
  updatePortfolioSchema,
  voidSchema,
} from './inputs.js';
export type { CreatePortfolioEngineOptions, PriceOptions } from './options.js';
export { isReplay } from './results.js';
export type * from './types.js';
