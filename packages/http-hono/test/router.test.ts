/**
 * The router's own rules, the same for every route: options validated at start, one error shape
 * (problem+json), body rules (415, 413, malformed JSON, unknown fields), security headers on every
 * answer, CORS as configured, rate limits with Retry-After, 404 for unknown routes, a sound route
 * table. Real engine (memory store), requests through `router.request` and a real server.
 */
import { createTestEngine } from '@foliokit/core/testing';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type AnyRouteSpec, createFoliokitRouter, ERROR_STATUS, listRoutes, problemBodySchema } from '../src/index.js';
import { checkRouteTable } from '../src/router.js';
import { API_CSP, DOCS_CSP, SECURITY_HEADERS } from '../src/security.js';
import { createRouterFixture, headerAuth, PROBLEM_KEYS, type RouterFixture } from './support/router-fixture.js';

let fx: RouterFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

function fixture(options: Parameters<typeof createRouterFixture>[0] = {}): RouterFixture {
  fx = createRouterFixture(options);
  return fx;
}

/** The problem body of an error answer, after checking its content type and shape. */
async function problemOf(res: Response): Promise<Record<string, unknown> & { code: string; fields?: unknown[] }> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as Record<string, unknown> & { code: string };
  for (const key of PROBLEM_KEYS) expect(body).toHaveProperty(key);
  expect(problemBodySchema.safeParse(body).success).toBe(true);
  expect(body.status).toBe(res.status);
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
  return body;
}

function expectSecurityHeaders(res: Response, csp = API_CSP): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
  expect(res.headers.get('content-security-policy')).toBe(csp);
  expect(res.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
}

describe('options', () => {
  const engineOf = () => createTestEngine().engine;
  const configError = (options: unknown) => {
    try {
      createFoliokitRouter(engineOf(), options as never);
    } catch (error) {
      return error as { code: string; message: string; details: { field?: string } };
    }
    throw new Error('no error');
  };

  it('refuses a bad option with INVALID_CONFIGURATION naming it', () => {
    const cases: Array<[unknown, string]> = [
      [undefined, 'options'],
      [{}, 'options.auth'],
      [{ auth: headerAuth, bodyLimit: -1 }, 'options.bodyLimit'],
      [{ auth: headerAuth, bodyLimit: 1.5 }, 'options.bodyLimit'],
      [{ auth: headerAuth, rateLimits: { trades: { windowMs: 1000, max: 0 } } }, 'options.rateLimits.trades.max'],
      [{ auth: headerAuth, rateLimits: { orders: { windowMs: 1000, max: 1 } } }, 'options.rateLimits.orders'],
      [{ auth: headerAuth, cors: { origins: ['https://app.example.com/path'] } }, 'options.cors.origins.0'],
      [{ auth: headerAuth, cors: { origins: '*', credentials: true } }, 'options.cors.origins'],
      [{ auth: headerAuth, metrics: 'yes' }, 'options.metrics'],
      [{ auth: headerAuth, bodyLimt: 10 }, 'options.bodyLimt'],
      [{ auth: headerAuth, clientIp: 'x-forwarded-for' }, 'options.clientIp'],
    ];
    for (const [options, field] of cases) {
      const error = configError(options);
      expect(error.code, field).toBe('INVALID_CONFIGURATION');
      expect(error.details.field, JSON.stringify(options)).toBe(field);
      expect(error.message).toContain(field);
    }
  });

  it("lets the auth option's own validation name the auth field", () => {
    const error = configError({ auth: { jwt: { secret: 'short', algorithms: ['HS256'] } } });
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.details.field).toMatch(/^auth/);
  });

  it('refuses something that is not an engine', () => {
    expect(() => createFoliokitRouter({} as never, { auth: headerAuth })).toThrow(/PortfolioEngine/);
  });
});

