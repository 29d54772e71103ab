/**
 * The metrics registry on a real engine: counters follow the engine's events, the provider's
 * figures come from its status, the HTTP histogram is cumulative, and the Prometheus text output
 * parses (with a small parser written here) including escaped label values.
 */
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createMetrics,
  DURATION_BUCKETS,
  escapeLabelValue,
  MAX_SERIES,
  type Metrics,
  type MetricsSnapshot,
  metricValue,
} from '../src/metrics.js';

// ----- a tiny parser of the text exposition format 0.0.4 -------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface ParsedFamily {
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Parses `{a="x",b="y\"z"}` starting at `text[start] === '{'`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  while (text[i] !== '}') {
    const eq = text.indexOf('=', i);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${JSON.stringify(name)}`);
    if (text[eq + 1] !== '"') throw new Error('label value must be quoted');
    let value = '';
    let j = eq + 2;
    for (;;) {
      const ch = text[j];
      if (ch === undefined) throw new Error('unterminated label value');
      if (ch === '"') break;
      if (ch === '\n') throw new Error('raw line feed in a label value');
      if (ch === '\\') {
        const next = text[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape \\${next}`);
        j += 2;
      } else {
        value += ch;
        j++;
      }
    }
    if (name in labels) throw new Error(`label ${name} repeated`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`expected , or } at ${i}`);
  }
  return { labels, end: i + 1 };
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value ${text}`);
  return Number(text);
}

/** The family a sample belongs to (`x_bucket`, `x_sum`, `x_count` of a histogram `x`). */
function familyOf(name: string, families: Map<string, ParsedFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && families.get(base)?.type === 'histogram') return base;
  }
  return name;
}

/**
 * Parses the whole exposition: every line is `# HELP`, `# TYPE` or `name{labels} value`; HELP and
 * TYPE come before a family's samples, once each; the text ends with a line feed.
 */
function parsePrometheus(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const families = new Map<string, ParsedFamily>();
  const helps = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) {
      const [name = '', ...rest] = line.slice(7).split(' ');
      if (!NAME.test(name) || helps.has(name)) throw new Error(`bad or repeated HELP: ${line}`);
      helps.set(name, rest.join(' '));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name = '', type = ''] = line.slice(7).split(' ');
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type)) throw new Error(`bad TYPE ${line}`);
      if (families.has(name)) throw new Error(`repeated TYPE ${name}`);
      families.set(name, { help: helps.get(name) ?? '', type, samples: [] });
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') throw new Error(`unexpected line ${JSON.stringify(line)}`);
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace >= 0 && brace < space) {
      name = line.slice(0, brace);
      const parsed = parseLabels(line, brace);
      labels = parsed.labels;
      if (line[parsed.end] !== ' ') throw new Error(`expected a space after the labels: ${line}`);
      rest = line.slice(parsed.end + 1);
    } else {
      name = line.slice(0, space);
      rest = line.slice(space + 1);
    }
    if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
    const family = families.get(familyOf(name, families));
    if (!family) throw new Error(`sample ${name} before its TYPE line`);
    family.samples.push({ name, labels, value: parseValue(rest) });
  }
  return families;
}

/** Checks every histogram: buckets cumulative, ending in `+Inf` equal to `_count`, with a `_sum`. */
function checkHistograms(families: Map<string, ParsedFamily>): void {
  for (const [name, family] of families) {
    if (family.type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of family.samples) {
      const { le: _le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, samples] of series) {
      const buckets = samples.filter((s) => s.name === `${name}_bucket`);
      const les = buckets.map((b) => parseValue(b.labels.le as string));
      expect(les, key).toEqual([...les].sort((a, b) => a - b));
      expect(buckets.at(-1)?.labels.le, key).toBe('+Inf');
      for (let i = 1; i < buckets.length; i++) {
        expect((buckets[i] as Sample).value, key).toBeGreaterThanOrEqual((buckets[i - 1] as Sample).value);
      }
      const count = samples.find((s) => s.name === `${name}_count`);
      const sum = samples.find((s) => s.name === `${name}_sum`);
      expect(count?.value, key).toBe(buckets.at(-1)?.value);
      expect(sum, key).toBeDefined();
    }
  }
}

/** The value of a counter or gauge sample (0 when absent). */
function sampleOf(snapshot: MetricsSnapshot, name: string, labels: Record<string, string>): number {
  return metricValue(snapshot, name, labels) ?? 0;
}

// ----- tests ---------------------------------------------------------------------------------

let t: TestEngine;
let metrics: Metrics;

beforeEach(() => {
  t = createTestEngine({ prices: { AAPL: '100', MSFT: '200' } });
  metrics = createMetrics(t.engine);
});

afterEach(async () => {
  metrics.close();
  await t.close();
});

