/** The login limiter: failed logins counted per email and IP in a fixed window (in memory, per instance). */

/** Options of {@link createLoginLimiter}. */
export interface LoginLimiterOptions {
  maxFailures: number;
  windowMs: number;
  now?: () => number;
}

/** Counts failures; a key over the limit is blocked until its window ends. */
export interface LoginLimiter {
  /** Seconds until the key may try again, or 0 when it may now. */
  retryAfter(key: string): number;
  fail(key: string): void;
  succeed(key: string): void;
}

/** Creates a login limiter. */
export function createLoginLimiter(options: LoginLimiterOptions): LoginLimiter {
  const { maxFailures, windowMs, now = Date.now } = options;
  const windows = new Map<string, { start: number; failures: number }>();
  const current = (key: string) => {
    const w = windows.get(key);
    if (w && now() - w.start >= windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  return {
    retryAfter(key) {
      const w = current(key);
      if (!w || w.failures < maxFailures) return 0;
      return Math.max(1, Math.ceil((w.start + windowMs - now()) / 1000));
    },
    fail(key) {
      const w = current(key);
      if (w) w.failures += 1;
      else windows.set(key, { start: now(), failures: 1 });
      if (windows.size > 100_000) windows.delete(windows.keys().next().value as string);
    },
    succeed(key) {
      windows.delete(key);
    },
  };
}
