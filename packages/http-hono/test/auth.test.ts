/**
 * The auth matrix: every way a bearer token can be wrong answers `null` (401 through the router),
 * never a throw; every misconfiguration throws `INVALID_CONFIGURATION` naming the field. Keys are
 * real (jose), the JWKS is served by a real HTTP server on 127.0.0.1, and time is a manual clock.
 */

import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type FoliokitError, isFoliokitError, type Logger, silentLogger } from '@foliokit/core';
import { createManualClock, createTestEngine, type ManualClock } from '@foliokit/core/testing';
import {
  base64url,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthOptions, createAuthenticator, DEVELOPMENT_AUTH_WARNING, parseAuthOptions } from '../src/auth.js';

const SECRET = 'an HS256 secret of at least 32 bytes!';
const START = '2026-01-05T10:00:00.000Z';
const ISSUER = 'https://issuer.example.com';
const AUDIENCE = 'foliokit-api';

/** Seconds since the epoch on the clock. */
const nowSec = (clock: ManualClock) => Math.floor(clock.now() / 1000);

interface TokenSpec {
  alg?: string;
  kid?: string;
  claims?: JWTPayload;
  /** Leaves `exp` out. */
  noExp?: boolean;
}

/** Signs a token valid for 5 minutes from the clock's time unless the claims say otherwise. */
async function sign(key: CryptoKey | Uint8Array, clock: ManualClock, spec: TokenSpec = {}): Promise<string> {
  const iat = nowSec(clock);
  const claims: JWTPayload = { sub: 'alice', iat, ...(spec.noExp ? {} : { exp: iat + 300 }), ...spec.claims };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: spec.alg ?? 'HS256', typ: 'JWT', ...(spec.kid ? { kid: spec.kid } : {}) })
    .sign(key);
}

const bearer = (token: string) => new Request('http://x/portfolios', { headers: { authorization: `Bearer ${token}` } });
const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** Runs `fn` and returns the FoliokitError it throws. */
function thrown(fn: () => unknown): FoliokitError {
  try {
    fn();
  } catch (error) {
    if (isFoliokitError(error)) return error;
    throw error;
  }
  throw new Error('expected a FoliokitError');
}

