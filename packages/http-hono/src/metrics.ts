/**
 * The router's metrics: counters, two gauges and one histogram, kept in memory per router and
 * exposed at `GET /admin/metrics` as JSON or in the Prometheus text exposition format 0.0.4.
 *
 * Engine-side figures come from the engine's own events (`trade.executed`, `cash.*`,
 * `job.completed`, `job.failed`) and, for the market-data provider, from
 * `engine.getProviderStatus()` read at render time. HTTP figures are fed by the router through
 * {@link Metrics.request}, labelled by the route's path pattern (`/portfolios/:id`), never the raw
 * URL, so label cardinality stays bounded; every family is also capped at {@link MAX_SERIES}
 * label sets as a last line of defence.
 */
import type { PortfolioEngine } from '@foliokit/core';

/** The content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upper bounds (seconds) of the request-duration histogram buckets; `+Inf` is implied. */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label sets kept per metric family; further label sets are dropped (and counted). */
export const MAX_SERIES = 2000;

/** Label name → value. */
export type Labels = Readonly<Record<string, string>>;

/** One counter or gauge sample (JSON form). */
export interface ValueSample {
  labels: Labels;
  value: number;
}

/**
 * One histogram series (JSON form): buckets are cumulative, in ascending order of their upper
 * bound `le` (`"+Inf"` last). A list, not an object keyed by `le`: JavaScript orders integer-like
 * keys (`"1"`, `"5"`, `"10"`) before the others, which would scramble the buckets.
 */
export interface HistogramSample {
  labels: Labels;
  buckets: Array<{ le: string; count: number }>;
  sum: number;
  count: number;
}

/** One metric family (JSON form). */
export type MetricFamily =
  | { type: 'counter' | 'gauge'; help: string; samples: ValueSample[] }
  | { type: 'histogram'; help: string; samples: HistogramSample[] };

/** `render('json')`: every family by name. */
export type MetricsSnapshot = Record<string, MetricFamily>;

/** What the router and the admin routes use. */
export interface Metrics {
  /** Records one answered HTTP request: `route` is the spec's path pattern, `seconds` its duration. */
  request(route: string, method: string, status: number, seconds: number): void;
  /**
   * The recorder of one route, for hot paths: `route(path, method)` once, then
   * `record(status, seconds)` per answer, the same as {@link Metrics.request} without building
   * labels on every call.
   */
  route(route: string, method: string): (status: number, seconds: number) => void;
  /** Adds `delta` (+1 on connect, −1 on disconnect) to the number of open SSE clients. */
  sseClients(delta: number): void;
  /**
   * Adds `delta` (+1 on connect, −1 on disconnect) to the number of open WebSocket connections
   * (called by `attachWebSocket`'s hub). Optional, so that a recorder written before it still
   * fits; {@link createMetrics} implements it.
   */
  wsClients?(delta: number): void;
  /** The metrics as JSON-ready families. */
  render(format: 'json'): MetricsSnapshot;
  /** The metrics in the Prometheus text exposition format 0.0.4. */
  render(format: 'prometheus'): string;
  render(format: 'json' | 'prometheus'): MetricsSnapshot | string;
  /** Unsubscribes from the engine's events. Idempotent. */
  close(): void;
}

/** A family of series keyed by their label values. */
class Family<S> {
  readonly #series = new Map<string, { labels: Labels; state: S }>();
  /** Series by the very label object a caller reuses (a route's recorder): no key to build. */
  readonly #byObject = new WeakMap<Labels, { labels: Labels; state: S }>();
  readonly #create: () => S;
  /** Label sets refused because the family was full. */
  dropped = 0;

  constructor(create: () => S) {
    this.#create = create;
  }

