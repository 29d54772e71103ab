// The paper-trading dashboard: plain ES module, no build step. It talks to the foliokit router
// mounted at /api and to the example's accounts at /auth (see docs/http.md).

const TOKENS_KEY = 'foliokit.tokens';
const LAST_PORTFOLIO_KEY = 'foliokit.lastPortfolio';
const LEDGER_PAGE = 8;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 8000;
/** Suggestions for the symbol inputs (the simulated provider's symbols); any symbol can be typed. */
const SUGGESTED_SYMBOLS = 'AAPL MSFT GOOGL AMZN NVDA META TSLA JPM V JNJ WMT XOM KO PEP DIS NFLX INTC AMD IBM'.split(
  ' ',
);

const $ = (selector) => document.querySelector(selector);

/** Everything the page knows; rebuilt on sign-in. */
const state = {
  portfolio: null,
  positions: new Map(),
  watchlist: [],
  prices: new Map(),
  ledgerCursor: null,
  streams: [],
  priceSymbols: '',
};

// ----- decimals (strings, never floats) ---------------------------------------------------------

/** Rounds a decimal string to `places` decimals (half away from zero), with thousands separators. */
function formatDecimal(value, places = 2) {
  if (value === null || value === undefined || value === '') return '–';
  const text = String(value);
  const negative = text.startsWith('-');
  const [intPart, fracPart = ''] = text.replace(/^[-+]/, '').split('.');
  const padded = (fracPart + '0'.repeat(places + 1)).slice(0, places + 1);
  let digits = (intPart || '0') + padded.slice(0, places);
  if (Number(padded[places]) >= 5) digits = addOne(digits);
  const whole = digits.slice(0, digits.length - places) || '0';
  const frac = places > 0 ? `.${digits.slice(digits.length - places)}` : '';
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const zero = /^[0.,]*$/.test(grouped + frac);
  return `${negative && !zero ? '-' : ''}${grouped}${frac}`;
}

function addOne(digits) {
  const chars = digits.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    if (chars[i] === '9') chars[i] = '0';
    else {
      chars[i] = String(Number(chars[i]) + 1);
      return chars.join('');
    }
  }
  return `1${chars.join('')}`;
}

/** -1, 0 or 1 from a decimal string's sign. */
function sign(value) {
  if (!value || /^[-+]?0*\.?0*$/.test(String(value))) return 0;
  return String(value).startsWith('-') ? -1 : 1;
}

function signClass(value) {
  const s = sign(value);
  return s > 0 ? 'up' : s < 0 ? 'down' : '';
}

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

// ----- auth ------------------------------------------------------------------------------------

function loadTokens() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKENS_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function saveTokens(tokens) {
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
}

