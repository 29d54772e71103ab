import type { LedgerPlanner, LedgerState, LedgerWrite } from '../ports/store.js';

/**
 * Carries a planner's error through a store's own error handling, so that the caller receives it
 * unchanged whatever it is (a store wraps only its driver's errors as `STORE_ERROR`). Stores call
 * {@link runPlanner} and unwrap with `error instanceof PlannerError ? error.original : ...`.
 */
export class PlannerError extends Error {
  override readonly name = 'PlannerError';
  constructor(readonly original: unknown) {
    super('the ledger planner failed');
  }
}

/** Calls a planner, wrapping whatever it throws in a {@link PlannerError}. */
export function runPlanner(plan: LedgerPlanner, state: LedgerState): LedgerWrite | null {
  try {
    return plan(state);
  } catch (error) {
    throw new PlannerError(error);
  }
}
