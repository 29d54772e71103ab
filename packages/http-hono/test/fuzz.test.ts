/**
 * Bad input on every write route of the real route table: a fixed corpus (negative, 0, -0, NaN,
 * Infinity, 1e309, 2^53+1, 40-digit numbers, SQL-ish symbols, deep nesting, arrays, extra fields
 * such as ownerId or cash, wrong content types, 2 MB) answers 4xx problem+json naming the field,
 * and changes nothing; ~2,000 generated bodies and params (fast-check) never answer 5xx, answer
 * 2xx only for input the route's schemas accept, and change nothing when refused.
 */
import { createAlert } from '@foliokit/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnyRouteSpec, ERROR_STATUS, listRoutes, type ProblemCode, problemBodySchema } from '../src/index.js';
import { openApiPath } from '../src/openapi.js';
import { createRouterFixture, type RouterFixture } from './support/router-fixture.js';

/** A value written into the JSON text as it is (JSON cannot carry NaN, 1e309 or 2^53+1 exactly). */
class Raw {
  constructor(readonly text: string) {}
}

/** JSON text of `value`, with {@link Raw} values written verbatim. */
function jsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `__RAW_${raws.length - 1}__`;
    }
    return v;
  });
  return (text ?? 'null').replace(/"__RAW_(\d+)__"/g, (_m, i: string) => raws[Number(i)] as string);
}

const FORTY_DIGITS = '1234567890123456789012345678901234567890';
const SQL = "AAPL'; DROP TABLE portfolios; --";
const deep = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

/** Values no field of any kind accepts. */
const SHAPES: unknown[] = [null, true, [], ['1'], {}, { value: '1' }, deep(64)];

/** Invalid values by kind of field (each kind also gets {@link SHAPES}). */
const CORPUS: Record<string, unknown[]> = {
  decimal: [
    -1,
    '-1',
    0,
    '0',
    new Raw('-0'),
    '-0',
    'NaN',
    'Infinity',
    '-Infinity',
    new Raw('1e309'),
    '1e309',
    new Raw('9007199254740993'),
    new Raw(FORTY_DIGITS),
    FORTY_DIGITS,
    `0.${FORTY_DIGITS}`,
    '0x10',
    '1,5',
    '1 000',
    '',
    ' ',
    SQL,
  ],
  /** A decimal that may be zero (opening cash): every invalid one but the zeros. */
  nonNegative: [],
  symbol: [SQL, '', ' ', 'A'.repeat(65), 'AA\u0000PL', '../../etc/passwd', 42, 'ZZZZZZ'],
  text: [42, 'x'.repeat(5000), 'a\u0000b', '\uD800', ''],
  side: ['BUY', 'short', '', 1, SQL],
  kind: ['DEPOSIT', 'dividend', '', 1, SQL],
  baseCurrency: ['usd', 'US', 'DOLLARS', 1, SQL],
  costBasisMethod: ['lifo', '', 1, SQL],
  instant: ['yesterday', '2026-13-45T00:00:00Z', '9999-12-31T00:00:00.000Z', '2026-01-05T10:00:00', 0, '', SQL],
  boolean: ['true', 1, 0, '', 'yes'],
  list: ['AAPL', 42, [42], [{ symbol: SQL }], [{}]],
  objective: ['MIN-VARIANCE', 'max-return', '', 1, SQL],
  number: ['365', -1, 0, 1e9, new Raw('1e309'), new Raw('NaN'), 'Infinity', 1.5],
  day: ['2026-02-30', '20260101', '9999-99-99', '2099-01-01', 1, '', SQL],
};

CORPUS.nonNegative = (CORPUS.decimal as unknown[]).filter(
  (v) => v !== 0 && v !== '0' && v !== '-0' && !(v instanceof Raw && v.text === '-0'),
);

