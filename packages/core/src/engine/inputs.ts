/**
 * The inputs of the engine's public methods: their types, and the zod schemas that validate them
 * once at the boundary (the HTTP layer reuses the same schemas).
 */
import { z } from 'zod';
import { COST_BASIS_METHODS, TRANSACTION_KINDS } from '../ports/index.js';
import { decimalInput, idempotencyKeyInput, instantInput, textInput } from '../validation.js';

/** Input of `engine.createPortfolio`. */
export interface CreatePortfolioInput {
  name: string;
  description?: string;
  /** The user or account the portfolio belongs to. */
  ownerId?: string;
  /** ISO 4217 code. @default 'USD' */
  baseCurrency?: string;
  /** @default 'average' */
  costBasisMethod?: 'average' | 'fifo';
  /** Opening cash, recorded as a deposit. @default 0 */
  initialCash?: string | number;
  /**
   * When the opening deposit happened (the ledger is applied in date order: history imported
   * with earlier dates needs its cash from before). @default now; never in the future
   */
  initialCashAt?: string | Date;
}

/** Input of `engine.deposit` and `engine.withdraw`. */
export interface CashInput {
  amount: string | number;
  /** When it happened. @default now; never in the future */
  at?: string | Date;
  /** The same key returns the first result; another request under it is `IDEMPOTENCY_CONFLICT`. */
  idempotencyKey?: string;
}

/** Input of `engine.trade`. */
export interface TradeInput {
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string | number;
  /** The fill price. @default the provider's latest price */
  price?: string | number;
  /** @default 0 */
  fee?: string | number;
  /** When it happened. @default now; never in the future */
  at?: string | Date;
  idempotencyKey?: string;
}

/** Input of `engine.listTransactions`. */
export interface ListTransactionsInput {
  /** @default 50, at most 500 */
  limit?: number;
  cursor?: string;
  kinds?: Array<'deposit' | 'withdrawal' | 'buy' | 'sell'>;
}

/** Input of `engine.listPortfolios`. */
export interface ListPortfoliosInput {
  ownerId?: string;
  /** @default 100, at most 1000 */
  limit?: number;
  cursor?: string;
}

export const createPortfolioSchema = z.strictObject({
  name: textInput(1, 200, { trim: true }),
  description: textInput(0, 2000).optional(),
  ownerId: textInput(1, 200).optional(),
  baseCurrency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO 4217 code such as USD')
    .default('USD'),
  costBasisMethod: z.enum(COST_BASIS_METHODS).default('average'),
  initialCash: decimalInput.optional(),
  initialCashAt: instantInput.optional(),
});

export const updatePortfolioSchema = z.strictObject({
  name: textInput(1, 200, { trim: true }).optional(),
  description: textInput(0, 2000).nullable().optional(),
});

export const cashSchema = z.strictObject({
  amount: decimalInput,
  at: instantInput.optional(),
  idempotencyKey: idempotencyKeyInput.optional(),
});

export const tradeSchema = z.strictObject({
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  quantity: decimalInput,
  price: decimalInput.optional(),
  fee: decimalInput.optional(),
  at: instantInput.optional(),
  idempotencyKey: idempotencyKeyInput.optional(),
});

export const listTransactionsSchema = z.strictObject({
  limit: z.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
  kinds: z.array(z.enum(TRANSACTION_KINDS)).max(TRANSACTION_KINDS.length).optional(),
});

export const listPortfoliosSchema = z.strictObject({
  ownerId: textInput(1, 200).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(500).optional(),
});

/** Input of `engine.updatePortfolio`: the fields to change. */
export interface UpdatePortfolioInput {
  name?: string;
  /** `null` clears it. */
  description?: string | null;
}

/** Input of `engine.voidTransaction`. */
export interface VoidInput {
  /** The same key returns the first void; the key used to void another entry is `IDEMPOTENCY_CONFLICT`. */
  idempotencyKey?: string;
}

export const voidSchema = z.strictObject({
  idempotencyKey: idempotencyKeyInput.optional(),
});
