/** `getQuotes` for sources that answer one symbol per request (Yahoo's chart, Alpha Vantage's quote). */
import { type Quote, type QuoteBatch, validateQuoteBatch } from '@foliokit/core';
import { uniqueSymbols } from './inputs.js';
import { mapLimit } from './map-limit.js';
import { throwIfAborted } from './signals.js';

/**
 * `getQuotes` for a source that answers one symbol per request: asks for each symbol (at most
 * `concurrency` at once), sorts the answers into quotes and unknown symbols, and validates the batch.
 * `quoteOf` resolves null for a symbol the source does not know.
 */
export async function quotesOneByOne(
  symbols: readonly string[],
  concurrency: number,
  quoteOf: (symbol: string, signal?: AbortSignal) => Promise<Quote | null>,
  name: string,
  signal?: AbortSignal,
): Promise<QuoteBatch> {
  throwIfAborted(signal);
  const wanted = uniqueSymbols(symbols);
  const results = await mapLimit(wanted, concurrency, (symbol) => quoteOf(symbol, signal));
  const quotes: Record<string, Quote> = {};
  const unknown: string[] = [];
  results.forEach((quote, i) => {
    const symbol = wanted[i] as string;
    if (quote === null) unknown.push(symbol);
    else quotes[symbol] = quote;
  });
  return validateQuoteBatch({ quotes, unknown }, wanted, name);
}
