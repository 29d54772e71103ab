/**
 * The dashboard's Backtest panel in a real browser (Debian's Chromium through playwright-core)
 * against the example server on 127.0.0.1 with a temporary data folder. The steps share one page
 * and run in order: the panel's defaults, a run polled to its result (checked against the API's
 * own answer for that run, and its equity curve drawn), then a refused request naming its field.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaperTradingServer, type PaperTradingServer } from '../src/server.js';
import { drawnPixels, hasChromium, launchBrowser, readTokens, screenshot, watchPage } from './support/browser.js';

/** Generous caps for what arrives through the API and the runner (never asserted as durations). */
const CAP_MS = 60_000;
const DAY_MS = 86_400_000;

/** The part of `GET /api/backtests/:id` this test reads. */
interface RunAnswer {
  id: string;
  status: string;
  progress: { done: number; total: number };
  request: { strategy: string; symbols: string[]; from: string; to: string; initialCash: string };
  result: { finalValue: string; fills: unknown[]; equity: Array<{ day: string; value: string }> } | null;
}

// Never skipped: .ci/run installs Debian's Chromium; without it this fails loudly.
describe('dashboard backtest panel in Chromium', { timeout: 120_000 }, () => {
  it('has Chromium to drive', () => {
    expect(hasChromium(), 'install it: apt-get install -y chromium').toBe(true);
  });

  let dataDir: string;
  let server: PaperTradingServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let seen: ReturnType<typeof watchPage>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'foliokit-dashboard-backtest-'));
    server = await createPaperTradingServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      jwtSecret: 'dashboard-backtest-test-secret-0123456789',
      pricePollMs: 1000,
      logLevel: 'silent',
    });
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

  /** The run as the API answers it to the user the page is signed in as. */
  async function fetchRun(id: string): Promise<RunAnswer> {
    const { accessToken } = await readTokens(page);
    const res = await fetch(`${server.url}/api/backtests/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as RunAnswer;
  }

  const form = () => page.getByRole('form', { name: 'Backtest' });

  it('signs the demo user in and fills the panel with defaults: sma-cross, the holdings, the last year', async () => {
    const loadedAt = Date.now();
    await page.goto(server.url);
    await page.locator('#positions tbody tr[data-symbol]').first().waitFor({ timeout: CAP_MS });
    expect(await page.locator('#who').textContent()).toMatch(/Signed in as/);
    const held = await page
      .locator('#positions tbody tr[data-symbol]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol') ?? ''));
    expect(held).toEqual(expect.arrayContaining(['AAPL', 'MSFT', 'NVDA', 'KO', 'JPM', 'TSLA']));

    const symbols = form().getByLabel('Symbols');
    await expect.poll(() => symbols.inputValue(), { timeout: CAP_MS }).not.toBe('');
    expect((await symbols.inputValue()).split(/,\s*/)).toEqual([...held].sort());
    // Every strategy of GET /api/strategies is offered; sma-cross is chosen.
    const strategy = form().getByLabel('Strategy');
    await expect.poll(() => strategy.locator('option').count(), { timeout: CAP_MS }).toBeGreaterThan(1);
    expect(await strategy.inputValue()).toBe('sma-cross');
    expect(await page.locator('#backtest-strategy-about').textContent()).toMatch(/SMA/);
    // Yesterday (UTC) when the page loaded, or now should midnight have passed meanwhile.
    const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const to = await form().getByLabel('To').inputValue();
    expect([dayOf(loadedAt - DAY_MS), dayOf(Date.now() - DAY_MS)]).toContain(to);
    expect(await form().getByLabel('From').inputValue()).toBe(dayOf(Date.parse(`${to}T00:00:00Z`) - 365 * DAY_MS));
    expect(await form().getByLabel('Initial cash').inputValue()).toBe('10000');
  });

  it('runs a backtest: progress to the end, then the result the API holds for that run and its equity curve', async () => {
    await form().getByRole('button', { name: 'Run backtest' }).click();
    const result = page.locator('#backtest-result[data-run-id]');
    await result.waitFor({ state: 'visible', timeout: CAP_MS });
    const id = (await result.getAttribute('data-run-id')) ?? '';
    expect(id).toMatch(/^bt_/);

    const run = await fetchRun(id);
    expect(run.status).toBe('succeeded');
    expect(run.request.strategy).toBe('sma-cross');
    expect(run.request.initialCash).toBe('10000');
    expect([...run.request.symbols].sort()).toEqual(
      (await form().getByLabel('Symbols').inputValue()).split(/,\s*/).sort(),
    );
    const finalValue = run.result?.finalValue ?? '';
    expect(finalValue).toMatch(/^\d+(\.\d+)?$/);

    // The exact decimal is kept on the element; the text is it rounded to cents, with separators.
    const shown = result.locator('[data-metric="finalValue"]');
    expect(await shown.getAttribute('data-value')).toBe(finalValue);
    const text = (await shown.textContent()) ?? '';
    expect(text).toMatch(/^\d{1,3}(,\d{3})*\.\d{2}$/);
    expect(Math.abs(Number(text.replaceAll(',', '')) - Number(finalValue))).toBeLessThanOrEqual(0.005 + 1e-9);
    expect(await result.locator('[data-metric="fills"]').textContent()).toBe(String(run.result?.fills.length));
    for (const metric of ['twr', 'maxDrawdown']) {
      expect(await result.locator(`[data-metric="${metric}"]`).textContent()).toMatch(/^-?\d+\.\d{2} %$/);
    }
    expect(await result.locator('[data-metric="sharpe"]').textContent()).toMatch(/^-?\d+\.\d{2}$/);

    // The progress bar ends full, at the run's own count of bars.
    const progress = page.getByRole('progressbar', { name: 'Backtest progress' });
    expect(run.progress.total).toBeGreaterThan(0);
    expect([await progress.getAttribute('value'), await progress.getAttribute('max')]).toEqual([
      String(run.progress.total),
      String(run.progress.total),
    ]);
    expect(await page.locator('#backtest-status').textContent()).toContain('Completed');

    await page.locator('#backtest-chart .uplot canvas').waitFor({ timeout: CAP_MS });
    await expect.poll(() => drawnPixels(page, '#backtest-chart'), { timeout: CAP_MS }).toBeGreaterThan(500);
    expect(await page.locator('#backtest-error').textContent()).toBe('');
    await screenshot(page, 'dashboard-backtest-1280');
  });

  it('shows the 422 problem naming the field when from is after to, and marks that input', async () => {
    const to = await form().getByLabel('To').inputValue();
    const after = new Date(Date.parse(`${to}T00:00:00Z`) - 10 * DAY_MS).toISOString().slice(0, 10);
    await form().getByLabel('From').fill(to);
    await form().getByLabel('To').fill(after);
    await form().getByRole('button', { name: 'Run backtest' }).click();
    const error = page.locator('#backtest-error');
    await expect.poll(() => error.textContent(), { timeout: CAP_MS }).toContain('VALIDATION_FAILED');
    expect(await error.locator('p').first().textContent()).toMatch(/^to: /);
    expect(await form().getByLabel('To').getAttribute('aria-invalid')).toBe('true');
    expect(await form().getByLabel('From').getAttribute('aria-invalid')).toBeNull();
    // The previous run's result is no longer shown as if it answered this request.
    expect(await page.locator('#backtest-result').isHidden()).toBe(true);
  });

  it('raised no uncaught exception (console errors only for the refused request)', () => {
    expect(seen.pageErrors).toEqual([]);
    const unexpected = seen.consoleErrors.filter((e) => !/Failed to load resource/.test(e));
    expect(unexpected).toEqual([]);
  });
});
