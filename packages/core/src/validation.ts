/**
 * Input validation at the public boundary: zod schemas for shapes, our decimal and time parsers for
 * values, and one conversion of every failure into a `VALIDATION_FAILED` error naming the field.
 */
import { z } from 'zod';
import { FoliokitError } from './errors.js';
import { isCanonicalInstant } from './time.js';

/** A UTF-16 surrogate without its pair: it has no UTF-8 form, so PostgreSQL cannot store it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/**
 * True when every store can hold `text` as it is: no NUL character (PostgreSQL `text` refuses
 * U+0000) and no unpaired UTF-16 surrogate (no UTF-8 form; SQLite would keep a replacement
 * character instead). The one rule for every string input that reaches a store: names, owner ids,
 * keys, ids, cursors.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/**
 * A string input every store can hold ({@link isStorableText}), of `min` to `max` characters;
 * `trim` trims it first (the limits apply to the trimmed text).
 */
export function textInput(min: number, max: number, options: { trim?: boolean } = {}) {
  const base = options.trim ? z.string().trim() : z.string();
  return base.min(min).max(max).refine(isStorableText, UNSTORABLE_MESSAGE);
}

/** A decimal input: a decimal string or a number; read with `parseDecimal`. */
export const decimalInput = z.union([z.string(), z.number()]);
/** An instant input: ISO string with zone, or a Date; read with `parseInstant`. */
export const instantInput = z.union([z.string(), z.date()]);
/** An idempotency key. */
export const idempotencyKeyInput = textInput(1, 255);

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

/** An id every store can hold: 1 to 100 characters of {@link isStorableText}. */
function isId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 100 && isStorableText(id);
}

/**
 * Checks an id argument (a portfolio id, a transaction id): 1 to 100 characters a store can hold.
 * @throws FoliokitError `VALIDATION_FAILED` naming `field`
 */
export function checkId(id: unknown, field = 'portfolioId'): string {
  if (!isId(id)) {
    throw new FoliokitError(
      'VALIDATION_FAILED',
      `${field} must be a string of 1 to 100 characters, without NUL characters or unpaired UTF-16 surrogates`,
      { field },
    );
  }
  return id;
}

/** Opaque keyset cursors: base64url of a JSON object of strings. */
export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * How a cursor's value is checked, by key: an instant must be written exactly as the engine writes
 * one (`toIso`), an id is checked as {@link checkId} checks it. Any other key is storable text.
 */
const CURSOR_VALUE_RULES: Record<string, (value: string) => boolean> = {
  executedAt: isCanonicalInstant,
  id: isId,
};

/**
 * Reads a cursor made by {@link encodeCursor}: each of `keys` must be present and valid for the
 * stores (see `CURSOR_VALUE_RULES`), so a forged cursor is refused here rather than by a store.
 * @throws FoliokitError `VALIDATION_FAILED` with field `cursor`
 */
export function decodeCursor(cursor: string, keys: readonly string[]): Record<string, string> {
  let value: Record<string, unknown> | null = null;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    // Not JSON: refused below.
  }
  const valid = (k: string): boolean => {
    const v = value?.[k];
    return typeof v === 'string' && (CURSOR_VALUE_RULES[k] ?? isStorableText)(v);
  };
  if (typeof value !== 'object' || value === null || !keys.every(valid)) {
    throw new FoliokitError('VALIDATION_FAILED', 'cursor is not a cursor this API returned', { field: 'cursor' });
  }
  return value as Record<string, string>;
}
