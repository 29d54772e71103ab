/**
 * Input validation at the public boundary: zod schemas for shapes, our decimal and time parsers for
 * values, and one conversion of every failure into a `VALIDATION_FAILED` error naming the field.
 */
import { z } from 'zod';
import { FoliokitError } from './errors.js';

/** A decimal input: a decimal string or a number; read with `parseDecimal`. */
export const decimalInput = z.union([z.string(), z.number()]);
/** An instant input: ISO string with zone, or a Date; read with `parseInstant`. */
export const instantInput = z.union([z.string(), z.date()]);
/** An idempotency key. */
export const idempotencyKeyInput = z.string().min(1).max(255);

/** Parses `input` with `schema`; a failure becomes VALIDATION_FAILED naming the first bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, root: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path === '' ? root : path;
  const issues = result.error.issues.map((i) => ({ field: i.path.map(String).join('.') || root, message: i.message }));
  throw new FoliokitError('VALIDATION_FAILED', `${field}: ${issue?.message ?? 'invalid input'}`, { field, issues });
}

/** Checks a portfolio id argument. */
export function checkId(id: unknown, field = 'portfolioId'): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 100) {
    throw new FoliokitError('VALIDATION_FAILED', `${field} must be a non-empty string`, { field });
  }
  return id;
}

/** Opaque keyset cursors. */
export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor(cursor: string, keys: readonly string[]): Record<string, string> {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const k of keys) if (typeof value[k] !== 'string') throw new Error('bad');
    return value as Record<string, string>;
  } catch {
    throw new FoliokitError('VALIDATION_FAILED', 'cursor is not a cursor this API returned', { field: 'cursor' });
  }
}