describe('jwt with a shared secret', () => {
  const key = new TextEncoder().encode(SECRET);
  const clock = createManualClock(START);
  const auth = createAuthenticator(
    { jwt: { secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE } },
    { clock, logger: silentLogger },
  );
  const good = (claims: JWTPayload = {}) => sign(key, clock, { claims: { iss: ISSUER, aud: AUDIENCE, ...claims } });

  it('maps a valid token: sub → userId, roles claim → roles', async () => {
    expect(auth.mode).toBe('jwt');
    expect(await auth(bearer(await good({ roles: ['admin', 'ops'] })))).toEqual({
      userId: 'alice',
      roles: ['admin', 'ops'],
    });
    expect(await auth(bearer(await good()))).toEqual({ userId: 'alice', roles: [] });
  });

  it('accepts the scheme in any case, and nothing but a bearer JWS', async () => {
    const token = await good();
    const as = (authorization: string) => new Request('http://x/', { headers: { authorization } });
    expect(await auth(as(`bearer ${token}`))).toMatchObject({ userId: 'alice' });
    expect(await auth(new Request('http://x/'))).toBeNull();
    expect(await auth(as(`Basic ${token}`))).toBeNull();
    expect(await auth(as('Bearer'))).toBeNull();
    expect(await auth(as(`Bearer ${token} extra`))).toBeNull();
    expect(await auth(as(`Bearer ${token}${'A'.repeat(20_000)}`))).toBeNull();
  });

  it('answers null for garbage, never throws', async () => {
    for (const token of [
      'garbage',
      'a.b.c',
      'eyJhbGciOiJIUzI1NiJ9.e30.',
      '...',
      `${encodeJson({})}.${encodeJson({})}.x`,
    ]) {
      await expect(auth(bearer(token))).resolves.toBeNull();
    }
  });

  it('refuses an expired token, and honours the 5 s tolerance', async () => {
    const t = nowSec(clock);
    expect(await auth(bearer(await good({ iat: t - 600, exp: t - 60 })))).toBeNull();
    expect(await auth(bearer(await good({ iat: t - 600, exp: t - 3 })))).not.toBeNull();
  });

  it('refuses a token without exp', async () => {
    const token = await sign(key, clock, { noExp: true, claims: { iss: ISSUER, aud: AUDIENCE } });
    expect(await auth(bearer(token))).toBeNull();
    const stringExp = await good({ exp: String(nowSec(clock) + 300) as unknown as number });
    expect(await auth(bearer(stringExp))).toBeNull();
  });

  it('refuses a token not yet valid (nbf in the future beyond the tolerance)', async () => {
    const t = nowSec(clock);
    expect(await auth(bearer(await good({ nbf: t + 60 })))).toBeNull();
    expect(await auth(bearer(await good({ nbf: t + 3 })))).not.toBeNull();
  });

  it('refuses a token issued in the future (iat beyond the tolerance)', async () => {
    const t = nowSec(clock);
    expect(await auth(bearer(await good({ iat: t + 60, exp: t + 600 })))).toBeNull();
    expect(await auth(bearer(await good({ iat: t + 3, exp: t + 600 })))).not.toBeNull();
  });

  it('refuses a wrong signature and tampered claims', async () => {
    const other = await sign(new TextEncoder().encode('another secret of at least 32 bytes!'), clock, {
      claims: { iss: ISSUER, aud: AUDIENCE },
    });
    expect(await auth(bearer(other))).toBeNull();
    const [header, , signature] = (await good({ roles: ['user'] })).split('.');
    const t = nowSec(clock);
    const forged = encodeJson({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: t, exp: t + 300, roles: ['admin'] });
    expect(await auth(bearer(`${header}.${forged}.${signature}`))).toBeNull();
  });

  it('refuses a wrong issuer or audience, and a token missing them', async () => {
    expect(await auth(bearer(await good({ iss: 'https://evil.example.com' })))).toBeNull();
    expect(await auth(bearer(await good({ aud: 'another-api' })))).toBeNull();
    expect(await auth(bearer(await sign(key, clock, { claims: { aud: AUDIENCE } })))).toBeNull();
    expect(await auth(bearer(await sign(key, clock, { claims: { iss: ISSUER } })))).toBeNull();
    expect(await auth(bearer(await good({ aud: ['another-api', AUDIENCE] })))).not.toBeNull();
  });

  it('refuses alg none, hand-built, with or without a signature', async () => {
    const t = nowSec(clock);
    const payload = encodeJson({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: t, exp: t + 300, roles: ['admin'] });
    for (const alg of ['none', 'None', 'NONE']) {
      const header = encodeJson({ alg, typ: 'JWT' });
      expect(await auth(bearer(`${header}.${payload}.`))).toBeNull();
      expect(await auth(bearer(`${header}.${payload}.${base64url.encode('sig')}`))).toBeNull();
    }
  });

  it('refuses an algorithm that is not pinned, even with the right secret', async () => {
    const hs512 = await sign(new TextEncoder().encode(SECRET.repeat(2)), clock, {
      alg: 'HS512',
      claims: { iss: ISSUER, aud: AUDIENCE },
    });
    expect(await auth(bearer(hs512))).toBeNull();
  });

  it('requires a sane sub', async () => {
    const t = nowSec(clock);
    for (const sub of [undefined, '', 42, 'a\u0000b', 'x'.repeat(201), '\uD800']) {
      const token = await new SignJWT({
        iss: ISSUER,
        aud: AUDIENCE,
        iat: t,
        exp: t + 300,
        ...(sub === undefined ? {} : { sub }),
      } as JWTPayload)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(key);
      expect(await auth(bearer(token)), JSON.stringify(sub)).toBeNull();
    }
  });

  it('reads roles only from an array of strings', async () => {
    const rolesOf = async (roles: unknown) => (await auth(bearer(await good({ roles }))))?.roles;
    expect(await rolesOf('admin')).toEqual([]);
    expect(await rolesOf('admin user')).toEqual([]);
    expect(await rolesOf(['admin', 7])).toEqual([]);
    expect(await rolesOf({ admin: true })).toEqual([]);
    expect(await rolesOf(null)).toEqual([]);
    expect(await rolesOf(['user'])).toEqual(['user']);
  });
});

