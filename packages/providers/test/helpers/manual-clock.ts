import type { Clock } from '@foliokit/core';

/** A clock that only moves when told to, running due timers in order. */
export interface ManualClock extends Clock {
  /** Moves time forward, firing every timer that falls due, and lets promise callbacks run between them. */
  advance(ms: number): Promise<void>;
  /** Sets the time (forward only). */
  set(ms: number | string): Promise<void>;
  /** Timers waiting to fire: their delays as scheduled. */
  pendingDelays(): number[];
}

interface Timer {
  id: number;
  due: number;
  delay: number;
  fn: () => void;
}

/** Flushes pending promise callbacks (several rounds, for chains of awaits). */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export function createManualClock(start: number | string = '2025-03-03T15:00:00Z'): ManualClock {
  let now = typeof start === 'number' ? start : Date.parse(start);
  let nextId = 1;
  const timers: Timer[] = [];
  const clock: ManualClock = {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { id: nextId++, due: now + Math.max(0, ms), delay: ms, fn };
      timers.push(timer);
      return timer.id;
    },
    clearTimeout(handle) {
      const index = timers.findIndex((t) => t.id === handle);
      if (index >= 0) timers.splice(index, 1);
    },
    async advance(ms) {
      const target = now + ms;
      await flush();
      for (;;) {
        timers.sort((a, b) => a.due - b.due || a.id - b.id);
        const first = timers[0];
        if (!first || first.due > target) break;
        timers.shift();
        now = first.due;
        first.fn();
        await flush();
      }
      now = target;
      await flush();
    },
    async set(ms) {
      const target = typeof ms === 'number' ? ms : Date.parse(ms);
      await clock.advance(Math.max(0, target - now));
    },
    pendingDelays: () => timers.map((t) => t.delay),
  };
  return clock;
}
