/**
 * A portfolio's live valuation, shared by the SSE hub and the WebSocket hub (HTTP.md: one envelope
 * and the same events on both transports). A feed computes the valuation once for all the
 * subscribers of one portfolio, after the changes that can move it: a trade, a cash movement, a
 * void (see {@link REVALUE_ON}), or a new price of a symbol the portfolio holds. A burst of such
 * changes costs one computation (a {@link CoalescedTask} waits `delayMs` for more), and a
 * valuation equal to the last one sent (its `at` aside) is not sent again.
 *
 * The hub owns the transport: it tells the feed what happened (`onPortfolioEvent`, `onPrice`) and
 * frames what the feed hands to `publish`.
 */
import type { PortfolioEngine, Valuation } from '@foliokit/core';
import { CoalescedTask } from './sse/coalesced-task.js';

/** Portfolio events after which its valuation is recomputed (besides prices of what it holds). */
export const REVALUE_ON: ReadonlySet<string> = new Set([
  'trade.executed',
  'cash.deposited',
  'cash.withdrawn',
  'transaction.voided',
]);

/** Options of a {@link ValuationFeed}. */
export interface ValuationFeedOptions {
  engine: PortfolioEngine;
  portfolioId: string;
  /** How long (ms) a request waits for more changes before the valuation is computed. */
  delayMs: number;
  /** Receives each new valuation (never after {@link ValuationFeed.close}). */
  publish: (valuation: Valuation) => void;
  /** Names the transport in the debug log of a failed valuation (`'SSE'`, `'WebSocket'`). */
  transport: string;
}

/** One portfolio's valuation for the subscribers of a hub. See the module comment. */
export class ValuationFeed {
  readonly portfolioId: string;
  readonly #engine: PortfolioEngine;
  readonly #publish: (valuation: Valuation) => void;
  readonly #task: CoalescedTask;
  /** The symbols it holds (null until known: every price counts). */
  #held: Set<string> | null = null;
  /** The last valuation sent, without its `at`. */
  #last: string | undefined;
  #closed = false;

  constructor(options: ValuationFeedOptions) {
    this.portfolioId = options.portfolioId;
    this.#engine = options.engine;
    this.#publish = options.publish;
    this.#task = new CoalescedTask(
      options.delayMs,
      async () => {
        const valuation = await this.#engine.getValuation(this.portfolioId);
        if (!this.#closed) this.#deliver(valuation);
      },
      (error) =>
        this.#engine.logger.debug(`${options.transport}: valuation failed`, {
          portfolioId: this.portfolioId,
          error: String(error),
        }),
    );
    // Learn what it holds, so that only prices of those symbols revalue it.
    this.#engine.getPositions(this.portfolioId).then(
      (positions) => {
        if (!this.#closed && this.#held === null) this.#held = new Set(positions.map((p) => p.symbol));
      },
      () => {},
    );
  }

  /** True while a computation waits for its delay (for resource counts). */
  get timerPending(): boolean {
    return this.#task.timerPending;
  }

  /** An event of this portfolio happened: revalues when its type can change the valuation. */
  onPortfolioEvent(type: string): void {
    if (REVALUE_ON.has(type)) this.#task.request();
  }

  /** A price changed: revalues when the portfolio holds the symbol (or its holdings are not known yet). */
  onPrice(symbol: string): void {
    if (this.#held === null || this.#held.has(symbol)) this.#task.request();
  }

  /** Stops: a pending computation is cancelled and a running one publishes nothing. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#task.close();
  }

  #deliver(valuation: Valuation): void {
    this.#held = new Set(valuation.positions.map((p) => p.symbol));
    const { at: _at, ...rest } = valuation;
    const signature = JSON.stringify(rest);
    if (signature === this.#last) return;
    this.#last = signature;
    this.#publish(valuation);
  }
}
