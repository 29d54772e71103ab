/**
 * A task run at most once at a time, after a short delay that gathers every request made during
 * it: a burst of price updates for one portfolio costs one valuation. A request that arrives while
 * the task runs schedules one more run after it.
 */
export class CoalescedTask {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #again = false;
  #closed = false;

  constructor(
    readonly delayMs: number,
    readonly run: () => Promise<void>,
    readonly onError: (error: unknown) => void,
  ) {}

  /** True while a timer is pending (for resource counts). */
  get timerPending(): boolean {
    return this.#timer !== undefined;
  }

  /** True while the task runs. */
  get running(): boolean {
    return this.#running;
  }

  /** Asks for a run: joins the pending one, or follows the running one. */
  request(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#execute();
    }, this.delayMs);
  }

  /** Cancels any pending run; later requests are ignored. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #execute(): Promise<void> {
    if (this.#closed) return;
    this.#running = true;
    try {
      await this.run();
    } catch (error) {
      this.onError(error);
    } finally {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.request();
      }
    }
  }
}