describe('errors as problem+json', () => {
  it('answers a FoliokitError with its code, status, detail and the field at fault', async () => {
    const f = fixture();
    const id = await f.portfolio('alice', '100');
    const res = await f.call('POST', `/portfolios/${id}/trades`, {
      json: { symbol: 'AAPL', side: 'buy', quantity: '1' },
    });
    expect(res.status).toBe(409);
    const p = await problemOf(res);
    expect(p).toMatchObject({
      code: 'INSUFFICIENT_CASH',
      type: 'urn:foliokit:problem:insufficient-cash',
      title: 'Insufficient cash',
    });
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const f = fixture();
    const sent = await f.call('GET', '/portfolios/nope', { headers: { 'x-request-id': 'req-123' } });
    expect((await problemOf(sent)).requestId).toBe('req-123');
    const bad = await f.call('GET', '/portfolios/nope', { headers: { 'x-request-id': 'a b<script>' } });
    expect((await problemOf(bad)).requestId).not.toBe('a b<script>');
  });

  it("answers the same 404 for a missing portfolio and for another user's (ownership holds for admins too)", async () => {
    const f = fixture();
    const bobs = await f.portfolio('bob');
    const missingId = `${bobs.slice(0, -4)}zzzz`;
    const strip = (p: Record<string, unknown>, id: string) =>
      JSON.stringify({ ...p, requestId: undefined }).replaceAll(id, '<id>');
    const other = await problemOf(await f.call('GET', `/portfolios/${bobs}`));
    const missing = await problemOf(await f.call('GET', `/portfolios/${missingId}`));
    expect(other.code).toBe('PORTFOLIO_NOT_FOUND');
    expect(strip(other, bobs)).toBe(strip(missing, missingId));
    expect(other.detail).toBe(`No portfolio with id ${bobs}`);
    const admin = await f.call('GET', `/portfolios/${bobs}`, { roles: ['admin'] });
    expect(admin.status).toBe(404);
    expect((await f.call('GET', `/portfolios/${bobs}`, { user: 'bob' })).status).toBe(200);
  });

  it('answers an unexpected error with a 500 carrying only the request id', async () => {
    const f = fixture({
      auth: {
        resolve: async () => {
          throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
        },
      },
    });
    const res = await f.call('GET', '/portfolios');
    expect(res.status).toBe(500);
    const p = await problemOf(res);
    expect(p.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(p)).not.toMatch(/hunter2|ECONNREFUSED|stack/);
    expectSecurityHeaders(res);
  });

  it('maps every engine error code to a status of the one table', () => {
    for (const status of Object.values(ERROR_STATUS))
      expect([400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 501, 503]).toContain(status);
    expect(ERROR_STATUS).toMatchObject({
      VALIDATION_FAILED: 422,
      PORTFOLIO_NOT_FOUND: 404,
      INSUFFICIENT_CASH: 409,
      IDEMPOTENCY_CONFLICT: 422,
      RANGE_TOO_LARGE: 422,
      PROVIDER_UNAVAILABLE: 503,
      MALFORMED_JSON: 400,
      RATE_LIMITED: 429,
    });
  });

  it('answers 401 with WWW-Authenticate without a caller, 403 for a user on an admin route', async () => {
    const f = fixture();
    const anon = await f.call('GET', '/portfolios', { user: null });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await problemOf(anon)).code).toBe('UNAUTHORIZED');
    const user = await f.call('GET', '/admin/scheduler');
    expect(user.status).toBe(403);
    expect((await problemOf(user)).code).toBe('FORBIDDEN');
    expect((await f.call('GET', '/admin/scheduler', { roles: ['admin'] })).status).toBe(200);
  });
});