  /** The state of a label set (created on first use), or undefined when the family is full. */
  get(labels: Labels): S | undefined {
    const known = this.#byObject.get(labels);
    if (known) return known.state;
    const key = JSON.stringify(Object.entries(labels));
    let entry = this.#series.get(key);
    if (!entry) {
      if (this.#series.size >= MAX_SERIES) {
        this.dropped++;
        return undefined;
      }
      entry = { labels, state: this.#create() };
      this.#series.set(key, entry);
    }
    if (Object.isFrozen(labels)) this.#byObject.set(labels, entry);
    return entry.state;
  }

  entries(): Array<{ labels: Labels; state: S }> {
    return [...this.#series.values()];
  }
}

/** A counter family: values only go up. */
class Counter {
  readonly family = new Family<{ value: number }>(() => ({ value: 0 }));
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const s = this.family.get(labels);
    if (s) s.value += by;
  }

  samples(): ValueSample[] {
    return this.family.entries().map((e) => ({ labels: e.labels, value: e.state.value }));
  }
}

interface HistogramState {
  /** Non-cumulative counts per bucket of {@link DURATION_BUCKETS}, then one for `+Inf`. */
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram family over {@link DURATION_BUCKETS}. */
class Histogram {
  readonly family = new Family<HistogramState>(() => ({
    counts: new Array(DURATION_BUCKETS.length + 1).fill(0),
    sum: 0,
    count: 0,
  }));
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(labels: Labels, value: number): void {
    const s = this.family.get(labels);
    if (!s) return;
    let i = DURATION_BUCKETS.findIndex((le) => value <= le);
    if (i < 0) i = DURATION_BUCKETS.length;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += value;
    s.count++;
  }

