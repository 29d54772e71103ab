/**
 * The trading loop a crash-test child process runs until it is killed: random buys, sells,
 * deposits and withdrawals (some under reused idempotency keys) on a few portfolios, several in
 * flight at once. After each call resolves it prints `ack <transaction id>`: the parent kills it
 * with SIGKILL at a random moment and then checks that every acknowledged entry is in the database
 * and that nothing is half-applied.
 *
 * Runs outside vitest: it imports neither vitest nor `@foliokit/core/testing`.
 */
import {
  createPortfolioEngine,
  isFoliokitError,
  type MarketDataProvider,
  type PortfolioEngine,
  type Store,
  silentLogger,
  type Transaction,
} from '@foliokit/core';

/** Symbols the loop trades. */
export const CRASH_SYMBOLS = ['AAPL', 'MSFT', 'NVDA'] as const;

/** A provider the engine never needs: every trade gives its price. */
const noMarket: MarketDataProvider = {
  name: 'none',
  async getQuotes(symbols) {
    return { quotes: {}, unknown: [...symbols] };
  },
  async getDailyHistory() {
    return [];
  },
};

function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(Math.random() * xs.length)] as T;
}

function price(): string {
  return (10 + Math.floor(Math.random() * 19_000) / 100).toFixed(2);
}

function randomCall(engine: PortfolioEngine, portfolioId: string, keys: string[]): Promise<Transaction> {
  const r = Math.random();
  // A reused key replays (or conflicts): exercises the idempotent path under the same kills.
  const key =
    Math.random() < 0.1
      ? keys.length > 0 && Math.random() < 0.5
        ? pick(keys)
        : `k${Date.now()}${Math.random()}`
      : undefined;
  if (key && !keys.includes(key)) keys.push(key);
  const idem = key ? { idempotencyKey: key } : {};
  if (r < 0.45) {
    const quantity = String(1 + Math.floor(Math.random() * 5));
    return engine.trade(portfolioId, {
      symbol: pick(CRASH_SYMBOLS),
      side: 'buy',
      quantity,
      price: price(),
      fee: '0.35',
      ...idem,
    });
  }
  if (r < 0.85) {
    const quantity = String(1 + Math.floor(Math.random() * 5));
    return engine.trade(portfolioId, {
      symbol: pick(CRASH_SYMBOLS),
      side: 'sell',
      quantity,
      price: price(),
      fee: '0.15',
      ...idem,
    });
  }
  if (r < 0.93) return engine.deposit(portfolioId, { amount: price(), ...idem });
  return engine.withdraw(portfolioId, { amount: price(), ...idem });
}

/**
 * Waits for the parent's `go` line on stdin. The parent starts a child early (loading modules
 * takes most of a second) and lets it open the store only when the previous child is dead and
 * checked. Whenever the parent goes away (stdin ends), the child exits: no orphan keeps trading.
 */
export function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    let buffered = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.includes('go\n')) resolve();
    });
    process.stdin.on('end', () => process.exit(0));
  });
}

/**
 * Trades until killed. Expected refusals (insufficient cash or quantity, idempotency conflicts)
 * are part of the game; anything else exits with code 3 so the parent notices.
 */
export async function runTradingLoop(store: Store, portfolioIds: readonly string[], concurrency = 4): Promise<never> {
  const engine = createPortfolioEngine({ store, marketData: noMarket, logger: silentLogger });
  const keys: string[] = [];
  process.stdout.write('ready\n');
  const worker = async () => {
    for (;;) {
      try {
        const t = await randomCall(engine, pick(portfolioIds), keys);
        // Pipes are synchronous on Linux: once written, the line reaches the parent even if killed next.
        process.stdout.write(`ack ${t.id}\n`);
      } catch (error) {
        if (!isFoliokitError(error) || error.code === 'STORE_ERROR') {
          process.stderr.write(`unexpected: ${error instanceof Error ? error.stack : String(error)}\n`);
          process.exit(3);
        }
      }
      // On SQLite a trade can complete without any I/O wait: yield so stdin's end is noticed.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  throw new Error('unreachable');
}