describe('bodies', () => {
  const trade = { symbol: 'AAPL', side: 'buy', quantity: '1' };

  it('refuses a body that is not application/json with 415, and changes nothing', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      'application/jsonx',
    ]) {
      const res = await f.call('POST', `/portfolios/${id}/trades`, {
        raw: JSON.stringify(trade),
        headers: { 'content-type': type },
      });
      expect(res.status, type).toBe(415);
      expect((await problemOf(res)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const noType = await f.call('POST', `/portfolios/${id}/trades`, { raw: JSON.stringify(trade) });
    expect(noType.status).toBe(415);
    expect((await f.engine.listTransactions(id)).items).toHaveLength(1);
    const ok = await f.call('POST', `/portfolios/${id}/trades`, {
      json: trade,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    });
    expect(ok.status).toBe(201);
  });

  it('refuses malformed JSON and invalid UTF-8 with 400 MALFORMED_JSON', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    for (const raw of [
      '{"symbol":',
      '{symbol: "AAPL"}',
      "{'a':1}",
      'NaN',
      '{"a":1}x',
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    ]) {
      const res = await f.call('POST', `/portfolios/${id}/trades`, {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status, String(raw)).toBe(400);
      expect((await problemOf(res)).code).toBe('MALFORMED_JSON');
    }
    expect((await f.engine.listTransactions(id)).items).toHaveLength(1);
  });

  it('refuses a body over the limit with 413, declared or streamed without a length', async () => {
    const f = fixture({ bodyLimit: 1024 });
    const id = await f.portfolio('alice');
    const big = JSON.stringify({ ...trade, note: 'x'.repeat(2000) });
    const declared = await f.call('POST', `/portfolios/${id}/trades`, { json: JSON.parse(big) });
    expect(declared.status).toBe(413);
    expect((await problemOf(declared)).code).toBe('PAYLOAD_TOO_LARGE');
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100));
        controller.close();
      },
    });
    const chunked = await f.router.request(
      new Request(`http://localhost/portfolios/${id}/trades`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test-user': 'alice' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(chunked.status).toBe(413);
    expect((await f.engine.listTransactions(id)).items).toHaveLength(1);
  });

  it('takes the default limit of 1 MiB', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    const res = await f.call('POST', `/portfolios/${id}/trades`, { json: { ...trade, note: 'x'.repeat(1024 * 1024) } });
    expect(res.status).toBe(413);
  });

  it('refuses unknown fields (ownerId, cash, idempotencyKey) with 422 naming each', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    const res = await f.call('POST', `/portfolios/${id}/trades`, { json: { ...trade, ownerId: 'bob', cash: '1e9' } });
    expect(res.status).toBe(422);
    const p = await problemOf(res);
    expect(p.code).toBe('VALIDATION_FAILED');
    expect(p.fields).toEqual(
      expect.arrayContaining([
        { path: 'ownerId', message: 'unknown field', in: 'body' },
        { path: 'cash', message: 'unknown field', in: 'body' },
      ]),
    );
    const created = await f.call('POST', '/portfolios', { json: { name: 'mine', ownerId: 'bob' } });
    expect(created.status).toBe(422);
    expect((await f.engine.listPortfolios()).items).toHaveLength(1);
  });

  it('names the field of a wrong type, and unknown query parameters', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    const res = await f.call('POST', `/portfolios/${id}/trades`, { json: { ...trade, side: 'short' } });
    expect(res.status).toBe(422);
    expect((await problemOf(res)).fields).toEqual([expect.objectContaining({ path: 'side', in: 'body' })]);
    const query = await f.call('GET', `/portfolios/${id}/positions?limit=5`);
    expect(query.status).toBe(422);
    expect((await problemOf(query)).fields).toEqual([
      { path: 'limit', message: 'unknown query parameter', in: 'query' },
    ]);
  });

  it('names every field at fault as { path, message, in? } (HTTP.md), from the router and from the engine', async () => {
    const f = fixture();
    const id = await f.portfolio('alice', '100');
    const answers = [
      // the router's own validation (zod), a query parameter, a header
      await f.call('POST', `/portfolios/${id}/trades`, { json: { ...trade, side: 'short', extra: 1 } }),
      await f.call('GET', `/portfolios/${id}/positions?limit=5`),
      await f.call('POST', `/portfolios/${id}/trades`, { json: trade, headers: { 'idempotency-key': 'a b' } }),
      // the engine's validation (an amount that is not exact) and a ledger refusal naming its field
      await f.call('POST', `/portfolios/${id}/cash`, { json: { kind: 'deposit', amount: '1e-30' } }),
      await f.call('POST', `/portfolios/${id}/trades`, { json: { ...trade, quantity: '100' } }),
    ];
    const problems = await Promise.all(answers.map(problemOf));
    for (const p of problems) {
      expect(p.fields?.length ?? 0, JSON.stringify(p)).toBeGreaterThan(0);
      for (const entry of p.fields as Array<Record<string, unknown>>) {
        expect(
          Object.keys(entry)
            .filter((k) => k !== 'in')
            .sort(),
          JSON.stringify(p),
        ).toEqual(['message', 'path']);
        expect(entry.path).toBeTypeOf('string');
        expect(entry.message).toBeTypeOf('string');
        if ('in' in entry) expect(['path', 'query', 'header', 'body']).toContain(entry.in);
      }
      expect(problemBodySchema.safeParse(p).success, JSON.stringify(p)).toBe(true);
    }
    expect(problems[3]?.fields).toEqual([expect.objectContaining({ path: 'amount' })]);
  });

  it('refuses a body on a route that takes none', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    const res = await f.call('DELETE', `/portfolios/${id}`, { json: { force: true } });
    expect(res.status).toBe(422);
    expect((await problemOf(res)).fields).toEqual([{ path: 'body', message: 'this route takes no body', in: 'body' }]);
    expect(await f.engine.getPortfolio(id)).toMatchObject({ id });
  });

  it('validates the Idempotency-Key header', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    const bad = await f.call('POST', `/portfolios/${id}/trades`, {
      json: trade,
      headers: { 'idempotency-key': 'x'.repeat(256) },
    });
    expect(bad.status).toBe(422);
    expect((await problemOf(bad)).fields).toEqual([expect.objectContaining({ path: 'Idempotency-Key', in: 'header' })]);
    const first = await f.call('POST', `/portfolios/${id}/trades`, {
      json: trade,
      headers: { 'idempotency-key': 'k-1' },
    });
    const replay = await f.call('POST', `/portfolios/${id}/trades`, {
      json: trade,
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(first.status).toBe(201);
    expect(await replay.json()).toEqual(await first.json());
    expect((await f.engine.listTransactions(id)).items).toHaveLength(2);
  });
});

