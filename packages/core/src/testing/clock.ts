import type { Clock, TimerHandle } from '../time.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that only moves when told. Timers fire, in order, as {@link ManualClock.advance} passes
 * their time; callbacks may schedule further timers, which fire within the same advance if due.
 *
 * @example
 * ```ts
 * const clock = createManualClock('2026-01-05T00:00:00Z');
 * const engine = createPortfolioEngine({ store, marketData, clock });
 * await clock.advance(30_000); // the interval job runs
 * ```
 */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order and letting their promises settle. */
  advance(ms: number): Promise<void>;
  /** Moves time to an instant (never backwards). */
  advanceTo(instant: string | number): Promise<void>;
  /** Sets the time without firing timers (for setting up a test). */
  set(instant: string | number): void;
  /** Timers still pending. */
  pending(): number;
}

/** Creates a {@link ManualClock} starting at `start` (ISO instant or epoch ms). */
export function createManualClock(start: string | number = '2026-01-01T00:00:00.000Z'): ManualClock {
  let now = typeof start === 'number' ? start : Date.parse(start);
  let seq = 0;
  const timers: Timer[] = [];
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  };
  const clock: ManualClock = {
    now: () => now,
    setTimeout(fn, ms): TimerHandle {
      const timer = { id: ++seq, at: now + Math.max(0, ms), fn };
      timers.push(timer);
      return timer.id;
    },
    clearTimeout(handle) {
      const i = timers.findIndex((t) => t.id === handle);
      if (i >= 0) timers.splice(i, 1);
    },
    async advance(ms) {
      await clock.advanceTo(now + ms);
    },
    async advanceTo(instant) {
      const target = typeof instant === 'number' ? instant : Date.parse(instant);
      // Let work already under way schedule its timers before looking for due ones.
      await flush();
      for (;;) {
        timers.sort((a, b) => a.at - b.at || a.id - b.id);
        const next = timers[0];
        if (!next || next.at > target) break;
        timers.shift();
        now = Math.max(now, next.at);
        next.fn();
        await flush();
      }
      now = Math.max(now, target);
      await flush();
    },
    set(instant) {
      now = typeof instant === 'number' ? instant : Date.parse(instant);
    },
    pending: () => timers.length,
  };
  return clock;
}