  samples(): HistogramSample[] {
    return this.family.entries().map(({ labels, state }) => {
      let running = 0;
      const buckets = DURATION_BUCKETS.map((le, i) => {
        running += state.counts[i] as number;
        return { le: formatNumber(le), count: running };
      });
      buckets.push({ le: '+Inf', count: state.count });
      return { labels, buckets, sum: state.sum, count: state.count };
    });
  }
}

/** A label value escaped for the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escaped for the text format: backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as the text format writes it (`+Inf`, `-Inf`, `NaN`, else the shortest decimal). */
function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

/** `{a="x",b="y"}`, or an empty string without labels. */
function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** One family in the text format: HELP, TYPE, then its samples. */
function familyText(name: string, family: MetricFamily): string[] {
  const lines = [`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`];
  if (family.type === 'histogram') {
    for (const s of family.samples) {
      for (const { le, count } of s.buckets) {
        lines.push(`${name}_bucket${formatLabels({ ...s.labels, le })} ${count}`);
      }
      lines.push(`${name}_sum${formatLabels(s.labels)} ${formatNumber(s.sum)}`);
      lines.push(`${name}_count${formatLabels(s.labels)} ${s.count}`);
    }
  } else {
    for (const s of family.samples) lines.push(`${name}${formatLabels(s.labels)} ${formatNumber(s.value)}`);
  }
  return lines;
}

/** Renders families in the Prometheus text exposition format 0.0.4 (ends with a line feed). */
export function toPrometheusText(snapshot: MetricsSnapshot): string {
  const lines: string[] = [];
  for (const [name, family] of Object.entries(snapshot)) lines.push(...familyText(name, family));
  return `${lines.join('\n')}\n`;
}

/** The engine-fed counters. */
interface EngineCounters {
  trades: Counter;
  cash: Counter;
  jobRuns: Counter;
  jobFailures: Counter;
}

function engineCounters(): EngineCounters {
  return {
    trades: new Counter('foliokit_trades_total', 'Trades executed, by side.'),
    cash: new Counter('foliokit_cash_total', 'Cash movements (deposits and withdrawals), by kind.'),
    jobRuns: new Counter('foliokit_job_runs_total', 'Job runs finished on this instance, by job and status.'),
    jobFailures: new Counter('foliokit_job_failures_total', 'Job runs that failed, by job.'),
  };
}

/** Subscribes the counters to the engine's events; returns the unsubscribe functions. */
function subscribe(engine: PortfolioEngine, c: EngineCounters): Array<() => void> {
  return [
    // Changes made through this instance only (relayed ones are counted where they were made), so
    // the counters sum across instances.
    engine.on('trade.executed', (e) => {
      if (e.origin !== 'remote') c.trades.inc({ side: e.transaction.kind });
    }),
    engine.on('cash.deposited', (e) => {
      if (e.origin !== 'remote') c.cash.inc({ kind: 'deposit' });
    }),
    engine.on('cash.withdrawn', (e) => {
      if (e.origin !== 'remote') c.cash.inc({ kind: 'withdrawal' });
    }),
    engine.on('job.completed', (e) => c.jobRuns.inc({ job: e.job, status: 'completed' })),
    engine.on('job.failed', (e) => {
      c.jobRuns.inc({ job: e.job, status: 'failed' });
      c.jobFailures.inc({ job: e.job });
    }),
  ];
}

/**
 * The value of a counter or gauge sample with exactly `labels` in a JSON snapshot; undefined when
 * the family is absent, is a histogram, or has no such sample.
 *
 * @example
 * ```ts
 * metricValue(metrics.render('json'), 'foliokit_sse_clients'); // 3
 * metricValue(metrics.render('json'), 'foliokit_trades_total', { side: 'buy' });
 * ```
 */
export function metricValue(snapshot: MetricsSnapshot, name: string, labels: Labels = {}): number | undefined {
  const family = snapshot[name];
  if (!family || family.type === 'histogram') return undefined;
  const want = Object.entries(labels).sort();
  const hit = family.samples.find((s) => {
    const have = Object.entries(s.labels).sort();
    return have.length === want.length && have.every(([k, v], i) => want[i]?.[0] === k && want[i]?.[1] === v);
  });
  return hit?.value;
}

/** A counter or gauge family in JSON form. */
function valueFamily(type: 'counter' | 'gauge', help: string, samples: ValueSample[]): MetricFamily {
  return { type, help, samples };
}

/**
 * Creates the metrics of one router, subscribed to `engine`'s events until {@link Metrics.close}.
 *
 * @example
 * ```ts
 * const metrics = createMetrics(engine);
 * metrics.request('/portfolios/:id', 'GET', 200, 0.004);
 * const text = metrics.render('prometheus');
 * metrics.close();
 * ```
 */
export function createMetrics(engine: PortfolioEngine): Metrics {
  const counters = engineCounters();
  const requests = new Counter(
    'foliokit_http_requests_total',
    'HTTP requests answered, by route pattern, method and status.',
  );
  const durations = new Histogram(
    'foliokit_http_request_duration_seconds',
    'HTTP request duration in seconds, by route pattern, method and status.',
  );
  let sse = 0;
  let ws = 0;
  let unsubscribe: Array<() => void> = subscribe(engine, counters);

  function snapshot(): MetricsSnapshot {
    const provider = engine.getProviderStatus();
    const providerLabels = { provider: provider.name };
    const out: MetricsSnapshot = {};
    for (const c of Object.values(counters)) out[c.name] = valueFamily('counter', c.help, c.samples());
    out.foliokit_provider_calls_total = valueFamily('counter', 'Calls made to the market-data provider.', [
      { labels: providerLabels, value: provider.calls },
    ]);
    out.foliokit_provider_errors_total = valueFamily('counter', 'Market-data provider calls that failed.', [
      { labels: providerLabels, value: provider.errors },
    ]);
    out.foliokit_sse_clients = valueFamily('gauge', 'Open server-sent-event streams.', [{ labels: {}, value: sse }]);
    out.foliokit_ws_clients = valueFamily('gauge', 'Open WebSocket connections.', [{ labels: {}, value: ws }]);
    out[requests.name] = valueFamily('counter', requests.help, requests.samples());
    out[durations.name] = { type: 'histogram', help: durations.help, samples: durations.samples() };
    const dropped = [...Object.values(counters), requests].reduce((n, c) => n + c.family.dropped, 0);
    out.foliokit_metrics_dropped_series_total = valueFamily(
      'counter',
      `Samples not recorded because their family already held ${MAX_SERIES} label sets.`,
      [{ labels: {}, value: dropped + durations.family.dropped }],
    );
    return out;
  }

  function render(format: 'json'): MetricsSnapshot;
  function render(format: 'prometheus'): string;
  function render(format: 'json' | 'prometheus'): MetricsSnapshot | string;
  function render(format: 'json' | 'prometheus'): MetricsSnapshot | string {
    const s = snapshot();
    return format === 'prometheus' ? toPrometheusText(s) : s;
  }

  function record(labels: Labels, seconds: number): void {
    requests.inc(labels);
    if (Number.isFinite(seconds) && seconds >= 0) durations.observe(labels, seconds);
  }

  return {
    request(route, method, status, seconds) {
      record({ route, method: method.toUpperCase(), status: String(status) }, seconds);
    },
    route(route, method) {
      const upper = method.toUpperCase();
      // one frozen label set per status, reused (the families find its series without a key)
      const byStatus = new Map<number, Labels>();
      return (status, seconds) => {
        let labels = byStatus.get(status);
        if (!labels) {
          labels = Object.freeze({ route, method: upper, status: String(status) });
          byStatus.set(status, labels);
        }
        record(labels, seconds);
      };
    },
    sseClients(delta) {
      sse = Math.max(0, sse + delta);
    },
    wsClients(delta) {
      ws = Math.max(0, ws + delta);
    },
    render,
    close() {
      for (const off of unsubscribe) off();
      unsubscribe = [];
    },
  };
}