/** The kind of each body field of the write routes. */
const FIELD_KIND: Record<string, string> = {
  quantity: 'decimal',
  price: 'decimal',
  amount: 'decimal',
  initialCash: 'nonNegative',
  symbol: 'symbol',
  name: 'text',
  side: 'side',
  kind: 'kind',
  baseCurrency: 'baseCurrency',
  costBasisMethod: 'costBasisMethod',
  at: 'instant',
  initialCashAt: 'instant',
  day: 'day',
  from: 'day',
  to: 'day',
  threshold: 'nonNegative',
  cashBuffer: 'nonNegative',
  minTrade: 'nonNegative',
  symbols: 'list',
  objective: 'objective',
  lookbackDays: 'number',
  maxWeight: 'number',
};

/** Fields a client must never set, sent beside valid ones. */
const EXTRA_FIELDS = [
  'ownerId',
  'cash',
  'id',
  'portfolioId',
  'idempotencyKey',
  'realizedPnl',
  '__proto__',
  'constructor',
];

/** A valid body of each write route (by `METHOD /path`); the corpus breaks one field at a time. */
const TEMPLATES: Record<string, Record<string, unknown>> = {
  'POST /portfolios': { name: 'Fuzz', initialCash: '100', costBasisMethod: 'fifo', baseCurrency: 'USD' },
  'PATCH /portfolios/:id': { name: 'Renamed' },
  'POST /portfolios/:id/trades': {
    symbol: 'AAPL',
    side: 'buy',
    quantity: '1',
    price: '150',
    at: '2026-01-05T09:00:00.000Z',
  },
  'POST /portfolios/:id/cash': { kind: 'deposit', amount: '10', at: '2026-01-05T09:00:00.000Z' },
  'POST /portfolios/:id/transactions/:transactionId/void': {},
  'POST /portfolios/:id/watchlist': { symbol: 'MSFT' },
  'POST /admin/snapshots/daily': { day: '2026-01-04' },
  'POST /admin/portfolios/:id/backfill': { from: '2026-01-01', to: '2026-01-04' },
  'POST /admin/backfill': { from: '2026-01-01', to: '2026-01-04' },
  'PUT /portfolios/:id/targets': { targets: [{ symbol: 'AAPL', weight: '0.5' }] },
  'POST /portfolios/:id/rebalance': {
    dryRun: true,
    threshold: '0.02',
    cashBuffer: '10',
    minTrade: '5',
    fractional: false,
  },
  'POST /analytics/optimize': {
    symbols: ['AAPL', 'MSFT'],
    objective: 'min-variance',
    lookbackDays: 365,
    maxWeight: 0.8,
  },
  'POST /backtests': {
    strategy: 'sma-cross',
    symbols: ['AAPL'],
    from: '2025-12-01',
    to: '2025-12-31',
    initialCash: '1000',
  },
  'POST /backtests/compare': {
    variants: [{ strategy: 'sma-cross', params: { fast: 5, slow: 20 } }, { strategy: 'buy-and-hold' }],
    symbols: ['AAPL'],
    from: '2025-12-01',
    to: '2025-12-31',
    initialCash: '1000',
  },
  'POST /backtests/:backtestId/cancel': {},
  'PUT /strategies/:name/params': { params: { fast: 5, slow: 20 } },
  'POST /alerts': { kind: 'above', symbol: 'AAPL', threshold: '200' },
  'PATCH /alerts/:alertId': { active: false, threshold: '210' },
};

const keyOf = (r: AnyRouteSpec) => `${r.method.toUpperCase()} ${r.path}`;

let fx: RouterFixture;
let writes: AnyRouteSpec[];
let doc: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
/** Alice's portfolio (with cash, a position, a watchlist entry), Bob's, and an id that exists nowhere. */
let ids: {
  alice: string;
  bob: string;
  missing: string;
  bobTx: string;
  aliceTx: string;
  backtestId: string;
  alertId: string;
};

