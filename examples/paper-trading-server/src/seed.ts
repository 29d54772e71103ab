/**
 * The demo: a user with a portfolio opened a year ago, a few positions bought on past days at those
 * days' closes, a watchlist, and a year of daily snapshots (backfilled), so the dashboard has
 * something to show on the very first start.
 */
import type { PortfolioEngine } from '@foliokit/core';
import type { Logger } from 'pino';

/** The demo user's fixed id (several instances on one database seed one user). */
export const DEMO_USER_ID = 'usr_demo';
/** The demo user's email. */
export const DEMO_EMAIL = 'demo@foliokit.dev';

const DAY_MS = 86_400_000;

/** The demo's trades: symbol, side, quantity, and how many days ago. */
const DEMO_TRADES = [
  { symbol: 'AAPL', side: 'buy', quantity: '60', daysAgo: 355 },
  { symbol: 'MSFT', side: 'buy', quantity: '40', daysAgo: 330 },
  { symbol: 'NVDA', side: 'buy', quantity: '120', daysAgo: 280 },
  { symbol: 'KO', side: 'buy', quantity: '150', daysAgo: 210 },
  { symbol: 'JPM', side: 'buy', quantity: '35', daysAgo: 150 },
  { symbol: 'NVDA', side: 'sell', quantity: '40', daysAgo: 90 },
  { symbol: 'TSLA', side: 'buy', quantity: '20', daysAgo: 45 },
] as const;

const DEMO_WATCHLIST = ['GOOGL', 'AMZN', 'META', 'NFLX', 'AMD'];

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The first daily close on or after `day` (within a week), or undefined. */
async function closeOnOrAfter(
  engine: PortfolioEngine,
  symbol: string,
  ms: number,
): Promise<{ day: string; close: string } | undefined> {
  const to = dayOf(Math.min(ms + 7 * DAY_MS, Date.now()));
  const { bars } = await engine.getPriceHistory(symbol, { from: dayOf(ms), to });
  const bar = bars[0];
  return bar && { day: bar.day, close: bar.close };
}

/**
 * Seeds the demo portfolio of `ownerId` unless it has one, or another instance claimed the seed
 * (`claim` answers whether this call may seed). A trade whose price the provider cannot give (a CSV
 * folder without that symbol) is skipped with a warning.
 * @returns the demo portfolio's id, or null when another instance is seeding it.
 */
export async function seedDemoPortfolio(
  engine: PortfolioEngine,
  ownerId: string,
  claim: () => Promise<boolean>,
  log: Logger,
): Promise<string | null> {
  const existing = await engine.listPortfolios({ ownerId, limit: 1 });
  if (existing.items[0]) return existing.items[0].id;
  // Several instances starting at once on one database: only the first to claim the seed seeds.
  if (!(await claim())) return null;
  const now = Date.now();
  const opened = now - 365 * DAY_MS;
  const portfolio = await engine.createPortfolio({
    name: 'Demo portfolio',
    description: 'Seeded by the paper-trading server: a year of simulated history.',
    ownerId,
    initialCash: '100000',
    initialCashAt: new Date(opened).toISOString(),
  });
  for (const t of DEMO_TRADES) {
    try {
      const bar = await closeOnOrAfter(engine, t.symbol, now - t.daysAgo * DAY_MS);
      if (!bar) continue;
      await engine.trade(portfolio.id, {
        symbol: t.symbol,
        side: t.side,
        quantity: t.quantity,
        price: bar.close,
        at: `${bar.day}T20:00:00.000Z`,
      });
    } catch (error) {
      log.warn({ err: error, symbol: t.symbol }, 'demo trade skipped');
    }
  }
  for (const symbol of DEMO_WATCHLIST) {
    await engine.addToWatchlist(portfolio.id, symbol).catch((error) => log.warn({ err: error, symbol }, 'watchlist'));
  }
  const report = await engine.backfill(portfolio.id, { from: dayOf(opened), to: dayOf(now) });
  log.info({ portfolioId: portfolio.id, backfill: report }, 'demo portfolio seeded');
  return portfolio.id;
}
