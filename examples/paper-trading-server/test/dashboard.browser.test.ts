/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the example
 * server on 127.0.0.1, with a temporary data folder and simulated prices polled every second.
 * The steps share one page and run in order: load, live prices, a buy, a refused sell, the chart,
 * screenshots, a server restart the page survives, and the admin panel's backfill.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfigInput } from '../src/config.js';
import { createPaperTradingServer, type PaperTradingServer } from '../src/server.js';
import {
  drawnPixels,
  hasChromium,
  launchBrowser,
  pageScrollWidth,
  readTokens,
  screenshot,
  spoilTokens,
  tickerState,
  watchPage,
} from './support/browser.js';

/** Generous caps for things that arrive over SSE or through jobs (never asserted as durations). */
const LIVE_CAP_MS = 30_000;
const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };

// Never skipped: .ci/run installs Debian's Chromium; without it this fails loudly.
describe('dashboard in Chromium', { timeout: 90_000 }, () => {
  it('has Chromium to drive', () => {
    expect(hasChromium(), 'install it: apt-get install -y chromium').toBe(true);
  });

  let dataDir: string;
  let config: ServerConfigInput;
  let server: PaperTradingServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let seen: ReturnType<typeof watchPage>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'foliokit-dashboard-'));
    config = {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      jwtSecret: 'dashboard-test-secret-0123456789-abcdef',
      pricePollMs: 1000,
      logLevel: 'silent',
    };
    server = await createPaperTradingServer(config);
    config.port = server.port; // restarts reuse the port, so the page finds the server again
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    seen = watchPage(page);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loads with no console errors and shows the seeded positions', async () => {
    await page.goto(server.url);
    await page.locator('#positions tbody tr[data-symbol]').first().waitFor({ timeout: LIVE_CAP_MS });
    await expect
      .poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: LIVE_CAP_MS })
      .toBe('live');
    const symbols = await page
      .locator('#positions tbody tr[data-symbol]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol')));
    expect(symbols.length).toBeGreaterThan(0);
    expect(await page.locator('[data-total="totalValue"]').textContent()).toMatch(/\d/);
    expect(await page.locator('#who').textContent()).toMatch(/Signed in as/);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.consoleErrors).toEqual([]);
  });

  it('shows a price change that arrives over SSE', async () => {
    await page.locator('#ticker li').first().waitFor();
    const before = await tickerState(page);
    await expect
      .poll(
        async () => {
          const now = await tickerState(page);
          return Object.keys(now).some((s) => before[s] && now[s]?.price !== before[s].price);
        },
        { timeout: LIVE_CAP_MS, interval: 250 },
      )
      .toBe(true);
  });

  it('places a buy through the form: it shows in positions and the ledger', async () => {
    const held = await page
      .locator('#positions tbody tr[data-symbol]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol')));
    const symbol = ['GOOGL', 'AMZN', 'TSLA', 'META'].find((s) => !held.includes(s)) ?? 'GOOGL';
    const form = page.getByRole('form', { name: 'Trade' });
    await form.getByLabel('Symbol').fill(symbol);
    await form.getByLabel('Side').selectOption('buy');
    await form.getByLabel('Quantity').fill('3');
    await form.getByRole('button', { name: 'Place order' }).click();
    await expect
      .poll(() => page.locator('#trade-result').textContent(), { timeout: LIVE_CAP_MS })
      .toContain(`Bought 3 ${symbol}`);
    await page.locator(`#positions tbody tr[data-symbol="${symbol}"]`).waitFor({ timeout: LIVE_CAP_MS });
    const firstLedgerRow = page.locator('#ledger tbody tr').first();
    await expect.poll(() => firstLedgerRow.textContent(), { timeout: LIVE_CAP_MS }).toContain(symbol);
    expect(await firstLedgerRow.textContent()).toContain('buy');
  });

  it('pages the ledger with its More button (cursor pagination)', async () => {
    const rows = page.locator('#ledger tbody tr');
    const more = page.getByRole('button', { name: 'More' });
    await more.waitFor({ state: 'visible', timeout: LIVE_CAP_MS }); // the seed and the buy fill more than a page
    const firstPage = await rows.count();
    await more.click();
    await expect.poll(() => rows.count(), { timeout: LIVE_CAP_MS }).toBeGreaterThan(firstPage);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows the problem detail when selling more than is held', async () => {
    const form = page.getByRole('form', { name: 'Trade' });
    const symbol = await page.locator('#positions tbody tr[data-symbol]').first().getAttribute('data-symbol');
    await form.getByLabel('Symbol').fill(symbol ?? 'AAPL');
    await form.getByLabel('Side').selectOption('sell');
    await form.getByLabel('Quantity').fill('1000000');
    await form.getByRole('button', { name: 'Place order' }).click();
    const error = page.locator('#trade-error');
    await expect.poll(() => error.textContent(), { timeout: LIVE_CAP_MS }).toContain('INSUFFICIENT_QUANTITY');
    // The human detail is shown too, not only the code.
    expect((await error.locator('p').first().textContent())?.length ?? 0).toBeGreaterThan(10);
  });

  it('renders the value history chart', async () => {
    await page.locator('#chart .uplot canvas').waitFor({ timeout: LIVE_CAP_MS });
    await expect.poll(() => drawnPixels(page, '#chart'), { timeout: LIVE_CAP_MS }).toBeGreaterThan(500);
    expect(await page.locator('#chart-empty').isHidden()).toBe(true);
  });

  it('adds and removes a watched symbol, which joins and leaves the ticker', async () => {
    const watch = page.getByRole('form', { name: 'Watchlist' });
    await watch.getByLabel('Symbol to watch').fill('intc');
    await watch.getByRole('button', { name: 'Add' }).click();
    await page.locator('#watchlist li[data-symbol="INTC"]').waitFor({ timeout: LIVE_CAP_MS });
    await page.locator('#ticker li[data-symbol="INTC"]').waitFor({ timeout: LIVE_CAP_MS });
    await page.getByRole('button', { name: 'Remove INTC from the watchlist' }).click();
    await page.locator('#watchlist li[data-symbol="INTC"]').waitFor({ state: 'detached', timeout: LIVE_CAP_MS });
    await page.locator('#ticker li[data-symbol="INTC"]').waitFor({ state: 'detached', timeout: LIVE_CAP_MS });
  });

  it('renews a refused access token with the refresh token, else signs the demo in again', async () => {
    const tokens = () => readTokens(page);
    const spoil = (fields: string[]) => spoilTokens(page, fields);
    const rows = page.locator('#positions tbody tr[data-symbol]');

    const before = await tokens();
    await spoil(['accessToken']);
    await page.reload();
    await rows.first().waitFor({ timeout: LIVE_CAP_MS });
    const refreshed = await tokens();
    expect(refreshed.accessToken).not.toBe('spoiled');
    expect(refreshed.refreshToken).not.toBe(before.refreshToken); // rotated by POST /auth/refresh

    await spoil(['accessToken', 'refreshToken']);
    await page.reload();
    await rows.first().waitFor({ timeout: LIVE_CAP_MS });
    const again = await tokens();
    expect(again.refreshToken).not.toBe('spoiled'); // a new demo sign-in
    expect(await page.locator('#who').textContent()).toContain(again.user.email);
    await expect
      .poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: LIVE_CAP_MS })
      .toBe('live');
  });

  it('fits desktop and phone widths (screenshots saved)', async () => {
    await screenshot(page, 'dashboard-desktop-1280');
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => pageScrollWidth(page), { timeout: 5000 }).toBeLessThanOrEqual(390);
    await screenshot(page, 'dashboard-phone-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('reconnects by itself after the server restarts', async () => {
    await server.close();
    server = await createPaperTradingServer(config);
    const restartedAt = new Date().toISOString();
    // A price stamped after the restart reached the page, without a reload.
    await expect
      .poll(async () => Object.values(await tickerState(page)).some((t) => t.at > restartedAt), {
        timeout: LIVE_CAP_MS,
        interval: 250,
      })
      .toBe(true);
    await expect
      .poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: LIVE_CAP_MS })
      .toBe('live');
  });

  it('lets an admin run a backfill with progress to completion', async () => {
    await page.locator('#sign-in summary').click();
    const login = page.getByRole('form', { name: 'Sign in' });
    await login.getByLabel('Email').fill(ADMIN.email);
    await login.getByLabel('Password').fill(ADMIN.password);
    await login.getByRole('button', { name: 'Sign in' }).click();
    const admin = page.locator('#admin');
    await admin.waitFor({ state: 'visible', timeout: LIVE_CAP_MS });
    await page.locator('#scheduler tbody tr').first().waitFor({ timeout: LIVE_CAP_MS });
    await expect.poll(() => page.locator('#providers').textContent(), { timeout: LIVE_CAP_MS }).toContain('Healthy');

    const backfill = page.getByRole('form', { name: 'Backfill' });
    // Prefilled with the demo portfolio the page showed before.
    expect(await backfill.getByLabel(/Portfolio id/).inputValue()).toMatch(/^pf_/);
    const to = new Date(Date.now() - 86_400_000);
    const from = new Date(to.getTime() - 59 * 86_400_000);
    await backfill.getByLabel('From').fill(from.toISOString().slice(0, 10));
    await backfill.getByLabel('To').fill(to.toISOString().slice(0, 10));
    await backfill.getByRole('button', { name: 'Start backfill' }).click();
    await expect
      .poll(() => page.locator('#backfill-status').textContent(), { timeout: LIVE_CAP_MS })
      .toContain('Backfill completed');
    const progress = page.getByRole('progressbar', { name: 'Backfill progress' });
    expect([await progress.getAttribute('value'), await progress.getAttribute('max')]).toEqual(['60', '60']);
    await screenshot(page, 'dashboard-admin-1280');
  });

  it('raised no uncaught exception (console errors only for refused requests)', () => {
    expect(seen.pageErrors).toEqual([]);
    const unexpected = seen.consoleErrors.filter((e) => !/Failed to load resource|net::ERR_/.test(e));
    expect(unexpected).toEqual([]);
  });
});
