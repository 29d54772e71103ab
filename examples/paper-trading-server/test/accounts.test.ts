/**
 * The example's accounts over real HTTP: register, login, refresh rotation, reuse detection that
 * revokes the family, logout, no user enumeration, the login rate limit, the admin's user list,
 * and a user's token trading on their own portfolio only (another user's answers 404).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaperTradingServer, type PaperTradingServer } from '../src/server.js';

const ADMIN = { email: 'admin@example.test', password: 'admin-password-1' };
const MAX_FAILURES = 3;

let server: PaperTradingServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foliokit-accounts-'));
  server = await createPaperTradingServer({
    port: 0,
    dataDir: dir,
    demo: false,
    logLevel: 'silent',
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    loginMaxFailures: MAX_FAILURES,
  });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Pair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: string; email: string; roles: string[] };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function register(email: string, password = 'correct horse'): Promise<Pair> {
  expect((await post('/auth/register', { email, password })).status).toBe(201);
  const login = await post('/auth/login', { email, password });
  expect(login.status).toBe(200);
  return (await login.json()) as Pair;
}

const bearer = (pair: Pair) => ({ authorization: `Bearer ${pair.accessToken}` });

describe('accounts', () => {
  it('registers, logs in, refreshes and logs out', async () => {
    const created = await post('/auth/register', { email: 'Ada@Example.test', password: 'lovelace-1815' });
    expect(created.status).toBe(201);
    const { user } = (await created.json()) as { user: Pair['user'] };
    expect(user).toMatchObject({ email: 'ada@example.test', roles: [] });
    expect(user).not.toHaveProperty('passwordHash');
    expect((await post('/auth/register', { email: 'ada@example.test', password: 'another-one' })).status).toBe(409);

    const login = await post('/auth/login', { email: 'ada@example.test', password: 'lovelace-1815' });
    expect(login.status).toBe(200);
    const pair = (await login.json()) as Pair;
    expect(pair.expiresIn).toBe(900);
    expect(pair.user.id).toBe(user.id);
    const [, payload] = pair.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.sub).toBe(user.id);
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect((await fetch(`${server.url}/api/portfolios`, { headers: bearer(pair) })).status).toBe(200);

    const refreshed = await post('/auth/refresh', { refreshToken: pair.refreshToken });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Pair;
    expect(next.refreshToken).not.toBe(pair.refreshToken);
    expect((await fetch(`${server.url}/api/portfolios`, { headers: bearer(next) })).status).toBe(200);

    expect((await post('/auth/logout', { refreshToken: next.refreshToken })).status).toBe(204);
    expect((await post('/auth/refresh', { refreshToken: next.refreshToken })).status).toBe(401);
  });

  it('answers a wrong password and an unknown email the same way (401)', async () => {
    await register('grace@example.test', 'hopper-1906');
    const wrong = await post('/auth/login', { email: 'grace@example.test', password: 'not-her-password' });
    const unknown = await post('/auth/login', { email: 'nobody@example.test', password: 'not-her-password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined, requestId: undefined });
    expect(strip((await wrong.json()) as Record<string, unknown>)).toEqual(
      strip((await unknown.json()) as Record<string, unknown>),
    );
  });

  it('rotates refresh tokens, and a reused one revokes the whole family', async () => {
    const first = await register('alan@example.test');
    const second = (await (await post('/auth/refresh', { refreshToken: first.refreshToken })).json()) as Pair;
    const third = (await (await post('/auth/refresh', { refreshToken: second.refreshToken })).json()) as Pair;
    // The first token again: a replay. It fails, and so does the newest token of its family.
    expect((await post('/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(401);
    expect((await post('/auth/refresh', { refreshToken: third.refreshToken })).status).toBe(401);
    // Another session of the same user (another family) is untouched.
    const other = (await (
      await post('/auth/login', { email: 'alan@example.test', password: 'correct horse' })
    ).json()) as Pair;
    expect((await post('/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(200);
    expect((await post('/auth/refresh', { refreshToken: 'not-a-token' })).status).toBe(401);
  });

  it('rate-limits failed logins per email and IP (429 with Retry-After)', async () => {
    await register('limited@example.test', 'the-right-one');
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await post('/auth/login', { email: 'limited@example.test', password: 'wrong-guess' })).status).toBe(401);
    }
    const limited = await post('/auth/login', { email: 'limited@example.test', password: 'the-right-one' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { code: string }).code).toBe('RATE_LIMITED');
    // Another email from the same IP is not blocked.
    expect((await post('/auth/login', { email: 'grace@example.test', password: 'hopper-1906' })).status).toBe(200);
  });

  it('lists users for the seeded admin only', async () => {
    const user = await register('eve@example.test');
    expect((await fetch(`${server.url}/auth/users`)).status).toBe(401);
    expect((await fetch(`${server.url}/auth/users`, { headers: bearer(user) })).status).toBe(403);
    const admin = (await (await post('/auth/login', ADMIN)).json()) as Pair;
    expect(admin.user.roles).toEqual(['admin']);
    const list = await fetch(`${server.url}/auth/users`, { headers: bearer(admin) });
    expect(list.status).toBe(200);
    const { items } = (await list.json()) as { items: Array<Record<string, unknown>> };
    expect(items.map((u) => u.email)).toEqual(expect.arrayContaining([ADMIN.email, 'eve@example.test']));
    expect(items.every((u) => !('passwordHash' in u))).toBe(true);
    expect((await post('/auth/demo', {})).status).toBe(404);
  });

  it("trades on the user's own portfolio through /api; another user's is 404", async () => {
    const alice = await register('alice@example.test');
    const bob = await register('bob@example.test');
    const created = await post('/api/portfolios', { name: 'Alice', initialCash: '10000' }, bearer(alice));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const trade = await post(
      `/api/portfolios/${id}/trades`,
      { symbol: 'AAPL', side: 'buy', quantity: '3' },
      bearer(alice),
    );
    expect(trade.status).toBe(201);
    const positions = (await (
      await fetch(`${server.url}/api/portfolios/${id}/positions`, { headers: bearer(alice) })
    ).json()) as {
      items: Array<{ symbol: string; quantity: string }>;
    };
    expect(positions.items).toEqual([expect.objectContaining({ symbol: 'AAPL', quantity: '3' })]);

    expect((await fetch(`${server.url}/api/portfolios/${id}`, { headers: bearer(bob) })).status).toBe(404);
    const bobTrade = await post(
      `/api/portfolios/${id}/trades`,
      { symbol: 'AAPL', side: 'sell', quantity: '1' },
      bearer(bob),
    );
    expect(bobTrade.status).toBe(404);
    const after = (await (
      await fetch(`${server.url}/api/portfolios/${id}/positions`, { headers: bearer(alice) })
    ).json()) as {
      items: Array<{ quantity: string }>;
    };
    expect(after.items[0]?.quantity).toBe('3');
  });
});
