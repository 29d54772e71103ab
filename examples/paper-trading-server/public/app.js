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

async function loadHistory() {
  const from = new Date(Date.now() - 366 * 86_400_000).toISOString().slice(0, 10);
  const history = await api(`/api/portfolios/${state.portfolio.id}/history?interval=1d&from=${from}&limit=1000`);
  const xs = history.items.map((s) => Date.parse(s.at) / 1000);
  const ys = history.items.map((s) => Number(s.totalValue)); // display only
  $('#chart-empty').hidden = xs.length > 0;
  drawChart([xs, ys]);
}

function chartSize() {
  const box = $('#chart');
  return { width: Math.max(240, box.clientWidth), height: box.clientWidth < 500 ? 220 : 300 };
}

function drawChart(data) {
  if (typeof globalThis.uPlot !== 'function') return;
  if (chart) {
    chart.setData(data);
    return;
  }
  const money = (_u, v) => (v === null ? '–' : v.toLocaleString(undefined, { maximumFractionDigits: 0 }));
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
$('#create-portfolio').addEventListener('click', onCreatePortfolio);

start().catch(showPageError);