async function postJson(path, body) {
  return fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function demoLogin() {
  const res = await postJson('/auth/demo');
  if (!res.ok) throw await problemError(res, 'The demo account is not available');
  const tokens = await res.json();
  saveTokens(tokens);
  return tokens;
}

/** One refresh at a time: concurrent 401s share it. */
let refreshing = null;

async function renewTokens(stale) {
  if (!refreshing) {
    refreshing = (async () => {
      const current = loadTokens();
      // Another request already renewed them.
      if (current && stale && current.accessToken !== stale.accessToken) return current;
      if (current?.refreshToken) {
        const res = await postJson('/auth/refresh', { refreshToken: current.refreshToken });
        if (res.ok) {
          const fresh = await res.json();
          saveTokens({ ...fresh, user: fresh.user ?? current.user });
          return loadTokens();
        }
      }
      return demoLogin();
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** fetch with the access token; on 401 renews the tokens (refresh, else demo sign-in) and retries once. */
async function authedFetch(path, init = {}) {
  let tokens = loadTokens() ?? (await demoLogin());
  const send = (t) =>
    fetch(path, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${t.accessToken}` } });
  let res = await send(tokens);
  if (res.status === 401) {
    tokens = await renewTokens(tokens);
    res = await send(tokens);
  }
  return res;
}

/** An Error carrying a problem+json body's detail, code and fields. */
async function problemError(res, fallback) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  const error = new Error(body?.detail || body?.title || `${fallback} (HTTP ${res.status})`);
  error.status = res.status;
  error.code = body?.code;
  error.fields = Array.isArray(body?.fields) ? body.fields : [];
  error.retryAfter = res.headers.get('retry-after');
  return error;
}

/** JSON API call: the parsed body, or a thrown problem error. */
async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await authedFetch(path, init);
  if (!res.ok) throw await problemError(res, `${method} ${path} failed`);
  if (res.status === 204) return null;
  return res.json();
}

// ----- rendering helpers -----------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child ?? '');
  return node;
}

function showError(target, error) {
  target.replaceChildren();
  if (!error) return;
  target.append(el('p', {}, error.message ?? String(error)));
  if (error.code) target.append(el('p', { class: 'code' }, error.code));
  // Fields whose message the detail already says are not repeated.
  const fields = (error.fields ?? []).filter((f) => f.message && !error.message.includes(f.message));
  if (fields.length) {
    target.append(el('ul', {}, ...fields.map((f) => el('li', {}, `${f.path ?? f.field ?? ''}: ${f.message}`))));
  }
}

function showPageError(error) {
  const banner = $('#page-error');
  banner.hidden = !error;
  banner.textContent = error ? (error.message ?? String(error)) : '';
}

function setConnection(kind) {
  const node = $('#connection');
  node.dataset.state = kind;
  node.textContent = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…' }[kind] ?? kind;
}

function day(iso) {
  return iso ? iso.slice(0, 10) : '–';
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

// ----- positions and totals --------------------------------------------------------------------

function renderValuation(valuation) {
  state.positions = new Map(valuation.positions.map((p) => [p.symbol, p]));
  for (const p of valuation.positions) {
    if (p.price) state.prices.set(p.symbol, { price: p.price, at: p.priceAt });
  }
  const totals = { ...valuation.totals, cash: valuation.cash };
  for (const node of document.querySelectorAll('[data-total]')) {
    const value = totals[node.dataset.total];
    node.textContent = formatDecimal(value);
    node.className = node.dataset.total.endsWith('Pnl') ? signClass(value) : '';
  }
  const rows = valuation.positions.map((p) =>
    el(
      'tr',
      { dataset: { symbol: p.symbol } },
      el('th', { scope: 'row' }, p.symbol),
      el('td', { class: 'num' }, formatDecimal(p.quantity, 4).replace(/\.?0+$/, '')),
      el('td', { class: 'num narrow-hide' }, formatDecimal(p.averageCost)),
      el('td', { class: 'num', dataset: { field: 'price' } }, p.price ? formatDecimal(p.price, 4) : 'no price'),
      el('td', { class: 'num narrow-hide' }, formatDecimal(p.marketValue)),
      el(
        'td',
        { class: `num ${signClass(p.unrealizedPnl)}` },
        formatDecimal(p.unrealizedPnl),
        p.unrealizedPnlPercent ? el('span', { class: 'pct' }, ` (${formatDecimal(p.unrealizedPnlPercent)} %)`) : '',
      ),
    ),
  );
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: '6', class: 'muted' }, 'No open positions.')));
  $('#positions tbody').replaceChildren(...rows);
  syncPriceStream();
}

async function loadValuation() {
  renderValuation(await api(`/api/portfolios/${state.portfolio.id}/valuation`));
}

// ----- ticker ------------------------------------------------------------------------------------

function tickerSymbols() {
  const symbols = new Set([...state.positions.keys(), ...state.watchlist.map((w) => w.symbol)]);
  return [...symbols].sort();
}

function renderTicker() {
  const items = tickerSymbols().map((symbol) => {
    const known = state.prices.get(symbol);
    return el(
      'li',
      { dataset: { symbol, at: known?.at ?? '' } },
      el('span', { class: 'sym' }, symbol),
      el(
        'output',
        { class: `price ${known?.direction ?? ''}`, 'aria-label': `${symbol} price` },
        known ? formatDecimal(known.price, 4) : '…',
      ),
    );
  });
  $('#ticker').replaceChildren(...items);
}

function onPrice(envelope) {
  const { symbol, price, previousPrice, at } = envelope.data;
  const direction = previousPrice ? signClass(subtractSign(price, previousPrice)) : '';
  state.prices.set(symbol, { price, at: at ?? envelope.at, direction });
  const item = document.querySelector(`#ticker li[data-symbol="${CSS.escape(symbol)}"]`);
  if (!item) return;
  item.dataset.at = at ?? envelope.at;
  const output = item.querySelector('output');
  output.textContent = formatDecimal(price, 4);
  output.className = `price ${direction}`;
}

/** The sign of a - b as '1', '-1' or '0', compared as decimal strings. */
function subtractSign(a, b) {
  const [ai, af = ''] = String(a).split('.');
  const [bi, bf = ''] = String(b).split('.');
  const len = Math.max(af.length, bf.length);
  const x = BigInt(ai + af.padEnd(len, '0'));
  const y = BigInt(bi + bf.padEnd(len, '0'));
  return x > y ? '1' : x < y ? '-1' : '0';
}

async function loadPrices() {
  const symbols = tickerSymbols();
  if (symbols.length === 0) return;
  const answer = await api(`/api/prices?symbols=${encodeURIComponent(symbols.join(','))}`);
  for (const p of answer.items) state.prices.set(p.symbol, { price: p.price, at: p.at });
}

/** (Re)opens the price stream when the set of held and watched symbols changed. */
function syncPriceStream() {
  const symbols = tickerSymbols();
  const key = symbols.join(',');
  if (key === state.priceSymbols) return;
  state.priceSymbols = key;
  renderTicker();
  state.priceStream?.stop();
  state.priceStream = null;
  if (symbols.length === 0) return;
  state.priceStream = openStream(`/api/stream/prices?symbols=${encodeURIComponent(key)}`, {
    'price.updated': onPrice,
    reset: () => loadPrices().then(renderTicker, showPageError),
  });
}

// ----- SSE over fetch ----------------------------------------------------------------------------

/**
 * Reads a server-sent event stream with fetch (so it can send Authorization), dispatching
 * `handlers[type](envelope)`. Reconnects with backoff after errors or the end of the stream,
 * sending Last-Event-ID; the server answers a `reset` when it cannot resume.
 */
function openStream(path, handlers) {
  const controller = new AbortController();
  const stream = { lastEventId: null, retryMs: null, stop: () => controller.abort(), live: false };
  state.streams.push(stream);
  runStream(path, handlers, stream, controller.signal)
    .catch(showPageError)
    .finally(() => {
      state.streams = state.streams.filter((s) => s !== stream);
      updateConnection();
    });
  return stream;
}

/** The connect, read, back off and reconnect loop of {@link openStream}, until `signal` aborts. */
async function runStream(path, handlers, stream, signal) {
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const headers = { accept: 'text/event-stream' };
      if (stream.lastEventId) headers['last-event-id'] = stream.lastEventId;
      const res = await authedFetch(path, { headers, signal });
      if (!res.ok || !res.body) throw await problemError(res, 'stream refused');
      attempt = 0;
      stream.live = true;
      updateConnection();
      await readEvents(res.body, stream, handlers);
    } catch (error) {
      if (signal.aborted) return;
      // Gone or forbidden: retrying cannot help.
      if (error?.status === 404 || error?.status === 403) throw error;
    }
    stream.live = false;
    updateConnection();
    if (signal.aborted) return;
    const base = Math.min(BACKOFF_MAX_MS, Math.max(stream.retryMs ?? 0, BACKOFF_MIN_MS) * 2 ** attempt);
    attempt = Math.min(attempt + 1, 6);
    await sleep(base / 2 + Math.random() * (base / 2), signal);
  }
}

function updateConnection() {
  if (state.streams.length === 0) return;
  setConnection(state.streams.every((s) => s.live) ? 'live' : 'reconnecting');
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function readEvents(body, stream, handlers) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { type: 'message', data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (event.id !== null) stream.lastEventId = event.id;
        if (event.data.length > 0) dispatch(event, handlers);
        event = { type: 'message', data: [], id: null };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const raw = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.type = raw;
      else if (field === 'data') event.data.push(raw);
      else if (field === 'id' && !raw.includes('\0')) event.id = raw;
      else if (field === 'retry' && /^\d+$/.test(raw)) stream.retryMs = Number(raw);
    }
  }
}

function dispatch(event, handlers) {
  let envelope;
  try {
    envelope = JSON.parse(event.data.join('\n'));
  } catch {
    return;
  }
  const handler = handlers[envelope.type ?? event.type];
  if (!handler) return;
  try {
    handler(envelope);
  } catch (error) {
    showPageError(error);
  }
}

// ----- portfolio stream --------------------------------------------------------------------------

function openPortfolioStream() {
  let historyTimer = null;
  const refreshLedgerSoon = () => loadLedger(true).catch(showPageError);
  openStream(`/api/stream/portfolios/${state.portfolio.id}`, {
    valuation: (e) => renderValuation(e.data),
    'trade.executed': refreshLedgerSoon,
    'cash.deposited': refreshLedgerSoon,
    'cash.withdrawn': refreshLedgerSoon,
    'transaction.voided': refreshLedgerSoon,
    'snapshot.recorded': () => {
      clearTimeout(historyTimer);
      historyTimer = setTimeout(() => loadHistory().catch(showPageError), 1000);
    },
    'history.corrected': () => loadHistory().catch(showPageError),
    'portfolio.deleted': () => start(),
    reset: () => refreshAll().catch(showPageError),
  });
}

// ----- ledger ------------------------------------------------------------------------------------

async function loadLedger(fresh) {
  const cursor = fresh ? '' : `&cursor=${encodeURIComponent(state.ledgerCursor ?? '')}`;
  const page = await api(`/api/portfolios/${state.portfolio.id}/transactions?limit=${LEDGER_PAGE}${cursor}`);
  const rows = page.items.map((t) =>
    el(
      'tr',
      { dataset: { id: t.id }, class: t.voidedAt ? 'voided' : '' },
      el('td', {}, day(t.executedAt)),
      el('td', {}, t.kind),
      el('td', {}, t.symbol ?? ''),
      el('td', { class: 'num' }, t.quantity ?? ''),
      el('td', { class: 'num' }, t.price ? formatDecimal(t.price, 4) : ''),
      el('td', { class: `num ${signClass(t.amount)}` }, formatDecimal(t.amount)),
    ),
  );
  const body = $('#ledger tbody');
  if (fresh) body.replaceChildren(...rows);
  else body.append(...rows);
  state.ledgerCursor = page.nextCursor;
  $('#ledger-more').hidden = !page.nextCursor;
}

// ----- history chart -----------------------------------------------------------------------------

let chart = null;

/** A chart value (a float, display only) as whole currency units with separators. */
function chartMoney(_u, v) {
  return v === null ? '–' : v.toLocaleString(undefined, { maximumFractionDigits: 0 });
}

async function loadHistory() {
  const from = new Date(Date.now() - 366 * 86_400_000).toISOString().slice(0, 10);
  const history = await api(`/api/portfolios/${state.portfolio.id}/history?interval=1d&from=${from}&limit=1000`);
  const xs = history.items.map((s) => Date.parse(s.at) / 1000);
  const ys = history.items.map((s) => Number(s.totalValue)); // display only
  $('#chart-empty').hidden = xs.length > 0;
  drawChart([xs, ys]);
}

function chartSize(box = $('#chart')) {
  return { width: Math.max(240, box.clientWidth), height: box.clientWidth < 500 ? 220 : 300 };
}

function drawChart(data) {
  if (typeof globalThis.uPlot !== 'function') return;
  if (chart) {
    chart.setData(data);
    return;
  }
  const money = chartMoney;
  chart = new globalThis.uPlot(
    {
      ...chartSize(),
      series: [{}, { label: 'Total value', stroke: '#2563eb', fill: 'rgba(37,99,235,0.12)', width: 2, value: money }],
      axes: [{}, { values: (u, vals) => vals.map((v) => money(u, v)), size: 70 }],
      legend: { show: true },
    },
    data,
    $('#chart'),
  );
  window.addEventListener('resize', () => chart?.setSize(chartSize()));
}

// ----- watchlist ---------------------------------------------------------------------------------

function renderWatchlist() {
  $('#watchlist').replaceChildren(
    ...state.watchlist.map((w) =>
      el(
        'li',
        { dataset: { symbol: w.symbol } },
        el('span', {}, w.symbol),
        el(
          'button',
          {
            type: 'button',
            class: 'link',
            'aria-label': `Remove ${w.symbol} from the watchlist`,
            onclick: () => unwatch(w.symbol),
          },
          '×',
        ),
      ),
    ),
  );
  syncPriceStream();
}

async function loadWatchlist() {
  state.watchlist = (await api(`/api/portfolios/${state.portfolio.id}/watchlist`)).items;
}

async function unwatch(symbol) {
  try {
    const answer = await api(`/api/portfolios/${state.portfolio.id}/watchlist/${encodeURIComponent(symbol)}`, {
      method: 'DELETE',
    });
    state.watchlist = answer.items;
    renderWatchlist();
    showError($('#watch-error'), null);
  } catch (error) {
    showError($('#watch-error'), error);
  }
}

async function onWatch(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const symbol = form.symbol.value.trim().toUpperCase();
  if (!symbol) return;
  try {
    const answer = await api(`/api/portfolios/${state.portfolio.id}/watchlist`, { method: 'POST', body: { symbol } });
    state.watchlist = answer.items;
    await loadPrices().catch(() => {});
    renderWatchlist();
    form.reset();
    showError($('#watch-error'), null);
  } catch (error) {
    showError($('#watch-error'), error);
  }
}

// ----- trading -----------------------------------------------------------------------------------

async function onTrade(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button[type=submit]');
  const order = {
    symbol: form.symbol.value.trim().toUpperCase(),
    side: form.side.value,
    quantity: form.quantity.value.trim(),
  };
  if (form.price.value.trim()) order.price = form.price.value.trim();
  $('#trade-result').textContent = '';
  showError($('#trade-error'), null);
  button.disabled = true;
  try {
    // One key per submission: a retried request (after a token refresh) cannot fill twice.
    const tx = await api(`/api/portfolios/${state.portfolio.id}/trades`, {
      method: 'POST',
      body: order,
      headers: { 'idempotency-key': newKey() },
    });
    $('#trade-result').textContent =
      `${tx.kind === 'buy' ? 'Bought' : 'Sold'} ${tx.quantity} ${tx.symbol} at ${formatDecimal(tx.price, 4)}`;
    form.quantity.value = '';
    form.price.value = '';
    await Promise.all([loadValuation(), loadLedger(true)]);
  } catch (error) {
    showError($('#trade-error'), error);
  } finally {
    button.disabled = false;
  }
}

// ----- backtests ---------------------------------------------------------------------------------

const BACKTEST_POLL_MS = 500;
const DEFAULT_STRATEGY = 'sma-cross';
const DEFAULT_BACKTEST_CASH = '10000';
const DAY_MS = 86_400_000;

const backtest = {
  /** Bumped by each submission and sign-in: an older run's polling stops at its next step. */
  generation: 0,
  strategies: [],
  chart: null,
};

function utcDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A fraction (a float statistic) as a percentage with two decimals. */
function percent(value) {
  return typeof value === 'number' && Number.isFinite(value) ? `${(value * 100).toFixed(2)} %` : '–';
}

function numberSignClass(value) {
  return typeof value !== 'number' || value === 0 ? '' : value > 0 ? 'up' : 'down';
}

async function loadStrategies() {
  const select = $('#backtest-form').strategy;
  const chosen = select.value || DEFAULT_STRATEGY;
  backtest.strategies = (await api('/api/strategies')).items;
  if (backtest.strategies.length > 0) {
    select.replaceChildren(...backtest.strategies.map((s) => el('option', { value: s.name }, s.name)));
  }
  const names = backtest.strategies.map((s) => s.name);
  select.value = names.includes(chosen) ? chosen : names.includes(DEFAULT_STRATEGY) ? DEFAULT_STRATEGY : names[0];
  describeStrategy();
}

function describeStrategy() {
  const name = $('#backtest-form').strategy.value;
  $('#backtest-strategy-about').textContent = backtest.strategies.find((s) => s.name === name)?.description ?? '';
}

/** Marks the inputs the problem's fields name (`symbols.2` is the symbols input). */
function markInvalid(form, error) {
  for (const control of form.elements) control.removeAttribute('aria-invalid');
  for (const f of error?.fields ?? []) {
    const control = form.elements.namedItem(String(f.path ?? f.field ?? '').split('.')[0]);
    if (control && 'setAttribute' in control) control.setAttribute('aria-invalid', 'true');
  }
}

function clearBacktestOutput() {
  const result = $('#backtest-result');
  result.hidden = true;
  delete result.dataset.runId;
  $('#backtest-chart').hidden = true;
  $('#backtest-progress').hidden = true;
  $('#backtest-status').textContent = '';
}

/** Defaults for the signed-in user: their holdings, the last year up to yesterday, 10000 of cash. */
function setupBacktest() {
  backtest.generation++;
  const form = $('#backtest-form');
  const yesterday = Date.now() - DAY_MS;
  if (!form.to.value) form.to.value = utcDay(yesterday);
  if (!form.from.value) form.from.value = utcDay(yesterday - 365 * DAY_MS);
  if (!form.initialCash.value) form.initialCash.value = DEFAULT_BACKTEST_CASH;
  form.symbols.value = [...state.positions.keys()].sort().join(', ');
  form.querySelector('button[type=submit]').disabled = false;
  markInvalid(form, null);
  showError($('#backtest-error'), null);
  clearBacktestOutput();
  loadStrategies().catch((error) => showError($('#backtest-error'), error));
}

function showBacktestProgress(run) {
  const bar = $('#backtest-progress');
  const { done = 0, total = 0 } = run.progress ?? {};
  bar.hidden = false;
  if (total > 0) {
    bar.max = total;
    bar.value = done;
  } else if (run.status === 'queued' || run.status === 'running') {
    bar.removeAttribute('value');
  }
  $('#backtest-status').textContent =
    run.status === 'queued'
      ? 'Queued…'
      : run.status === 'running'
        ? `Running: ${done}${total ? ` of ${total}` : ''} bars`
        : run.status === 'succeeded'
          ? `Completed: ${total} bars replayed.`
          : `The backtest ${run.status}.`;
}

function renderBacktestResult(run) {
  const r = run.result;
  const metrics = r.metrics ?? {};
  const result = $('#backtest-result');
  const set = (name, text, props = {}) => {
    const dd = result.querySelector(`[data-metric="${name}"]`);
    dd.textContent = text;
    dd.className = props.class ?? '';
    if (props.value !== undefined) dd.dataset.value = props.value;
    if (props.title !== undefined) dd.title = props.title;
  };
  set('finalValue', formatDecimal(r.finalValue), { value: r.finalValue, title: r.finalValue });
  set('twr', percent(metrics.twr?.value), { class: numberSignClass(metrics.twr?.value) });
  set('maxDrawdown', percent(metrics.maxDrawdown?.value));
  set('sharpe', typeof metrics.sharpe?.value === 'number' ? metrics.sharpe.value.toFixed(2) : '–');
  set('fills', String(r.fills?.length ?? 0), { value: String(r.fills?.length ?? 0) });
  result.dataset.runId = run.id;
  result.hidden = false;
  drawEquity(r.equity ?? []);
}

function drawEquity(equity) {
  const box = $('#backtest-chart');
  box.hidden = false;
  if (typeof globalThis.uPlot !== 'function') return;
  const data = [equity.map((p) => Date.parse(`${p.day}T00:00:00Z`) / 1000), equity.map((p) => Number(p.value))];
  if (backtest.chart) {
    backtest.chart.setSize(chartSize(box));
    backtest.chart.setData(data);
    return;
  }
  backtest.chart = new globalThis.uPlot(
    {
      ...chartSize(box),
      series: [{}, { label: 'Equity', stroke: '#7c3aed', fill: 'rgba(124,58,237,0.12)', width: 2, value: chartMoney }],
      axes: [{}, { values: (u, vals) => vals.map((v) => chartMoney(u, v)), size: 70 }],
      legend: { show: true },
    },
    data,
    box,
  );
  window.addEventListener('resize', () => {
    if (!box.hidden) backtest.chart?.setSize(chartSize(box));
  });
}

/** Queues the run, polls its link until it ends, then shows the result (or the problem). */
async function onBacktest(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector('button[type=submit]');
  const generation = ++backtest.generation;
  const stale = () => generation !== backtest.generation;
  const request = {
    strategy: form.strategy.value,
    symbols: form.symbols.value
      .split(/[\s,;]+/)
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
    from: form.from.value,
    to: form.to.value,
    initialCash: form.initialCash.value.trim(),
  };
  markInvalid(form, null);
  showError($('#backtest-error'), null);
  clearBacktestOutput();
  button.disabled = true;
  try {
    const accepted = await api('/api/backtests', { method: 'POST', body: request });
    if (stale()) return;
    let run = accepted;
    showBacktestProgress(run);
    for (;;) {
      run = await api(accepted.links.self);
      if (stale()) return;
      showBacktestProgress(run);
      if (run.status !== 'queued' && run.status !== 'running') break;
      await sleep(BACKTEST_POLL_MS);
    }
    if (run.status === 'succeeded') renderBacktestResult(run);
    else
      showError($('#backtest-error'), {
        message: run.error?.message ?? `The backtest ${run.status}`,
        code: run.error?.code,
      });
  } catch (error) {
    if (stale()) return;
    clearBacktestOutput();
    markInvalid(form, error);
    showError($('#backtest-error'), error);
    if (error.status === 429 && error.retryAfter) {
      $('#backtest-error').append(el('p', {}, `Try again in ${error.retryAfter} s.`));
    }
  } finally {
    button.disabled = false;
  }
}

// ----- admin -------------------------------------------------------------------------------------

function isAdmin() {
  return (loadTokens()?.user?.roles ?? []).includes('admin');
}

async function loadAdmin() {
  const [scheduler, providers] = await Promise.all([api('/api/admin/scheduler'), api('/api/admin/providers')]);
  $('#scheduler tbody').replaceChildren(
    ...scheduler.jobs.map((j) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, j.name, j.running ? ' (running)' : ''),
        el('td', {}, j.schedule),
        el(
          'td',
          { class: j.lastResult === 'failed' ? 'down' : '' },
          j.lastResult ?? '–',
          j.lastError ? `: ${j.lastError.message}` : '',
        ),
        el('td', {}, time(j.lastFinishedAt ?? j.lastStartedAt)),
        el('td', {}, time(j.nextRunAt)),
      ),
    ),
  );
  if (scheduler.jobs.length === 0) {
    $('#scheduler tbody').replaceChildren(
      el('tr', {}, el('td', { colspan: '5' }, scheduler.running ? 'No jobs.' : 'The scheduler is stopped.')),
    );
  }
  const entries = [
    ['Provider', providers.name],
    ['Healthy', providers.healthy ? 'yes' : 'no'],
    ['Last success', time(providers.lastSuccessAt)],
    ['Calls', String(providers.calls)],
    ['Errors', `${providers.errors} (${providers.consecutiveErrors} in a row)`],
    ['Last error', providers.lastError ? `${providers.lastError.code}: ${providers.lastError.message}` : 'none'],
  ];
  $('#providers').replaceChildren(...entries.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

async function onRunDaily() {
  const out = $('#daily-result');
  out.textContent = 'Running…';
  try {
    const report = await api('/api/admin/snapshots/daily', { method: 'POST' });
    out.textContent = `Daily job for ${report.day}: ${report.succeeded} recorded, ${report.skipped} skipped, ${report.failedCount} failed.`;
    await loadAdmin();
  } catch (error) {
    out.textContent = error.message;
  }
}

async function onBackfill(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = $('#backfill-status');
  const bar = $('#backfill-progress');
  const id = form.portfolioId.value.trim();
  const path = id ? `/api/admin/portfolios/${encodeURIComponent(id)}/backfill` : '/api/admin/backfill';
  form.querySelector('button').disabled = true;
  try {
    let job = await api(path, { method: 'POST', body: { from: form.from.value, to: form.to.value } });
    bar.hidden = false;
    bar.removeAttribute('value');
    status.textContent = 'Backfill started…';
    while (job.status === 'running') {
      await sleep(400);
      job = await api(`/api/admin/jobs/${encodeURIComponent(job.id)}`);
      renderJobProgress(job);
    }
    if (job.status === 'completed') {
      const r = job.report ?? {};
      status.textContent =
        job.kind === 'backfill'
          ? `Backfill completed: ${r.written} days written, ${r.skippedDays} skipped.`
          : 'Backfill completed for every portfolio.';
      if (state.portfolio) await loadHistory();
    } else {
      status.textContent = `Backfill failed: ${job.error?.detail ?? job.error?.code ?? 'unknown error'}`;
    }
  } catch (error) {
    status.textContent = error.message;
    bar.hidden = true;
  } finally {
    form.querySelector('button').disabled = false;
  }
}

function renderJobProgress(job) {
  const bar = $('#backfill-progress');
  const { done = 0, total = null, unit = '' } = job.progress ?? {};
  if (total) {
    bar.max = total;
    bar.value = done;
  } else if (job.status !== 'running') {
    bar.max = 1;
    bar.value = 1;
  }
  if (job.status === 'running') {
    $('#backfill-status').textContent = `Backfilling: ${done}${total ? ` of ${total}` : ''} ${unit}`;
  }
}

function setupAdmin() {
  const admin = isAdmin();
  $('#admin').hidden = !admin;
  if (!admin) return;
  const form = $('#backfill-form');
  const today = new Date();
  if (!form.to.value) form.to.value = new Date(today.getTime() - 86_400_000).toISOString().slice(0, 10);
  if (!form.from.value) form.from.value = new Date(today.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
  form.portfolioId.value = state.portfolio?.id ?? sessionStorage.getItem(LAST_PORTFOLIO_KEY) ?? '';
  loadAdmin().catch(showPageError);
}

// ----- start -------------------------------------------------------------------------------------

async function refreshAll() {
  await Promise.all([loadWatchlist(), loadValuation(), loadLedger(true), loadHistory()]);
  await loadPrices().catch(() => {});
  state.priceSymbols = '';
  renderWatchlist();
}

function stopStreams() {
  for (const s of state.streams) s.stop();
  state.streams = [];
  state.priceStream = null;
  state.priceSymbols = '';
}

async function loadSymbols() {
  const list = $('#symbols');
  const known = new Set([...tickerSymbols(), ...SUGGESTED_SYMBOLS]);
  list.replaceChildren(...[...known].sort().map((s) => el('option', { value: s })));
}

async function start() {
  stopStreams();
  showPageError(null);
  setConnection('connecting');
  const tokens = loadTokens() ?? (await demoLogin());
  const user = tokens.user ?? {};
  $('#who').textContent = `Signed in as ${user.email ?? user.id ?? 'unknown'}${isAdmin() ? ' (admin)' : ''}`;
  const portfolios = await api('/api/portfolios?limit=1');
  state.portfolio = portfolios.items[0] ?? null;
  $('#no-portfolio').hidden = Boolean(state.portfolio);
  for (const form of ['#trade-form', '#watch-form']) {
    for (const control of $(form).elements) control.disabled = !state.portfolio;
  }
  if (state.portfolio) {
    sessionStorage.setItem(LAST_PORTFOLIO_KEY, state.portfolio.id);
    $('#portfolio-name').textContent = state.portfolio.name;
    await refreshAll();
    openPortfolioStream();
  } else {
    $('#portfolio-name').textContent = '';
    renderValuation({ positions: [], totals: {}, cash: null });
    $('#ledger tbody').replaceChildren();
    state.watchlist = [];
    renderWatchlist();
    setConnection('live');
  }
  await loadSymbols();
  setupBacktest();
  setupAdmin();
}

async function onLogin(event) {
  event.preventDefault();
  const form = event.currentTarget;
  showError($('#login-error'), null);
  try {
    const res = await postJson('/auth/login', { email: form.email.value, password: form.password.value });
    if (!res.ok) throw await problemError(res, 'Sign-in failed');
    saveTokens(await res.json());
    form.reset();
    $('#sign-in').open = false;
    await start();
  } catch (error) {
    showError($('#login-error'), error);
  }
}

async function onDemo() {
  sessionStorage.removeItem(TOKENS_KEY);
  $('#sign-in').open = false;
  await start().catch(showPageError);
}

async function onCreatePortfolio() {
  try {
    await api('/api/portfolios', { method: 'POST', body: { name: 'Paper portfolio', initialCash: '100000' } });
    await start();
  } catch (error) {
    showPageError(error);
  }
}

$('#login-form').addEventListener('submit', onLogin);
$('#demo-button').addEventListener('click', onDemo);
$('#trade-form').addEventListener('submit', onTrade);
$('#watch-form').addEventListener('submit', onWatch);
$('#ledger-more').addEventListener('click', () => loadLedger(false).catch(showPageError));
$('#run-daily').addEventListener('click', onRunDaily);
$('#refresh-admin').addEventListener('click', () => loadAdmin().catch(showPageError));
$('#backfill-form').addEventListener('submit', onBackfill);
$('#backtest-form').addEventListener('submit', onBacktest);
$('#backtest-form').strategy.addEventListener('change', describeStrategy);
$('#create-portfolio').addEventListener('click', onCreatePortfolio);

start().catch(showPageError);
