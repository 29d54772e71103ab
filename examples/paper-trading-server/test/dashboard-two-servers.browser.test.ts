/**
 * Two example servers on one PostgreSQL schema (a fresh one, dropped after), the demo on: the
 * dashboard of B, open in a real browser (Debian's Chromium through playwright-core), shows a trade
 * placed through A's API, without a reload, because B's portfolio stream carries it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, PG_URL, schemaName } from '../../../packages/store-postgres/test/support/pg.js';
import { createPaperTradingServer, type PaperTradingServer } from '../src/server.js';
import { hasChromium, launchBrowser, watchPage } from './support/browser.js';

/** Generous cap for what arrives over SSE (never asserted as a duration). */
const LIVE_CAP_MS = 30_000;
/** A symbol the demo holds (150 shares), and a quantity no seeded trade uses. */
const SYMBOL = 'KO';
const QUANTITY = 7;

/** POSTs JSON, with a bearer token when given. */
function post(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

/** The quantity the positions table shows for `symbol` (grouping commas removed), or null. */
async function shownQuantity(page: Page, symbol: string): Promise<number | null> {
  const row = page.locator(`#positions tbody tr[data-symbol="${symbol}"]`);
  if ((await row.count()) === 0) return null;
  const text = await row.locator('td').first().textContent();
  return text ? Number(text.replace(/,/g, '')) : null;
}

// Never skipped: .ci/run installs Debian's Chromium and PostgreSQL; without them this fails loudly.
describe('two servers on one PostgreSQL, dashboard in Chromium', { timeout: 120_000 }, () => {
  it('has Chromium to drive', () => {
    expect(hasChromium(), 'install it: apt-get install -y chromium').toBe(true);
  });

  const pgSchema = schemaName('dash2');
  let a: PaperTradingServer;
  let b: PaperTradingServer;
  let browser: Browser;
  let page: Page;
  let seen: ReturnType<typeof watchPage>;

  beforeAll(async () => {
    const config = {
      port: 0,
      host: '127.0.0.1',
      postgresUrl: PG_URL,
      pgSchema,
      demo: true,
      logLevel: 'silent' as const,
    };
    // A first, to the end of its start: it seeds the demo; B then finds the seeded portfolio.
    a = await createPaperTradingServer(config);
    b = await createPaperTradingServer(config);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    seen = watchPage(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.close(), b?.close()]);
    await dropSchema(pgSchema);
  });

  it("shows on B's dashboard a trade placed through A's API", async () => {
    expect(a.demoPortfolioId).toMatch(/^pf_/);
    await page.goto(b.url);
    await expect
      .poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: LIVE_CAP_MS })
      .toBe('live');
    await page.locator(`#positions tbody tr[data-symbol="${SYMBOL}"]`).waitFor({ timeout: LIVE_CAP_MS });
    const before = await shownQuantity(page, SYMBOL);
    expect(before).toBeGreaterThan(0);

    const demo = await post(`${a.url}/auth/demo`, {});
    expect(demo.status).toBe(200);
    const { accessToken } = (await demo.json()) as { accessToken: string };
    const trade = await post(
      `${a.url}/api/portfolios/${a.demoPortfolioId}/trades`,
      { symbol: SYMBOL, side: 'buy', quantity: String(QUANTITY) },
      accessToken,
    );
    expect(trade.status).toBe(201);
    const { id: transactionId } = (await trade.json()) as { id: string };

    // B's page learns of it over its portfolio stream: the ledger's top row is the trade ...
    const top = page.locator('#ledger tbody tr').first();
    await expect.poll(() => top.getAttribute('data-id'), { timeout: LIVE_CAP_MS }).toBe(transactionId);
    const cells = await top.locator('td').allTextContents();
    expect(cells.slice(1, 4)).toEqual(['buy', SYMBOL, String(QUANTITY)]);
    // ... and the position grew by the quantity bought.
    await expect.poll(() => shownQuantity(page, SYMBOL), { timeout: LIVE_CAP_MS }).toBe((before ?? 0) + QUANTITY);

    expect(seen.pageErrors).toEqual([]);
    expect(seen.consoleErrors).toEqual([]);
  });
});
