/**
 * Support for the dashboard's real-browser test: Debian's Chromium driven by playwright-core, the
 * example server on 127.0.0.1 (restartable on the same port and data folder), and helpers that
 * read what the page shows.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Where Debian installs Chromium (`apt install chromium`); `npx playwright install` is not used. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of the dashboard land here (gitignored). */
export const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

/**
 * The few browser shapes the functions run in the page use (`page.evaluate` bodies run in Chromium;
 * the workspace compiles without the DOM library, so they read `globalThis` through this type).
 */
interface PageGlobals {
  document: {
    documentElement: { scrollWidth: number };
    querySelectorAll(selector: string): Iterable<PageElement>;
  };
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

interface PageElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
  textContent: string | null;
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
}

/** The key the dashboard keeps its tokens under in sessionStorage. */
export const TOKENS_KEY = 'foliokit.tokens';

/** True when the browser test can run here. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Launches headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Collects the page's console errors and uncaught exceptions. */
export function watchPage(page: Page): { consoleErrors: string[]; pageErrors: string[] } {
  const seen = { consoleErrors: [] as string[], pageErrors: [] as string[] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.consoleErrors.push(`${msg.text()} @ ${msg.location().url}`);
  });
  page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
  return seen;
}

/** Counts the pixels of the canvases under `selector` that are not fully transparent. */
export function drawnPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const { document } = globalThis as unknown as PageGlobals;
    let count = 0;
    for (const canvas of document.querySelectorAll(`${sel} canvas`)) {
      const ctx = canvas.getContext('2d');
      if (!ctx || canvas.width === 0 || canvas.height === 0) continue;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) count++;
    }
    return count;
  }, selector);
}

/** The ticker as `{ symbol: { price, at } }`. */
export function tickerState(page: Page): Promise<Record<string, { price: string; at: string }>> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    const out: Record<string, { price: string; at: string }> = {};
    for (const li of document.querySelectorAll('#ticker li')) {
      out[li.dataset.symbol ?? ''] = { price: li.querySelector('output')?.textContent ?? '', at: li.dataset.at ?? '' };
    }
    return out;
  });
}

/** The page's width in CSS pixels including what overflows (equal to the viewport when nothing does). */
export function pageScrollWidth(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth);
}

/** The tokens the dashboard keeps in sessionStorage (`{ accessToken, refreshToken, user }`). */
export function readTokens(
  page: Page,
): Promise<{ accessToken: string; refreshToken: string; user: { email: string } }> {
  return page.evaluate((key) => {
    const { sessionStorage } = globalThis as unknown as PageGlobals;
    return JSON.parse(sessionStorage.getItem(key) ?? '{}');
  }, TOKENS_KEY);
}

/** Replaces the named token fields in sessionStorage with a value no server accepts. */
export function spoilTokens(page: Page, fields: string[]): Promise<void> {
  return page.evaluate(
    ({ key, names }) => {
      const { sessionStorage } = globalThis as unknown as PageGlobals;
      const tokens = JSON.parse(sessionStorage.getItem(key) ?? '{}');
      for (const name of names) tokens[name] = 'spoiled';
      sessionStorage.setItem(key, JSON.stringify(tokens));
    },
    { key: TOKENS_KEY, names: fields },
  );
}

/** Saves a full-page screenshot as `<name>.png` in {@link ARTIFACTS_DIR}. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