describe('roles claim mapping', () => {
  const key = new TextEncoder().encode(SECRET);
  const clock = createManualClock(START);
  const make = (rolesClaim: string) =>
    createAuthenticator(
      { jwt: { secret: SECRET, algorithms: ['HS256'], rolesClaim } },
      { clock, logger: silentLogger },
    );

  it('reads a namespaced claim, and a dotted path when no claim has that name', async () => {
    const token = await sign(key, clock, {
      claims: {
        roles: ['ignored'],
        'https://example.com/roles': ['admin'],
        realm_access: { roles: ['auditor'] },
        'realm_access.roles': undefined,
      },
    });
    expect((await make('https://example.com/roles')(bearer(token)))?.roles).toEqual(['admin']);
    expect((await make('realm_access.roles')(bearer(token)))?.roles).toEqual(['auditor']);
    expect((await make('groups')(bearer(token)))?.roles).toEqual([]);
    expect((await make('realm_access.__proto__')(bearer(token)))?.roles).toEqual([]);
  });
});

describe('jwt with a public key', () => {
  const clock = createManualClock(START);
  let privateKey: CryptoKey;
  let publicPem: string;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
  });

  it('verifies RS256 with a PEM public key', async () => {
    const auth = createAuthenticator({ jwt: { publicKey: publicPem, algorithms: ['RS256'] } }, { clock });
    expect(await auth(bearer(await sign(privateKey, clock, { alg: 'RS256' })))).toEqual({ userId: 'alice', roles: [] });
  });

  it('refuses the HS/RS swap: an HS256 token signed with the RS256 public key as its secret', async () => {
    const auth = createAuthenticator({ jwt: { publicKey: publicPem, algorithms: ['RS256'] } }, { clock });
    const pemAsSecret = new TextEncoder().encode(publicPem);
    const attack = await sign(pemAsSecret, clock, { alg: 'HS256', claims: { roles: ['admin'] } });
    expect(await auth(bearer(attack))).toBeNull();
    // and the configuration that would let it through is refused at creation
    expect(
      thrown(() => createAuthenticator({ jwt: { publicKey: publicPem, algorithms: ['RS256', 'HS256'] } })).details
        .field,
    ).toBe('auth.jwt.algorithms');
    expect(thrown(() => createAuthenticator({ jwt: { secret: publicPem, algorithms: ['HS256'] } })).details.field).toBe(
      'auth.jwt.secret',
    );
  });

  it('accepts a Node KeyObject and refuses a private or secret key object', async () => {
    const { publicKey, privateKey: nodePrivate } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const auth = createAuthenticator({ jwt: { publicKey, algorithms: ['ES256'] } }, { clock });
    const token = await new SignJWT({ sub: 'bob', exp: nowSec(clock) + 60 })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(nodePrivate);
    expect(await auth(bearer(token))).toEqual({ userId: 'bob', roles: [] });
    expect(
      thrown(() => createAuthenticator({ jwt: { publicKey: nodePrivate, algorithms: ['ES256'] } })).details.field,
    ).toBe('auth.jwt.publicKey');
    const secretKey = createSecretKey(Buffer.from(SECRET));
    expect(
      thrown(() => createAuthenticator({ jwt: { publicKey: secretKey, algorithms: ['ES256'] } })).details.field,
    ).toBe('auth.jwt.publicKey');
  });

  it('answers null (and logs) when the PEM does not fit the algorithm', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (message) => void errors.push(message) };
    const auth = createAuthenticator({ jwt: { publicKey: publicPem, algorithms: ['ES256'] } }, { clock, logger });
    const ec = await generateKeyPair('ES256');
    expect(await auth(bearer(await sign(ec.privateKey, clock, { alg: 'ES256' })))).toBeNull();
    expect(errors.some((m) => m.includes('publicKey'))).toBe(true);
  });
});