beforeAll(async () => {
  fx = createRouterFixture({
    rateLimits: {
      trades: { windowMs: 60_000, max: 1e9 },
      market: { windowMs: 60_000, max: 1e9 },
      admin: { windowMs: 60_000, max: 1e9 },
    },
  });
  writes = listRoutes(fx.router).filter((r) => r.method !== 'get');
  const alice = await fx.portfolio('alice', '1000');
  const bob = await fx.portfolio('bob', '1000');
  const aliceTx = (await fx.engine.trade(alice, { symbol: 'AAPL', side: 'buy', quantity: '2' })).id;
  const bobTx = (await fx.engine.listTransactions(bob)).items[0]?.id as string;
  await fx.engine.addToWatchlist(alice, 'AAPL');
  const backtest = await fx.router.deps.backtests.submit(
    { strategy: 'sma-cross', symbols: ['AAPL'], from: '2025-12-01', to: '2025-12-31', initialCash: '1000' },
    { ownerId: 'alice' },
  );
  const alert = await createAlert(fx.engine, { kind: 'above', symbol: 'AAPL', threshold: '200', ownerId: 'alice' });
  ids = {
    alice,
    bob,
    missing: `${alice.slice(0, -4)}zzzz`,
    bobTx,
    aliceTx,
    backtestId: backtest.id,
    alertId: alert.id,
  };
  doc = (await (await fx.call('GET', '/openapi.json', { user: null })).json()) as typeof doc;
});
afterAll(async () => {
  await fx.close();
});

/** Everything a write can change (snapshots aside: admin jobs write those by design). */
async function fingerprint(): Promise<string> {
  const { engine } = fx;
  const portfolios = (await engine.listPortfolios({ limit: 1000 })).items;
  const parts: unknown[] = [portfolios];
  for (const p of portfolios) {
    parts.push(
      await engine.getPositions(p.id),
      (await engine.listTransactions(p.id, { limit: 500 })).items,
      await engine.getWatchlist(p.id),
    );
  }
  return JSON.stringify(parts);
}

/** The path of `route` with its parameters filled. */
function pathOf(route: AnyRouteSpec, params: Record<string, string>): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
}

/** The parameters that reach validation on alice's own portfolio. */
function ownParams(): Record<string, string> {
  return {
    id: ids.alice,
    transactionId: ids.aliceTx,
    symbol: 'AAPL',
    backtestId: ids.backtestId,
    name: 'sma-cross',
    alertId: ids.alertId,
  };
}

interface Sent {
  route: AnyRouteSpec;
  params: Record<string, string>;
  /** JSON text, or undefined for no body. */
  text: string | undefined;
  contentType: string | undefined;
  idempotencyKey?: string;
}

async function send(s: Sent): Promise<Response> {
  const headers: Record<string, string> = {};
  if (s.contentType !== undefined) headers['content-type'] = s.contentType;
  if (s.idempotencyKey !== undefined) headers['idempotency-key'] = s.idempotencyKey;
  const roles = s.route.policy === 'admin' ? ['admin'] : [];
  return fx.call(s.route.method.toUpperCase(), pathOf(s.route, s.params), { raw: s.text, headers, roles });
}

/** Checks an error answer: problem+json, the table's status for its code, fields named on validation. */
async function expectProblem(res: Response, what: string): Promise<{ code: ProblemCode }> {
  expect(res.status, what).toBeGreaterThanOrEqual(400);
  expect(res.status, what).toBeLessThan(500);
  expect(res.headers.get('content-type'), what).toBe('application/problem+json');
  const body = (await res.json()) as { code: ProblemCode; fields?: unknown[] };
  expect(problemBodySchema.safeParse(body).success, what).toBe(true);
  expect(ERROR_STATUS[body.code], what).toBe(res.status);
  if (body.code === 'VALIDATION_FAILED') expect(body.fields?.length ?? 0, what).toBeGreaterThan(0);
  return body;
}