describe('createMetrics', () => {
  it('counts trades by side and cash movements by kind from the engine events', async () => {
    const { engine } = t;
    const p = await engine.createPortfolio({ name: 'M', initialCash: '10000' });
    await engine.deposit(p.id, { amount: '500' });
    await engine.withdraw(p.id, { amount: '100' });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '5' });
    await engine.trade(p.id, { symbol: 'MSFT', side: 'buy', quantity: '1' });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'sell', quantity: '2' });

    const json = metrics.render('json');
    expect(sampleOf(json, 'foliokit_trades_total', { side: 'buy' })).toBe(2);
    expect(sampleOf(json, 'foliokit_trades_total', { side: 'sell' })).toBe(1);
    // The opening deposit of `initialCash` counts as a deposit.
    expect(sampleOf(json, 'foliokit_cash_total', { kind: 'deposit' })).toBe(2);
    expect(sampleOf(json, 'foliokit_cash_total', { kind: 'withdrawal' })).toBe(1);

    const families = parsePrometheus(metrics.render('prometheus'));
    const trades = families.get('foliokit_trades_total');
    expect(trades?.type).toBe('counter');
    expect(trades?.samples).toContainEqual({ name: 'foliokit_trades_total', labels: { side: 'buy' }, value: 2 });
  });

  it('counts job runs by status and job failures from job.completed and job.failed', async () => {
    const { engine } = t;
    await engine.createPortfolio({ name: 'J', initialCash: '100' });
    await engine.runDailySnapshots();
    await engine.runDailySnapshots();
    engine.addJob({
      name: 'always-fails',
      schedule: { everyMs: 60_000 },
      exclusive: false,
      run: async () => {
        throw new Error('boom');
      },
    });
    const outcome = await engine.runJob('always-fails');
    expect(outcome.status).toBe('failed');

    const json = metrics.render('json');
    expect(sampleOf(json, 'foliokit_job_runs_total', { job: 'daily-snapshots', status: 'completed' })).toBe(2);
    expect(sampleOf(json, 'foliokit_job_runs_total', { job: 'always-fails', status: 'failed' })).toBe(1);
    expect(sampleOf(json, 'foliokit_job_failures_total', { job: 'always-fails' })).toBe(1);
    expect(sampleOf(json, 'foliokit_job_failures_total', { job: 'daily-snapshots' })).toBe(0);
  });

  it("reports the provider's calls and errors from its status", async () => {
    const { engine, provider } = t;
    await engine.refreshPrices(['AAPL']);
    provider.failing = true;
    await engine.refreshPrices(['MSFT']).catch(() => undefined);
    const status = engine.getProviderStatus();
    expect(status.calls).toBeGreaterThan(0);
    expect(status.errors).toBeGreaterThan(0);

    const json = metrics.render('json');
    expect(sampleOf(json, 'foliokit_provider_calls_total', { provider: 'test' })).toBe(status.calls);
    expect(sampleOf(json, 'foliokit_provider_errors_total', { provider: 'test' })).toBe(status.errors);
  });

  it('keeps a cumulative request histogram and a request counter labelled by route pattern', () => {
    metrics.request('/portfolios/:id', 'get', 200, 0.003);
    metrics.request('/portfolios/:id', 'get', 200, 0.02);
    metrics.request('/portfolios/:id', 'get', 200, 42);
    metrics.request('/portfolios/:id', 'get', 404, 0.001);
    metrics.request('/portfolios', 'post', 201, 0.2);

    const families = parsePrometheus(metrics.render('prometheus'));
    checkHistograms(families);
    const hist = families.get('foliokit_http_request_duration_seconds');
    expect(hist?.type).toBe('histogram');
    const ok = { route: '/portfolios/:id', method: 'GET', status: '200' };
    const bucket = (le: string) =>
      hist?.samples.find(
        (s) => s.name.endsWith('_bucket') && JSON.stringify(s.labels) === JSON.stringify({ ...ok, le }),
      )?.value;
    expect(bucket('0.005')).toBe(1);
    expect(bucket('0.025')).toBe(2);
    expect(bucket('10')).toBe(2);
    expect(bucket('+Inf')).toBe(3);
    expect(hist?.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.status === '200')).toHaveLength(
      DURATION_BUCKETS.length + 1,
    );
    const sum = hist?.samples.find((s) => s.name.endsWith('_sum') && JSON.stringify(s.labels) === JSON.stringify(ok));
    expect(sum?.value).toBeCloseTo(42.023, 9);

    const requests = families.get('foliokit_http_requests_total');
    expect(requests?.samples).toContainEqual({ name: 'foliokit_http_requests_total', labels: ok, value: 3 });
    expect(requests?.samples).toContainEqual({
      name: 'foliokit_http_requests_total',
      labels: { route: '/portfolios/:id', method: 'GET', status: '404' },
      value: 1,
    });
  });

  it('counts a request with an unusable duration but keeps it out of the histogram', () => {
    metrics.request('/health', 'GET', 200, Number.NaN);
    metrics.request('/health', 'GET', 200, -1);
    const json = metrics.render('json');
    expect(sampleOf(json, 'foliokit_http_requests_total', { route: '/health', method: 'GET', status: '200' })).toBe(2);
    const hist = json.foliokit_http_request_duration_seconds;
    expect(hist?.samples).toEqual([]);
    checkHistograms(parsePrometheus(metrics.render('prometheus')));
  });

  it('tracks open SSE clients as a gauge that never goes below zero', () => {
    metrics.sseClients(1);
    metrics.sseClients(1);
    metrics.sseClients(-1);
    let families = parsePrometheus(metrics.render('prometheus'));
    expect(families.get('foliokit_sse_clients')).toMatchObject({ type: 'gauge', samples: [{ value: 1 }] });
    metrics.sseClients(-5);
    families = parsePrometheus(metrics.render('prometheus'));
    expect(families.get('foliokit_sse_clients')?.samples[0]?.value).toBe(0);
  });

  it('tracks open WebSocket clients as a gauge of its own that never goes below zero', () => {
    metrics.wsClients?.(1);
    metrics.wsClients?.(1);
    metrics.wsClients?.(1);
    metrics.wsClients?.(-1);
    let families = parsePrometheus(metrics.render('prometheus'));
    expect(families.get('foliokit_ws_clients')).toMatchObject({ type: 'gauge', samples: [{ value: 2 }] });
    expect(families.get('foliokit_sse_clients')?.samples[0]?.value).toBe(0);
    expect(sampleOf(metrics.render('json'), 'foliokit_ws_clients', {})).toBe(2);
    metrics.wsClients?.(-5);
    families = parsePrometheus(metrics.render('prometheus'));
    expect(families.get('foliokit_ws_clients')?.samples[0]?.value).toBe(0);
  });

  it('escapes label values (backslash, double quote, line feed) so that they parse back intact', () => {
    const route = 'C:\\odd "route"\nnext';
    expect(escapeLabelValue(route)).toBe('C:\\\\odd \\"route\\"\\nnext');
    metrics.request(route, 'get', 200, 0.01);
    const text = metrics.render('prometheus');
    // Every sample stays on one line: the line feed in the value is escaped.
    expect(text).toContain('route="C:\\\\odd \\"route\\"\\nnext"');
    const families = parsePrometheus(text);
    checkHistograms(families);
    expect(families.get('foliokit_http_requests_total')?.samples).toContainEqual({
      name: 'foliokit_http_requests_total',
      labels: { route, method: 'GET', status: '200' },
      value: 1,
    });
  });

  it('writes HELP and TYPE for every family, once, and parses with nothing recorded yet', () => {
    const families = parsePrometheus(metrics.render('prometheus'));
    for (const name of [
      'foliokit_trades_total',
      'foliokit_cash_total',
      'foliokit_job_runs_total',
      'foliokit_job_failures_total',
      'foliokit_provider_calls_total',
      'foliokit_provider_errors_total',
      'foliokit_sse_clients',
      'foliokit_ws_clients',
      'foliokit_http_requests_total',
      'foliokit_http_request_duration_seconds',
    ]) {
      expect(families.get(name)?.help, name).not.toBe('');
    }
    expect(Object.keys(metrics.render('json'))).toEqual([...families.keys()]);
  });

  it('caps the label sets of a family and counts what it drops', () => {
    for (let i = 0; i < MAX_SERIES + 3; i++) metrics.request(`/r${i}`, 'GET', 200, 0.001);
    const json = metrics.render('json');
    expect(json.foliokit_http_requests_total?.samples).toHaveLength(MAX_SERIES);
    // 3 request counts and 3 histogram observations refused.
    expect(sampleOf(json, 'foliokit_metrics_dropped_series_total', {})).toBe(6);
  });

  it('stops counting engine events after close()', async () => {
    const { engine } = t;
    const p = await engine.createPortfolio({ name: 'C', initialCash: '1000' });
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '1' });
    metrics.close();
    metrics.close();
    await engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: '1' });
    expect(sampleOf(metrics.render('json'), 'foliokit_trades_total', { side: 'buy' })).toBe(1);
  });
});

describe('metrics across instances', () => {
  it('leaves out trade and cash events relayed from another instance (they are counted where made)', async () => {
    const t = createTestEngine({ prices: { AAPL: '10' } });
    const metrics = createMetrics(t.engine);
    try {
      const p = await t.engine.createPortfolio({ name: 'M', initialCash: 100 });
      await t.engine.trade(p.id, { symbol: 'AAPL', side: 'buy', quantity: 1 });
      const tx = (await t.engine.listTransactions(p.id)).items[0];
      t.engine.emit({ type: 'trade.executed', portfolioId: p.id, transaction: tx as never, origin: 'remote' });
      t.engine.emit({ type: 'cash.deposited', portfolioId: p.id, transaction: tx as never, origin: 'remote' });
      expect(metricValue(metrics.render('json'), 'foliokit_trades_total', { side: 'buy' })).toBe(1);
      expect(metricValue(metrics.render('json'), 'foliokit_cash_total', { kind: 'deposit' })).toBe(1);
    } finally {
      metrics.close();
      await t.close();
    }
  });
});
