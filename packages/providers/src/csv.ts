/**
 * Daily bars from CSV files, one per symbol (`AAPL.csv`), as exported by most charting tools and
 * by Yahoo Finance's historical data download.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CallOptions,
  type DailyBar,
  FoliokitError,
  isDay,
  type MarketDataProvider,
  normalizeSymbol,
  type Quote,
  type QuoteBatch,
} from '@foliokit/core';
import { checkRange, uniqueSymbols } from './inputs.js';
import { mapLimit } from './map-limit.js';
import { readPrice, readVolume } from './read-decimal.js';
import { throwIfAborted } from './signals.js';

/** Options of {@link createCsvProvider}. */
export interface CsvProviderOptions {
  /** The directory holding one `SYMBOL.csv` file per symbol (the name is matched case-insensitively). */
  directory: string;
  /** The provider's name, used as the quotes' `source`. @default 'csv' */
  name?: string;
  /**
   * The UTC time of day stamped on a quote (the last row's close): quotes are at `${day}T${quoteTime}Z`.
   * @default '21:00:00.000' (16:00 in New York in winter, the US close)
   */
  quoteTime?: string;
  /** ISO 4217 currency of the prices. @default 'USD' */
  currency?: string;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  bars: DailyBar[];
}

const SAFE_SYMBOL_RE = /^[A-Z0-9][A-Z0-9.\-^=_]{0,31}$/;
const TIME_RE = /^\d{2}:\d{2}:\d{2}(?:\.\d{3})?$/;
const COLUMNS: Record<string, keyof DailyBar> = {
  date: 'day',
  day: 'day',
  open: 'open',
  high: 'high',
  low: 'low',
  close: 'close',
  'adj close': 'adjClose',
  adj_close: 'adjClose',
  adjclose: 'adjClose',
  'adjusted close': 'adjClose',
  volume: 'volume',
};

/**
 * Creates a provider that reads daily bars from CSV files: `AAPL.csv` in `directory` holds AAPL.
 *
 * Format: a header row naming the columns in any order — `Date` and `Close` are required; `Open`,
 * `High`, `Low`, `Volume` and `Adj Close` are optional; other columns are ignored — then one row
 * per day with the date as `YYYY-MM-DD`. CRLF line ends, a UTF-8 byte-order mark, blank lines and
 * double-quoted fields are accepted. An empty or `null` optional value is left out; a row whose
 * prices are all empty or `null` (a placeholder) is skipped. Any other malformed row fails the
 * call with `PROVIDER_INVALID_RESPONSE` naming the file and line.
 *
 * A quote is the last row's close, stamped `${day}T21:00:00.000Z` (see `quoteTime`). Parsed files
 * are cached in memory and re-read when their modification time or size changes. A symbol without
 * a file is unknown.
 *
 * @example
 * ```ts
 * const market = createCsvProvider({ directory: './data/prices' });
 * const bars = await market.getDailyHistory('AAPL', { from: '2024-01-01', to: '2024-12-31' });
 * ```
 */