/** The documented statuses of a route. */
function documented(route: AnyRouteSpec): string[] {
  return Object.keys(doc.paths[openApiPath(route.path)]?.[route.method]?.responses ?? {});
}

describe('the fixed corpus on every write route', () => {
  it('has a template for every write route', () => {
    expect(writes.map(keyOf).filter((k) => !k.startsWith('DELETE ') && TEMPLATES[k] === undefined)).toEqual([]);
  });

  it('answers 4xx problem+json naming the field, and changes nothing', async () => {
    const before = await fingerprint();
    const cases: Array<{ sent: Sent; what: string }> = [];
    for (const route of writes) {
      const template = TEMPLATES[keyOf(route)];
      const params = ownParams();
      if (!template) continue;
      for (const [field, kind] of Object.entries(FIELD_KIND)) {
        if (!(field in template)) continue;
        for (const value of [...(CORPUS[kind] as unknown[]), ...SHAPES]) {
          const text = jsonText({ ...template, [field]: value });
          cases.push({
            sent: { route, params, text, contentType: 'application/json' },
            what: `${keyOf(route)} ${text}`,
          });
        }
      }
      for (const extra of EXTRA_FIELDS) {
        const text = `${jsonText(template).slice(0, -1)}${Object.keys(template).length > 0 ? ',' : ''}"${extra}":"x"}`;
        cases.push({ sent: { route, params, text, contentType: 'application/json' }, what: `${keyOf(route)} ${text}` });
      }
      const whole = [
        [],
        [template],
        'body',
        42,
        null,
        new Raw(`${'['.repeat(5000)}1${']'.repeat(5000)}`),
        new Raw('NaN'),
        new Raw('1e309'),
      ];
      for (const body of whole) {
        const text = jsonText(body);
        cases.push({
          sent: { route, params, text, contentType: 'application/json' },
          what: `${keyOf(route)} ${text.slice(0, 60)}`,
        });
      }
      const valid = jsonText(template);
      for (const contentType of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
      ]) {
        cases.push({ sent: { route, params, text: valid, contentType }, what: `${keyOf(route)} as ${contentType}` });
      }
      const big = jsonText({ ...template, padding: 'x'.repeat(2 * 1024 * 1024) });
      cases.push({ sent: { route, params, text: big, contentType: 'application/json' }, what: `${keyOf(route)} 2 MB` });
      for (const raw of ['{', '{"a":}', "{'a':1}", '[1,]', '\u0000']) {
        cases.push({
          sent: { route, params, text: raw, contentType: 'application/json' },
          what: `${keyOf(route)} ${raw}`,
        });
      }
    }
    expect(cases.length).toBeGreaterThan(500);
    for (const { sent, what } of cases) {
      const res = await send(sent);
      await expectProblem(res, what);
      expect(documented(sent.route), `${what}: ${res.status} documented`).toContain(String(res.status));
    }
    expect(await fingerprint()).toBe(before);
  });

  it("answers 404 for ids that are not the caller's, on every route taking an id", async () => {
    const before = await fingerprint();
    // another user's and missing ids: 404, the same answer; ids no portfolio can have: 404 or 422
    const badIds = [ids.bob, ids.missing, SQL, 'x'.repeat(101), 'a/../b', '...', ' ', '\u0000', 'pf_😀', '%00'];
    const impossible = new Set(['x'.repeat(101)]);
    for (const route of writes.filter((r) => r.owned)) {
      const template = TEMPLATES[keyOf(route)];
      for (const id of badIds) {
        const res = await send({
          route,
          params: { ...ownParams(), id },
          text: template ? jsonText(template) : undefined,
          contentType: template ? 'application/json' : undefined,
        });
        const what = `${keyOf(route)} id=${JSON.stringify(id)}`;
        if (impossible.has(id)) {
          expect([404, 422], what).toContain(res.status);
          await expectProblem(res, what);
          continue;
        }
        expect(res.status, what).toBe(404);
        expect((await expectProblem(res, what)).code, what).toBe('PORTFOLIO_NOT_FOUND');
      }
    }
    // another portfolio's ledger entry, or no entry at all, on the caller's own portfolio
    const voidRoute = writes.find((r) => r.path.endsWith('/void'));
    if (voidRoute) {
      for (const transactionId of [ids.bobTx, 'tx_missing', SQL]) {
        const res = await send({
          route: voidRoute,
          params: { ...ownParams(), transactionId },
          text: '{}',
          contentType: 'application/json',
        });
        const what = `void ${transactionId}`;
        expect([404, 422], what).toContain(res.status);
        await expectProblem(res, what);
      }
    }
    expect(await fingerprint()).toBe(before);
  });
});

