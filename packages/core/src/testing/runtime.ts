/**
 * vitest and fast-check are optional peers of `@foliokit/core/testing`, loaded only inside a vitest
 * run: importing the testing entry elsewhere (a manual clock for another test runner, a script)
 * must not need them — importing vitest outside its runner throws.
 */
import type * as FastCheck from 'fast-check';
import type * as Vitest from 'vitest';

const underVitest = typeof process !== 'undefined' && Boolean(process.env.VITEST);

const vitestModule: typeof Vitest | null = underVitest ? await import('vitest') : null;
const fastCheckModule: typeof FastCheck | null = underVitest ? await import('fast-check') : null;

/** vitest's API, or a clear error outside a vitest run. */
export function vitest(): typeof Vitest {
  if (!vitestModule) throw new Error('The foliokit conformance suites run inside vitest (>= 3)');
  return vitestModule;
}

/** fast-check's API, or a clear error outside a vitest run. */
export function fastCheck(): typeof FastCheck {
  if (!fastCheckModule) throw new Error('The foliokit conformance suites need fast-check installed, inside vitest');
  return (fastCheckModule as unknown as { default?: typeof FastCheck }).default ?? fastCheckModule;
}

export type { FastCheck, Vitest };
