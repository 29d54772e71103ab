/**
 * One error class with a closed table of stable codes. Every failure that crosses the public API is
 * a {@link FoliokitError}; whatever a store or provider throws is wrapped into one, with the
 * original kept as `cause`.
 */

/** Every error code foliokit produces. Codes are stable: they never change meaning. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'PORTFOLIO_NOT_FOUND',
  'INSUFFICIENT_CASH',
  'INSUFFICIENT_QUANTITY',
  'UNKNOWN_SYMBOL',
  'PRICE_UNAVAILABLE',
  'IDEMPOTENCY_CONFLICT',
  'RANGE_TOO_LARGE',
  'NOT_FOUND',
  'CONFLICT',
  'PROVIDER_ERROR',
  'PROVIDER_TIMEOUT',
  'PROVIDER_RATE_LIMITED',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_INVALID_RESPONSE',
  'STORE_ERROR',
  'STORE_CLOSED',
  'ENGINE_CLOSED',
  'INVALID_CONFIGURATION',
  'QUEUE_FULL',
] as const;

/** A stable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Structured details carried by an error: the field at fault and anything else useful. */
export interface ErrorDetails {
  /** The input field at fault, as a dotted path (`"quantity"`, `"prices.AAPL"`). */
  field?: string;
  [key: string]: unknown;
}

/** The one error class of foliokit. */
export class FoliokitError extends Error {
  override readonly name = 'FoliokitError';
  /** The stable code; switch on this, never on the message. */
  readonly code: ErrorCode;
  /** The field at fault and other structured details. */
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }

  /** A plain object for logs and JSON bodies. */
  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True for a {@link FoliokitError}, also when it comes from another copy of `@foliokit/core`
 * (where `instanceof` fails).
 */
export function isFoliokitError(error: unknown): error is FoliokitError {
  if (error instanceof FoliokitError) return true;
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'FoliokitError' &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (ERROR_CODES as readonly string[]).includes((error as { code: string }).code)
  );
}

/** Wraps anything thrown by a plug-in into a FoliokitError of the given code, keeping the cause. */
export function wrapError(error: unknown, code: ErrorCode, message: string, details: ErrorDetails = {}): FoliokitError {
  if (isFoliokitError(error)) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new FoliokitError(code, `${message}: ${why}`, details, { cause: error });
}

/** The one `PORTFOLIO_NOT_FOUND` error, naming the id and the field. */
export function portfolioNotFound(portfolioId: string): FoliokitError {
  return new FoliokitError('PORTFOLIO_NOT_FOUND', `No portfolio with id ${portfolioId}`, {
    field: 'portfolioId',
    portfolioId,
  });
}