describe('generated input on every write route', () => {
  it('never answers 5xx; 2xx only for valid input; a refusal changes nothing', async () => {
    const anyValue = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.constantFrom(...Object.values(CORPUS).flat(), ...SHAPES),
      fc.string({ unit: 'binary', maxLength: 50 }),
    );
    const request = fc.record({
      route: fc.constantFrom(...writes),
      id: fc.oneof(
        fc.constantFrom('alice', 'alice', 'alice', 'bob', 'missing'),
        fc.string({ unit: 'grapheme', maxLength: 120 }),
      ),
      body: fc.oneof(
        fc.record({
          fields: fc.dictionary(fc.constantFrom(...Object.keys(FIELD_KIND), ...EXTRA_FIELDS), anyValue, { maxKeys: 4 }),
          keep: fc.boolean(),
        }),
        fc.record({ whole: fc.jsonValue({ maxDepth: 3 }) }),
        fc.record({ raw: fc.string({ maxLength: 80 }) }),
        fc.constant({ none: true as const }),
      ),
      contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', undefined),
      idempotencyKey: fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), { nil: undefined }),
    });

    let state = await fingerprint();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const params: Record<string, string> = { ...ownParams() };
        params.id = r.id === 'alice' ? ids.alice : r.id === 'bob' ? ids.bob : r.id === 'missing' ? ids.missing : r.id;
        // deleting alice's portfolio would leave the rest of the run nothing to validate against
        if (keyOf(r.route) === 'DELETE /portfolios/:id' && params.id === ids.alice) params.id = ids.bob;
        const template = TEMPLATES[keyOf(r.route)] ?? {};
        let value: unknown;
        let text: string | undefined;
        if ('fields' in r.body) value = { ...(r.body.keep ? template : {}), ...r.body.fields };
        else if ('whole' in r.body) value = r.body.whole;
        if (value !== undefined) text = jsonText(value);
        else if ('raw' in r.body) text = r.body.raw;
        const res = await send({
          route: r.route,
          params,
          text,
          contentType: text === undefined ? undefined : r.contentType,
          ...(r.idempotencyKey !== undefined ? { idempotencyKey: r.idempotencyKey } : {}),
        });
        const what = `${keyOf(r.route)} id=${JSON.stringify(params.id)} ${text?.slice(0, 200)} (${r.contentType})`;
        expect(res.status, what).toBeLessThan(500);
        expect(documented(r.route), `${what}: ${res.status} documented`).toContain(String(res.status));
        if (res.status >= 400) {
          refused++;
          await expectProblem(res, what);
          const now = await fingerprint();
          expect(now, what).toBe(state);
          return;
        }
        // accepted: the request was one the route's schemas accept, as JSON
        if (text !== undefined) {
          expect(r.contentType, what).toBe('application/json');
          const parsed = text.trim() === '' ? undefined : JSON.parse(text);
          if (r.route.body) expect(r.route.body.safeParse(parsed).success, what).toBe(true);
        }
        state = await fingerprint();
      }),
      { numRuns: 2000, seed: 20260105 },
    );
    expect(refused).toBeGreaterThan(1500);
  });
});