describe('jwt with a JWKS served on 127.0.0.1', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  let status = 200;
  let served: JWK[] = [];
  const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {};

  beforeAll(async () => {
    for (const kid of ['a', 'b']) {
      const pair = await generateKeyPair('ES256', { extractable: true });
      keys[kid] = {
        privateKey: pair.privateKey,
        jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' },
      };
    }
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const setup = () => {
    hits = 0;
    status = 200;
    const clock = createManualClock(START);
    const auth = createAuthenticator({ jwt: { jwksUrl: url, algorithms: ['ES256'] } }, { clock, logger: silentLogger });
    const token = (kid: string, claims: JWTPayload = {}) =>
      sign((keys[kid] as { privateKey: CryptoKey }).privateKey, clock, { alg: 'ES256', kid, claims });
    const jwk = (kid: string) => (keys[kid] as { jwk: JWK }).jwk;
    return { clock, auth, token, jwk };
  };

  it('fetches once, caches, and coalesces concurrent first requests', async () => {
    const { auth, token, jwk } = setup();
    served = [jwk('a')];
    const t = await token('a');
    const users = await Promise.all(Array.from({ length: 20 }, () => auth(bearer(t))));
    expect(users.every((u) => u?.userId === 'alice')).toBe(true);
    expect(await auth(bearer(await token('a')))).not.toBeNull();
    expect(hits).toBe(1);
  });

  it('follows a key rotation: the new kid is accepted after a refetch, the removed kid is refused', async () => {
    const { clock, auth, token, jwk } = setup();
    served = [jwk('a')];
    expect(await auth(bearer(await token('a')))).not.toBeNull();
    expect(hits).toBe(1);

    served = [jwk('b')]; // the provider rotates: b replaces a
    await clock.advance(31_000); // beyond the refetch cooldown
    expect(await auth(bearer(await token('b')))).toEqual({ userId: 'alice', roles: [] });
    expect(hits).toBe(2);
    expect(await auth(bearer(await token('a')))).toBeNull();
    await clock.advance(31_000);
    expect(await auth(bearer(await token('a')))).toBeNull(); // refetched: a is gone for good
    expect(hits).toBe(3);
    expect(await auth(bearer(await token('b')))).not.toBeNull();
  });

  it('refetches an unknown kid at most once per cooldown (random kids cannot hammer the provider)', async () => {
    const { clock, auth, token, jwk } = setup();
    served = [jwk('a')];
    expect(await auth(bearer(await token('a')))).not.toBeNull();
    await clock.advance(31_000);
    for (let i = 0; i < 10; i++) {
      const forged = await new SignJWT({ sub: 'mallory', exp: nowSec(clock) + 60 })
        .setProtectedHeader({ alg: 'ES256', kid: `random-${i}` })
        .sign((keys.b as { privateKey: CryptoKey }).privateKey);
      expect(await auth(bearer(forged))).toBeNull();
    }
    expect(hits).toBe(2);
  });

  it('refreshes a set older than 10 minutes, and keeps the old keys when the provider fails', async () => {
    const { clock, auth, token, jwk } = setup();
    served = [jwk('a')];
    expect(await auth(bearer(await token('a')))).not.toBeNull();
    status = 503;
    await clock.advance(11 * 60_000);
    expect(await auth(bearer(await token('a')))).not.toBeNull();
    expect(hits).toBe(2);
    status = 200;
    served = [jwk('b')];
    await clock.advance(31_000);
    expect(await auth(bearer(await token('b')))).not.toBeNull();
    expect(hits).toBe(3);
  });

  it('answers null, without throwing, while the JWKS cannot be fetched', async () => {
    const { auth, token, jwk } = setup();
    served = [jwk('a')];
    status = 500;
    await expect(auth(bearer(await token('a')))).resolves.toBeNull();
    const down = createAuthenticator(
      { jwt: { jwksUrl: 'http://127.0.0.1:1/jwks.json', algorithms: ['ES256'] } },
      { logger: silentLogger },
    );
    await expect(down(bearer(await token('a')))).resolves.toBeNull();
  });

  it('refuses an HS256 token whatever its kid (no secret exists for a JWKS)', async () => {
    const { clock, auth, jwk } = setup();
    served = [jwk('a')];
    const attack = await sign(new TextEncoder().encode(JSON.stringify(jwk('a'))), clock, { alg: 'HS256', kid: 'a' });
    expect(await auth(bearer(attack))).toBeNull();
  });
});

describe('resolve and development modes', () => {
  it('resolve: the host maps the request; null stays null; roles default to none', async () => {
    const auth = createAuthenticator({
      resolve: async (request: Request) => {
        const id = request.headers.get('x-user');
        return id === null ? null : { userId: id, ...(id === 'root' ? { roles: ['admin'] } : {}) };
      },
    });
    expect(auth.mode).toBe('resolve');
    expect(await auth(new Request('http://x/'))).toBeNull();
    expect(await auth(new Request('http://x/', { headers: { 'x-user': 'bob' } }))).toEqual({
      userId: 'bob',
      roles: [],
    });
    expect(await auth(new Request('http://x/', { headers: { 'x-user': 'root' } }))).toEqual({
      userId: 'root',
      roles: ['admin'],
    });
  });

  it('resolve: a malformed result is a configuration error naming auth.resolve()', async () => {
    const auth = createAuthenticator({ resolve: async () => ({ userId: 'a\u0000' }) });
    await expect(auth(new Request('http://x/'))).rejects.toMatchObject({
      code: 'INVALID_CONFIGURATION',
      details: { field: 'auth.resolve().userId' },
    });
  });

  it('development: every request is the configured user, and a warning is logged at creation', async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void warnings.push(message) };
    const auth = createAuthenticator({ development: true, userId: 'dev', roles: ['admin'] }, { logger });
    expect(warnings).toEqual([DEVELOPMENT_AUTH_WARNING]);
    expect(await auth(new Request('http://x/'))).toEqual({ userId: 'dev', roles: ['admin'] });
    const plain = createAuthenticator({ development: true }, { logger });
    expect(await plain(new Request('http://x/'))).toEqual({ userId: 'developer', roles: [] });
  });

  it('development: refused when NODE_ENV is production', () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(thrown(() => createAuthenticator({ development: true }, { logger: silentLogger })).details.field).toBe(
        'auth.development',
      );
    } finally {
      process.env.NODE_ENV = before;
    }
  });
});

