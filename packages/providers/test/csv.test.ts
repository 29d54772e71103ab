import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FoliokitError, isFoliokitError } from '@foliokit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCsvProvider } from '../src/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foliokit-csv-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<FoliokitError> {
  try {
    await promise;
  } catch (error) {
    if (isFoliokitError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const AAPL = [
  'Date,Open,High,Low,Close,Adj Close,Volume',
  '2024-01-03,184.22,185.88,183.43,184.25,183.50,58414500',
  '2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700',
  '2024-01-04,182.15,183.09,180.88,181.91,181.17,71983600',
  '',
].join('\n');

describe('createCsvProvider', () => {
  it('parses a file, sorts it and filters by range', async () => {
    await writeFile(join(dir, 'AAPL.csv'), AAPL);
    const provider = createCsvProvider({ directory: dir });
    expect(provider.name).toBe('csv');
    expect(
      await provider.getDailyHistory('AAPL', {
        from: '2024-01-01',
        to: '2024-01-03',
      }),
    ).toEqual([
      {
        day: '2024-01-02',
        open: '187.15',
        high: '188.44',
        low: '183.89',
        close: '185.64',
        adjClose: '184.94',
        volume: '82488700',
      },
      {
        day: '2024-01-03',
        open: '184.22',
        high: '185.88',
        low: '183.43',
        close: '184.25',
        adjClose: '183.5',
        volume: '58414500',
      },
    ]);
    expect(
      await provider.getDailyHistory('aapl', {
        from: '2024-01-04',
        to: '2024-12-31',
      }),
    ).toHaveLength(1);
    expect(
      await provider.getDailyHistory('AAPL', {
        from: '2025-01-01',
        to: '2025-12-31',
      }),
    ).toEqual([]);
  });

  it('quotes the last close at 21:00Z of its day, and lists symbols without a file as unknown', async () => {
    await writeFile(join(dir, 'AAPL.csv'), AAPL);
    await writeFile(join(dir, 'EMPTY.csv'), 'Date,Close\n');
    const provider = createCsvProvider({ directory: dir, name: 'files' });
    expect(await provider.getQuotes(['AAPL', 'MSFT', 'EMPTY', '../AAPL'])).toEqual({
      quotes: {
        AAPL: {
          symbol: 'AAPL',
          price: '181.91',
          at: '2024-01-04T21:00:00.000Z',
          currency: 'USD',
          source: 'files',
        },
      },
      unknown: ['MSFT', 'EMPTY', '../AAPL'],
    });
    expect(
      (
        await rejection(
          provider.getDailyHistory('MSFT', {
            from: '2024-01-01',
            to: '2024-12-31',
          }),
        )
      ).code,
    ).toBe('UNKNOWN_SYMBOL');
    expect(
      await provider.getDailyHistory('EMPTY', {
        from: '2024-01-01',
        to: '2024-12-31',
      }),
    ).toEqual([]);
  });

  it('accepts any column order, CRLF, a BOM, blank lines, quotes, placeholders and lower-case file names', async () => {
    const text =
      '\uFEFFVolume,close,Date,Ticker\r\n\r\n"1,000",10.5,2024-03-01,X\r\n2000,"11",2024-03-04,X\r\nnull,null,2024-03-05,X\r\n\r\n';
    await writeFile(join(dir, 'brk.b.csv'), text);
    const provider = createCsvProvider({ directory: dir });
    await expect(
      provider.getDailyHistory('BRK.B', {
        from: '2024-01-01',
        to: '2024-12-31',
      }),
    ).rejects.toMatchObject({
      code: 'PROVIDER_INVALID_RESPONSE',
      details: { file: 'brk.b.csv', line: 3, field: 'volume' },
    });
    await writeFile(join(dir, 'brk.b.csv'), text.replace('"1,000"', '"1000"'));
    expect(
      await provider.getDailyHistory('BRK.B', {
        from: '2024-01-01',
        to: '2024-12-31',
      }),
    ).toEqual([
      { day: '2024-03-01', close: '10.5', volume: '1000' },
      { day: '2024-03-04', close: '11', volume: '2000' },
    ]);
  });

  it('names the file and line of a malformed row', async () => {
    const cases: Array<[string, number, string | undefined]> = [
      ['Date,Close\n2024-01-02,10\n2024-01-03,abc\n', 3, 'close'],
      ['Date,Close\n2024-01-02,10\n\n2024-13-03,10\n', 4, 'day'],
      ['Date,Close\n2024-01-02,-1\n', 2, 'close'],
      ['Date,Close\n2024-01-02,0\n', 2, 'close'],
      ['Date,Close\n2024-01-02,NaN\n', 2, 'close'],
      ['Date,Close\n2024-01-02,1e309\n', 2, 'close'],
      ['Date,Open,Close\n2024-01-02,5,\n', 2, 'close'],
      ['Date,Close\n2024-01-02,10,11\n', 2, undefined],
      ['Date,Close\n2024-01-02,10\n2024-01-02,11\n', 3, 'day'],
      ['Date,Open\n2024-01-02,10\n', 1, undefined],
    ];
    const provider = createCsvProvider({ directory: dir });
    for (const [text, line, field] of cases) {
      await writeFile(join(dir, 'BAD.csv'), text);
      const error = await rejection(
        provider.getDailyHistory('BAD', {
          from: '2024-01-01',
          to: '2024-12-31',
        }),
      );
      expect(error.code).toBe('PROVIDER_INVALID_RESPONSE');
      expect(error.message).toContain(`BAD.csv line ${line}`);
      expect(error.details.field).toBe(field);
      expect((await rejection(provider.getQuotes(['BAD']))).code).toBe('PROVIDER_INVALID_RESPONSE');
    }
  });

  it('caches parsed files and reloads them when they change', async () => {
    const file = join(dir, 'KO.csv');
    await writeFile(file, 'Date,Close\n2024-01-02,60\n');
    const provider = createCsvProvider({ directory: dir });
    expect((await provider.getQuotes(['KO'])).quotes.KO?.price).toBe('60');
    const first = await provider.getDailyHistory('KO', {
      from: '2024-01-01',
      to: '2024-01-31',
    });
    await writeFile(file, 'Date,Close\n2024-01-02,61\n');
    await utimes(file, new Date('2030-01-01T00:00:00Z'), new Date('2030-01-01T00:00:00Z'));
    expect((await provider.getQuotes(['KO'])).quotes.KO?.price).toBe('61');
    expect(first).toEqual([{ day: '2024-01-02', close: '60' }]);
    await rm(file);
    expect(await provider.getQuotes(['KO'])).toEqual({
      quotes: {},
      unknown: ['KO'],
    });
  });

  it('fails as unavailable when the directory is missing', async () => {
    const provider = createCsvProvider({ directory: join(dir, 'missing') });
    expect((await rejection(provider.getQuotes(['AAPL']))).code).toBe('PROVIDER_UNAVAILABLE');
  });
});
