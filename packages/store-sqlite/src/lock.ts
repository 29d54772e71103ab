/**
 * A mutex over the one SQLite connection, shared by Kysely's driver and the native hot path so a
 * synchronous trade never lands inside an open asynchronous transaction.
 */
export class ConnectionLock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  /** Takes the lock now if it is free. */
  tryAcquire(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  /** Waits for the lock. */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}