describe('option validation', () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cases: Array<[string, unknown, string]> = [
    ['missing', undefined, 'auth'],
    ['empty', {}, 'auth'],
    ['two modes', { development: true, resolve: async () => null }, 'auth'],
    ['no algorithms', { jwt: { secret: SECRET } }, 'auth.jwt.algorithms'],
    ['empty algorithms', { jwt: { secret: SECRET, algorithms: [] } }, 'auth.jwt.algorithms'],
    ['alg none', { jwt: { secret: SECRET, algorithms: ['none'] } }, 'auth.jwt.algorithms.0'],
    ['unknown alg', { jwt: { secret: SECRET, algorithms: ['HS1'] } }, 'auth.jwt.algorithms.0'],
    ['short secret', { jwt: { secret: 'x'.repeat(31), algorithms: ['HS256'] } }, 'auth.jwt.secret'],
    ['short byte secret', { jwt: { secret: new Uint8Array(31), algorithms: ['HS256'] } }, 'auth.jwt.secret'],
    ['HS512 secret under 64 bytes', { jwt: { secret: 'x'.repeat(40), algorithms: ['HS512'] } }, 'auth.jwt.secret'],
    ['secret with RS256', { jwt: { secret: SECRET, algorithms: ['RS256'] } }, 'auth.jwt.algorithms'],
    ['public key with HS256', { jwt: { publicKey: publicPem, algorithms: ['HS256'] } }, 'auth.jwt.algorithms'],
    [
      'jwks with HS256',
      { jwt: { jwksUrl: 'https://idp.example.com/jwks', algorithms: ['HS256'] } },
      'auth.jwt.algorithms',
    ],
    ['private key as public key', { jwt: { publicKey: privatePem, algorithms: ['RS256'] } }, 'auth.jwt.publicKey'],
    ['jwksUrl not http', { jwt: { jwksUrl: 'file:///etc/jwks.json', algorithms: ['RS256'] } }, 'auth.jwt.jwksUrl'],
    ['jwksUrl ftp', { jwt: { jwksUrl: 'ftp://idp.example.com/jwks', algorithms: ['RS256'] } }, 'auth.jwt.jwksUrl'],
    ['jwksUrl garbage', { jwt: { jwksUrl: 'not a url', algorithms: ['RS256'] } }, 'auth.jwt.jwksUrl'],
    ['no key', { jwt: { algorithms: ['RS256'] } }, 'auth.jwt'],
    [
      'two keys',
      { jwt: { publicKey: publicPem, jwksUrl: 'https://idp.example.com/jwks', algorithms: ['RS256'] } },
      'auth.jwt.jwksUrl',
    ],
    [
      'negative tolerance',
      { jwt: { secret: SECRET, algorithms: ['HS256'], clockToleranceSec: -1 } },
      'auth.jwt.clockToleranceSec',
    ],
    ['empty audience', { jwt: { secret: SECRET, algorithms: ['HS256'], audience: [] } }, 'auth.jwt.audience'],
    ['unknown jwt field', { jwt: { secret: SECRET, algorithms: ['HS256'], algorithm: 'HS256' } }, 'auth.jwt.algorithm'],
    ['resolve not a function', { resolve: 'yes' }, 'auth.resolve'],
    ['development false', { development: false }, 'auth.development'],
    ['development bad user', { development: true, userId: '' }, 'auth.userId'],
  ];

  it.each(cases)('%s → INVALID_CONFIGURATION naming the field', (_name, input, field) => {
    const error = thrown(() => createAuthenticator(input, { logger: silentLogger }));
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('accepts each valid mode', () => {
    const valid: AuthOptions[] = [
      { jwt: { secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: [AUDIENCE], clockToleranceSec: 0 } },
      { jwt: { secret: 'y'.repeat(64), algorithms: ['HS256', 'HS512'] } },
      { jwt: { publicKey: publicPem, algorithms: ['RS256', 'PS256'] } },
      { jwt: { jwksUrl: 'https://idp.example.com/.well-known/jwks.json', algorithms: ['RS256', 'ES256', 'EdDSA'] } },
      { resolve: async () => null },
      { development: true, userId: 'dev', roles: ['admin'] },
    ];
    for (const option of valid) expect(() => parseAuthOptions(option)).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Through the real router (once src/router.ts exists): the same matrix answers 401, admin routes
// answer 403 to a user and 200 to an admin.

const routerPath = fileURLToPath(new URL('../src/router.ts', import.meta.url));

/** Loaded lazily, so the direct matrix above runs whatever state the router is in. */
type RouterModule = typeof import('../src/router.js');

describe.skipIf(!existsSync(routerPath))('through the router', () => {
  const key = new TextEncoder().encode(SECRET);
  const clock = createManualClock(START);
  let app: ReturnType<RouterModule['createFoliokitRouter']> | undefined;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const { createFoliokitRouter } = (await import(pathToFileURL(routerPath).href)) as RouterModule;
    const test = createTestEngine({ clock, prices: { AAPL: '150' } });
    close = test.close;
    app = createFoliokitRouter(test.engine, {
      auth: { jwt: { secret: SECRET, algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE } },
    });
  });
  afterAll(async () => {
    app?.close();
    await close?.();
  });

  const claims = { iss: ISSUER, aud: AUDIENCE };
  const get = async (path: string, token?: string) =>
    (app as NonNullable<typeof app>).request(
      path,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );

  it('answers 401 problem+json with WWW-Authenticate for every bad token', async () => {
    const t = nowSec(clock);
    const bad: Array<[string, string | undefined]> = [
      ['no token', undefined],
      ['garbage', 'garbage'],
      ['expired', await sign(key, clock, { claims: { ...claims, iat: t - 600, exp: t - 60 } })],
      ['no exp', await sign(key, clock, { noExp: true, claims })],
      ['nbf future', await sign(key, clock, { claims: { ...claims, nbf: t + 60 } })],
      ['wrong issuer', await sign(key, clock, { claims: { ...claims, iss: 'https://evil.example.com' } })],
      ['wrong audience', await sign(key, clock, { claims: { ...claims, aud: 'other' } })],
      ['alg none', `${encodeJson({ alg: 'none' })}.${encodeJson({ sub: 'alice', ...claims, exp: t + 60 })}.`],
      ['iat future', await sign(key, clock, { claims: { ...claims, iat: t + 60, exp: t + 600 } })],
      ['wrong signature', await sign(new TextEncoder().encode(`${SECRET}-other`), clock, { claims })],
      ['tampered claims', await tampered()],
    ];
    for (const [name, token] of bad) {
      const res = await get('/portfolios', token);
      expect(res.status, name).toBe(401);
      expect(res.headers.get('content-type'), name).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate'), name).toMatch(/^Bearer/i);
    }
  });

  /** A user's valid token whose payload is swapped for an admin one, keeping the signature. */
  async function tampered(): Promise<string> {
    const [header, payload, signature] = (await sign(key, clock, { claims: { ...claims, roles: ['user'] } })).split(
      '.',
    );
    const forged = {
      ...(JSON.parse(new TextDecoder().decode(base64url.decode(payload as string))) as object),
      roles: ['admin'],
    };
    return `${header}.${encodeJson(forged)}.${signature}`;
  }

  it('refuses the HS/RS swap on a router verifying RS256 with a public key', async () => {
    const { createFoliokitRouter } = (await import(pathToFileURL(routerPath).href)) as RouterModule;
    const rs = await generateKeyPair('RS256', { extractable: true });
    const publicPem = await exportSPKI(rs.publicKey);
    const { engine, close: closeEngine } = createTestEngine({ clock });
    const rsApp = createFoliokitRouter(engine, { auth: { jwt: { publicKey: publicPem, algorithms: ['RS256'] } } });
    try {
      const attack = await sign(new TextEncoder().encode(publicPem), clock, {
        alg: 'HS256',
        claims: { roles: ['admin'] },
      });
      const genuine = await sign(rs.privateKey, clock, { alg: 'RS256' });
      const as = (token: string) => rsApp.request('/portfolios', { headers: { authorization: `Bearer ${token}` } });
      expect((await as(attack)).status).toBe(401);
      expect((await as(genuine)).status).toBe(200);
    } finally {
      rsApp.close();
      await closeEngine();
    }
  });

  it('lets a user in, keeps a user out of admin routes (403), lets an admin in', async () => {
    const user = await sign(key, clock, { claims: { ...claims, roles: ['user'] } });
    const admin = await sign(key, clock, { claims: { ...claims, sub: 'root', roles: ['admin'] } });
    expect((await get('/portfolios', user)).status).toBe(200);
    expect((await get('/admin/scheduler', user)).status).toBe(403);
    expect((await get('/admin/scheduler')).status).toBe(401);
    expect((await get('/admin/scheduler', admin)).status).toBe(200);
  });

  it('refuses a bad auth option when the router is created', async () => {
    const { createFoliokitRouter } = (await import(pathToFileURL(routerPath).href)) as RouterModule;
    const { engine, close: closeEngine } = createTestEngine();
    try {
      expect(
        thrown(() => createFoliokitRouter(engine, { auth: { jwt: { secret: 'short', algorithms: ['HS256'] } } }))
          .details.field,
      ).toBe('auth.jwt.secret');
    } finally {
      await closeEngine();
    }
  });
});