describe('security headers', () => {
  it('are on every answer: success, created, errors, unknown routes, the docs page and its assets', async () => {
    const f = fixture({ cors: { origins: ['https://app.example.com'] } });
    const id = await f.portfolio('alice');
    const answers: Array<[Response, string]> = [
      [await f.call('GET', `/portfolios/${id}`), API_CSP],
      [await f.call('POST', '/portfolios', { json: { name: 'n' } }), API_CSP],
      [await f.call('GET', '/portfolios', { user: null }), API_CSP],
      [await f.call('GET', '/admin/metrics'), API_CSP],
      [
        await f.call('POST', `/portfolios/${id}/trades`, { raw: 'x', headers: { 'content-type': 'text/plain' } }),
        API_CSP,
      ],
      [await f.call('GET', '/no/such/route'), API_CSP],
      [await f.call('PUT', `/portfolios/${id}`), API_CSP],
      [await f.call('GET', '/health', { user: null }), API_CSP],
      [await f.call('GET', '/openapi.json', { user: null }), API_CSP],
      [await f.call('GET', '/docs/assets/swagger-ui.css', { user: null }), API_CSP],
      [await f.call('GET', '/docs', { user: null }), DOCS_CSP],
      [
        await f.call('OPTIONS', '/portfolios', {
          headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
        }),
        API_CSP,
      ],
    ];
    for (const [res, csp] of answers) expectSecurityHeaders(res, csp);
  });
});