export function createCsvProvider(options: CsvProviderOptions): MarketDataProvider {
  const {
    directory,
    name = 'csv',
    quoteTime = '21:00:00.000',
    currency = 'USD',
  } = options ?? ({} as CsvProviderOptions);
  if (typeof directory !== 'string' || directory === '') {
    throw new FoliokitError('INVALID_CONFIGURATION', 'directory must be a path', { field: 'directory' });
  }
  if (!TIME_RE.test(quoteTime)) {
    throw new FoliokitError('INVALID_CONFIGURATION', 'quoteTime must be HH:MM:SS or HH:MM:SS.mmm', {
      field: 'quoteTime',
    });
  }
  const cache = new Map<string, CachedFile>();
  const loading = new Map<string, Promise<DailyBar[] | null>>();

  const unavailable = (message: string, cause: unknown): FoliokitError =>
    new FoliokitError('PROVIDER_UNAVAILABLE', `${name}: ${message}`, { provider: name }, { cause });

  /** The directory's files by upper-cased name; one listing shared by the calls in flight. */
  let listing: Promise<Map<string, string>> | undefined;
  const listFiles = (): Promise<Map<string, string>> => {
    if (!listing) {
      listing = readdir(directory)
        .then((entries) => {
          const files = new Map<string, string>();
          for (const entry of entries) {
            const upper = entry.toUpperCase();
            // An exact-case `SYMBOL.csv` wins over other spellings.
            if (!files.has(upper) || entry === `${upper.slice(0, -4)}.csv`) files.set(upper, entry);
          }
          return files;
        })
        .catch((error: unknown) => {
          throw unavailable(`cannot read directory ${directory}`, error);
        })
        .finally(() => {
          listing = undefined;
        });
    }
    return listing;
  };

  /** The file name holding `symbol`, or null when there is none. */
  const findFile = async (symbol: string): Promise<string | null> => {
    if (!SAFE_SYMBOL_RE.test(symbol)) return null;
    return (await listFiles()).get(`${symbol}.CSV`) ?? null;
  };

  const load = async (symbol: string): Promise<DailyBar[] | null> => {
    const file = await findFile(symbol);
    if (file === null) {
      cache.delete(symbol);
      return null;
    }
    const path = join(directory, file);
    try {
      const info = await stat(path);
      const cached = cache.get(symbol);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.bars;
      const text = await readFile(path, 'utf8');
      const bars = parseCsv(text, file, name);
      cache.set(symbol, { mtimeMs: info.mtimeMs, size: info.size, bars });
      return bars;
    } catch (error) {
      if (error instanceof FoliokitError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw unavailable(`cannot read ${file}`, error);
    }
  };

  /** Bars of a symbol (coalescing concurrent loads), or null when it has no file. */
  const barsOf = (symbol: string): Promise<DailyBar[] | null> => {
    let pending = loading.get(symbol);
    if (!pending) {
      pending = load(symbol).finally(() => loading.delete(symbol));
      loading.set(symbol, pending);
    }
    return pending;
  };

  return {
    name,

    async getQuotes(symbols: readonly string[], callOptions?: CallOptions): Promise<QuoteBatch> {
      throwIfAborted(callOptions?.signal);
      const wanted = uniqueSymbols(symbols);
      const loaded = await mapLimit(wanted, 8, async (symbol) => [symbol, await barsOf(symbol)] as const);
      const quotes: Record<string, Quote> = {};
      const unknown: string[] = [];
      for (const [symbol, bars] of loaded) {
        const last = bars?.at(-1);
        if (!last) unknown.push(symbol);
        else
          quotes[symbol] = {
            symbol,
            price: last.close,
            at: `${last.day}T${quoteTime}Z`,
            currency,
            source: name,
          };
      }
      return { quotes, unknown };
    },

    async getDailyHistory(symbol: string, range: { from: string; to: string }, callOptions?: CallOptions) {
      throwIfAborted(callOptions?.signal);
      const nonEmpty = checkRange(range);
      const key = normalizeSymbol(symbol, 'symbol', { check: false });
      const bars = await barsOf(key);
      if (bars === null) {
        throw new FoliokitError('UNKNOWN_SYMBOL', `${name}: no file for ${key}`, { symbol: key, provider: name });
      }
      if (!nonEmpty) return [];
      return bars.filter((bar) => bar.day >= range.from && bar.day <= range.to).map((bar) => ({ ...bar }));
    },
  };
}

/**
 * Parses one CSV file into bars sorted by day.
 * @throws FoliokitError `PROVIDER_INVALID_RESPONSE` naming the file and line.
 */
export function parseCsv(text: string, file: string, provider = 'csv'): DailyBar[] {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\n|\r/);
  const fail = (line: number, message: string, field?: string): FoliokitError =>
    new FoliokitError('PROVIDER_INVALID_RESPONSE', `${provider}: ${file} line ${line}: ${message}`, {
      provider,
      file,
      line,
      ...(field === undefined ? {} : { field }),
    });

  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  if (headerIndex < 0) return [];
  const header = splitRow(lines[headerIndex] as string).map((cell) => cell.trim().toLowerCase());
  const columns: Array<keyof DailyBar | undefined> = header.map((cell) => COLUMNS[cell]);
  for (const needed of ['day', 'close'] as const) {
    if (!columns.includes(needed)) {
      throw fail(headerIndex + 1, `the header has no ${needed === 'day' ? 'Date' : 'Close'} column`);
    }
  }
  const seen = new Set<keyof DailyBar>();
  for (const column of columns) {
    if (column === undefined) continue;
    if (seen.has(column)) throw fail(headerIndex + 1, `the header names ${column} twice`);
    seen.add(column);
  }

  const bars: DailyBar[] = [];
  const days = new Set<string>();
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') continue;
    const lineNo = i + 1;
    const cells = splitRow(raw);
    if (cells.length !== header.length) {
      throw fail(lineNo, `expected ${header.length} fields, found ${cells.length}`);
    }
    const values: Partial<Record<keyof DailyBar, string>> = {};
    columns.forEach((column, c) => {
      if (column !== undefined) values[column] = (cells[c] as string).trim();
    });
    const day = values.day ?? '';
    if (!isDay(day)) throw fail(lineNo, `invalid date ${JSON.stringify(String(day).slice(0, 40))}`, 'day');
    const priceFields = (['open', 'high', 'low', 'close', 'adjClose'] as const).filter((f) => values[f] !== undefined);
    if (priceFields.every((f) => isMissing(values[f]))) continue;
    const bar: DailyBar = { day, close: '' };
    for (const field of priceFields) {
      const value = values[field] as string;
      if (isMissing(value)) {
        if (field === 'close') throw fail(lineNo, 'missing close', 'close');
        continue;
      }
      const price = readPrice(value);
      if (price === null) throw fail(lineNo, `invalid ${field} ${JSON.stringify(value.slice(0, 40))}`, field);
      bar[field] = price;
    }
    if (values.volume !== undefined && !isMissing(values.volume)) {
      const volume = readVolume(values.volume);
      if (volume === null) throw fail(lineNo, `invalid volume ${JSON.stringify(values.volume.slice(0, 40))}`, 'volume');
      bar.volume = volume;
    }
    if (days.has(day)) throw fail(lineNo, `a second row for ${day}`, 'day');
    days.add(day);
    bars.push(bar);
  }
  return bars.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

function isMissing(value: string | undefined): boolean {
  return value === undefined || value === '' || value.toLowerCase() === 'null';
}

/** Splits one CSV row on commas, honouring double-quoted fields (`"a,b"`, `"say ""hi"""`). */
function splitRow(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        cell += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else {
      cell += ch;
    }
  }
  cells.push(cell);
  return cells;
}