describe('CORS', () => {
  const origin = 'https://app.example.com';

  it('sends no CORS header unless the host configures it', async () => {
    const f = fixture();
    const res = await f.call('GET', '/portfolios', { headers: { origin } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows the configured origins only, preflight included', async () => {
    const f = fixture({ cors: { origins: [origin], credentials: true } });
    const ok = await f.call('GET', '/portfolios', { headers: { origin } });
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-expose-headers')).toContain('Retry-After');
    const other = await f.call('GET', '/portfolios', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await f.call('OPTIONS', '/portfolios/x/trades', {
      user: null,
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Idempotency-Key');
  });
});

describe('rate limits', () => {
  const trade = { symbol: 'AAPL', side: 'buy', quantity: '1' };

  it('answers 429 with Retry-After under a burst, per user, until the window ends', async () => {
    const f = fixture({ rateLimits: { trades: { windowMs: 60_000, max: 3 } } });
    const id = await f.portfolio('alice');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await f.call('POST', `/portfolios/${id}/trades`, { json: trade })).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const limited = await f.call('POST', `/portfolios/${id}/trades`, { json: trade });
    expect(limited.headers.get('retry-after')).toBe('60');
    expect((await problemOf(limited)).code).toBe('RATE_LIMITED');
    expect((await f.engine.listTransactions(id)).items).toHaveLength(4);
    await f.clock.advance(30_000);
    const later = await f.call('POST', `/portfolios/${id}/trades`, { json: trade });
    expect(later.headers.get('retry-after')).toBe('30');
    await f.clock.advance(30_000);
    expect((await f.call('POST', `/portfolios/${id}/trades`, { json: trade })).status).toBe(201);
  });

  it('counts per IP too: many users from one address share its limit', async () => {
    const f = fixture({
      rateLimits: { market: { windowMs: 10_000, max: 2 } },
      clientIp: (request) => request.headers.get('x-test-ip') ?? undefined,
    });
    const get = (user: string, ip: string) => f.call('GET', '/prices/AAPL', { user, headers: { 'x-test-ip': ip } });
    expect((await get('u1', '10.0.0.1')).status).toBe(200);
    expect((await get('u2', '10.0.0.1')).status).toBe(200);
    expect((await get('u3', '10.0.0.1')).status).toBe(429);
    expect((await get('u3', '10.0.0.2')).status).toBe(200);
    // other buckets are counted apart
    expect((await f.call('GET', '/portfolios', { user: 'u1', headers: { 'x-test-ip': '10.0.0.1' } })).status).toBe(200);
  });
});

describe('routes', () => {
  it('answers an unknown route or method with a 404 problem', async () => {
    const f = fixture();
    for (const [method, path] of [
      ['GET', '/nope'],
      ['DELETE', '/prices/AAPL'],
      ['GET', '/portfolios/x/y/z'],
    ] as const) {
      const res = await f.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await problemOf(res)).code).toBe('NOT_FOUND');
    }
  });

  it('every route has a policy, a unique method and path, and a unique operation id', () => {
    const f = fixture();
    const routes = listRoutes(f.router);
    expect(routes.length).toBeGreaterThan(20);
    for (const r of routes) expect(['public', 'user', 'admin'], `${r.method} ${r.path}`).toContain(r.policy);
    expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).toBe(routes.length);
    const spec = routes[0] as AnyRouteSpec;
    expect(() => checkRouteTable([spec, spec])).toThrow(/declared twice/);
    expect(() => checkRouteTable([{ ...spec, policy: undefined as never }])).toThrow(/no policy/);
    expect(() => checkRouteTable([{ ...spec, path: '/x', owned: true, policy: 'user' }])).toThrow(/owned/);
  });

  it('works mounted under a prefix of a host app, on a real server', async () => {
    const f = fixture();
    const host = new Hono();
    host.get('/', (c) => c.text('host'));
    host.route('/api', f.router);
    const server = serve({ fetch: host.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as { port: number };
    try {
      const base = `http://127.0.0.1:${port}/api`;
      const created = await fetch(`${base}/portfolios`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test-user': 'alice' },
        body: JSON.stringify({ name: 'served' }),
      });
      expect(created.status).toBe(201);
      expectSecurityHeaders(created);
      const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { servers: Array<{ url: string }> };
      expect(doc.servers).toEqual([{ url: '/api' }]);
      const bad = await fetch(`${base}/portfolios`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test-user': 'alice' },
        body: '{"name":',
      });
      expect(bad.status).toBe(400);
      expect(await codeOfResponse(bad)).toBe('MALFORMED_JSON');
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('records each answer in the metrics by route pattern, method and status', async () => {
    const f = fixture();
    const id = await f.portfolio('alice');
    await f.call('GET', `/portfolios/${id}`);
    await f.call('GET', '/portfolios/pf_missing');
    const text = await (await f.call('GET', '/admin/metrics?format=prometheus', { roles: ['admin'] })).text();
    expect(text).toContain('foliokit_http_requests_total{route="/portfolios/:id",method="GET",status="200"} 1');
    expect(text).toContain('foliokit_http_requests_total{route="/portfolios/:id",method="GET",status="404"} 1');
  });

  it('keeps no metrics with metrics: false', async () => {
    const f = fixture({ metrics: false });
    await f.call('GET', '/portfolios');
    expect(f.router.deps.metrics.render('prometheus')).toBe('');
  });
});

async function codeOfResponse(res: Response): Promise<string> {
  return ((await res.json()) as { code: string }).code;
}
