/**
 * Authentication: turns a request into the caller ({@link AuthUser}) or `null`.
 *
 * The host chooses one of three modes through the router's `auth` option:
 * - `{ jwt }`: a bearer-token verifier built on `jose`. Algorithms are pinned (never `none`), the
 *   key kind must match the algorithm family (no HS/RS confusion), `exp` and `sub` are required,
 *   `nbf`/`iat` in the future (beyond a small tolerance) are refused, issuer and audience are
 *   checked when set. Keys come from a shared secret, a public key, or a JWKS URL (cached, refetched
 *   on an unknown `kid`).
 * - `{ resolve }`: the host's own sessions; its function maps a request to a user or `null`.
 * - `{ development: true }`: no authentication at all, every request is one fixed user. Logged as a
 *   warning when created, and refused when `NODE_ENV` is `production`.
 *
 * The option is validated when the authenticator is created: a misconfiguration throws a
 * `FoliokitError` `INVALID_CONFIGURATION` naming the field. A bad, expired or forged token never
 * throws: the authenticator answers `null` and the router answers 401.
 */
import { type Clock, consoleLogger, FoliokitError, type Logger, systemClock } from '@foliokit/core';
import {
  type CryptoKey,
  createLocalJWKSet,
  importSPKI,
  importX509,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type KeyObject,
} from 'jose';
import { z } from 'zod';
import type { AuthUser } from './route-table.js';

/** HMAC algorithms (a shared secret), with the minimum secret length in bytes RFC 7518 §3.2 asks for. */
export const HMAC_ALGORITHMS = { HS256: 32, HS384: 48, HS512: 64 } as const;
/** Public-key algorithms (a public key or a JWKS). */
export const PUBLIC_KEY_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** An HMAC JWS algorithm. */
export type HmacAlgorithm = keyof typeof HMAC_ALGORITHMS;
/** A public-key JWS algorithm. */
export type PublicKeyAlgorithm = (typeof PUBLIC_KEY_ALGORITHMS)[number];
/** A JWS algorithm the verifier may be pinned to (`none` is not one). */
export type JwtAlgorithm = HmacAlgorithm | PublicKeyAlgorithm;

/** A public key object: a Web Crypto `CryptoKey` or a Node `KeyObject` of type `public`. */
export type PublicKeyObject = CryptoKey | KeyObject;

/** Options of the JWT bearer verifier. Exactly one of `secret`, `publicKey`, `jwksUrl`. */
export interface JwtAuthOptions {
  /** The shared secret of HS256/384/512 (at least 32/48/64 bytes). */
  secret?: string | Uint8Array;
  /** The public key: SPKI PEM (`BEGIN PUBLIC KEY`), an X.509 PEM certificate, or a key object. */
  publicKey?: string | PublicKeyObject;
  /**
   * The identity provider's JWKS (http or https). Fetched on first use, kept for 10 minutes,
   * refetched at once on an unknown `kid` (at most once per 30 seconds).
   */
  jwksUrl?: string;
  /** The accepted algorithms, pinned: all HMAC with `secret`, all public-key otherwise. */
  algorithms: JwtAlgorithm[];
  /** The required `iss`, when set. */
  issuer?: string;
  /** The accepted `aud` (one of them), when set. */
  audience?: string | string[];
  /**
   * The claim holding the roles (an array of strings; anything else means no roles). A name with
   * dots that is not itself a claim is read as a path (`realm_access.roles`). @default 'roles'
   */
  rolesClaim?: string;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (0 to 300). @default 5 */
  clockToleranceSec?: number;
}

/** The user a host's `resolve` function returns. */
export interface ResolvedUser {
  userId: string;
  roles?: string[];
}

/** The `auth` option: one of the three modes. */
export type AuthOptions =
  | { jwt: JwtAuthOptions }
  | {
      /**
       * Maps a request to its user (the host's sessions), or `null` for no or bad credentials.
       * What it throws propagates (the router answers 500); a malformed result is a configuration
       * error.
       */
      resolve: (request: Request) => Promise<ResolvedUser | null>;
    }
  | {
      /** No authentication: every request is `userId` with `roles`. Never in production. */
      development: true;
      /** @default 'developer' */
      userId?: string;
      /** @default [] */
      roles?: string[];
    };

/** What {@link createAuthenticator} needs besides the option. */
export interface AuthenticatorDeps {
  /** Where the development-mode warning and JWKS fetch failures go. @default consoleLogger */
  logger?: Logger;
  /** The time tokens are checked against and the JWKS cache ages by. @default systemClock */
  clock?: Pick<Clock, 'now'>;
  /** The fetch used for the JWKS. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Resolves the caller of a request, or `null` when it has no valid credentials. */
export type Authenticator = ((request: Request) => Promise<AuthUser | null>) & {
  /** The mode the host chose (the OpenAPI document declares bearer auth for `jwt`). */
  readonly mode: 'jwt' | 'resolve' | 'development';
};

/** The warning logged when the development mode is used. */
export const DEVELOPMENT_AUTH_WARNING =
  'auth: development mode, every request is treated as one fixed user without any credential. Never use it in production.';

const DEFAULT_DEVELOPMENT_USER = 'developer';
const DEFAULT_ROLES_CLAIM = 'roles';
const DEFAULT_CLOCK_TOLERANCE_SEC = 5;
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_TIMEOUT_MS = 5_000;
const JWKS_MAX_BYTES = 512 * 1024;
/** A bearer token longer than this is refused unread. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** The longest user id (the engine's owner ids hold up to 200 characters). */
const MAX_USER_ID_LENGTH = 200;
const MAX_ROLES = 100;
const MAX_ROLE_LENGTH = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/** True for a user id or role: 1 to `max` characters, well-formed UTF-16, no control character. */
function isSaneText(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= max &&
    !CONTROL_CHARACTERS.test(value) &&
    (value as string & { isWellFormed(): boolean }).isWellFormed()
  );
}

const userIdSchema = z
  .string()
  .refine((v) => isSaneText(v, MAX_USER_ID_LENGTH), 'must be 1 to 200 characters without control characters');
const rolesSchema = z
  .array(z.string().refine((v) => isSaneText(v, MAX_ROLE_LENGTH), 'must be 1 to 200 characters'))
  .max(MAX_ROLES);

const isFunction = (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function';
const isPublicKeyObject = (v: unknown): v is PublicKeyObject =>
  typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'public';
const isPemPublicKey = (v: string) => /^-----BEGIN (PUBLIC KEY|CERTIFICATE)-----/.test(v.trim());
const secretBytes = (secret: string | Uint8Array) =>
  typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;

const jwtSchema = z
  .strictObject({
    secret: z.union([z.string(), z.instanceof(Uint8Array)], { error: 'must be a string or a Uint8Array' }).optional(),
    publicKey: z
      .union([
        z.string().refine(isPemPublicKey, 'must be a PEM public key (BEGIN PUBLIC KEY) or certificate'),
        z.custom<PublicKeyObject>(isPublicKeyObject, 'must be a public CryptoKey or KeyObject'),
      ])
      .optional(),
    jwksUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    algorithms: z
      .array(
        z.enum([...(Object.keys(HMAC_ALGORITHMS) as HmacAlgorithm[]), ...PUBLIC_KEY_ALGORITHMS], {
          error: (issue) =>
            `unsupported algorithm ${JSON.stringify(issue.input)} (never "none"; one of HS256/384/512, RS*, PS*, ES*, EdDSA)`,
        }),
        { error: 'is required: the list of accepted algorithms' },
      )
      .min(1, 'must list at least one algorithm'),
    issuer: z.string().min(1).optional(),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    rolesClaim: z.string().min(1).max(200).optional(),
    clockToleranceSec: z.number().min(0).max(300).optional(),
  })
  .superRefine(checkKeyMatchesAlgorithms);

type ParsedJwt = z.output<typeof jwtSchema>;

/** One key source, of the family the algorithms need, and a secret long enough for them. */
function checkKeyMatchesAlgorithms(v: ParsedJwt, ctx: z.RefinementCtx): void {
  const sources = (['secret', 'publicKey', 'jwksUrl'] as const).filter((k) => v[k] !== undefined);
  if (sources.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: sources.length === 0 ? [] : [sources[1] as string],
      message: 'needs exactly one of secret, publicKey or jwksUrl',
    });
    return;
  }
  const hmac = v.algorithms.filter((a): a is HmacAlgorithm => a in HMAC_ALGORITHMS);
  if (v.secret !== undefined) {
    if (hmac.length !== v.algorithms.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['algorithms'],
        message:
          'with a secret only HS256/HS384/HS512 are allowed (a public-key algorithm with a secret invites algorithm confusion)',
      });
    }
    if (typeof v.secret === 'string' && v.secret.trim().startsWith('-----BEGIN')) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'looks like a PEM key: pass it as publicKey' });
    }
    const needed = Math.max(...hmac.map((a) => HMAC_ALGORITHMS[a]), HMAC_ALGORITHMS.HS256);
    if (secretBytes(v.secret).byteLength < needed) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: `must be at least ${needed} bytes` });
    }
  } else if (hmac.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['algorithms'],
      message: `${hmac.join(', ')} need a secret: with a public key or a JWKS only public-key algorithms are allowed`,
    });
  }
}

const resolveSchema = z.strictObject({
  resolve: z.custom<(request: Request) => Promise<ResolvedUser | null>>(isFunction, 'must be a function'),
});

const developmentSchema = z.strictObject({
  development: z.literal(true, { error: 'must be true' }),
  userId: userIdSchema.optional(),
  roles: rolesSchema.optional(),
});

const resolvedUserSchema = z.object({ userId: userIdSchema, roles: rolesSchema.optional() });

const MODES = ['jwt', 'resolve', 'development'] as const;

/** Converts the first zod issue into `INVALID_CONFIGURATION` naming the field under `root`. */
function configError(error: z.ZodError, root: string): FoliokitError {
  const issue = error.issues[0];
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  const field = [root, ...(issue?.path.map(String) ?? []), ...unknownKey].join('.');
  return new FoliokitError('INVALID_CONFIGURATION', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}

/**
 * Validates the `auth` option.
 * @param field the option's name in messages and `details.field`. @default 'auth'
 * @throws FoliokitError `INVALID_CONFIGURATION` naming the field at fault
 */
export function parseAuthOptions(input: unknown, field = 'auth'): AuthOptions {
  const keys = typeof input === 'object' && input !== null ? Object.keys(input) : [];
  const modes = MODES.filter((m) => keys.includes(m));
  if (modes.length !== 1) {
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      `${field}: must be exactly one of { jwt }, { resolve } or { development: true }`,
      { field },
    );
  }
  const mode = modes[0] as (typeof MODES)[number];
  if (mode === 'jwt') {
    const outer = z.strictObject({ jwt: jwtSchema }).safeParse(input);
    if (!outer.success) throw configError(outer.error, field);
    return outer.data as AuthOptions;
  }
  const result = (mode === 'resolve' ? resolveSchema : developmentSchema).safeParse(input);
  if (!result.success) throw configError(result.error, field);
  return result.data as AuthOptions;
}

/**
 * Creates the authenticator of the `auth` option (validated here by `parseAuthOptions`).
 * The development mode logs {@link DEVELOPMENT_AUTH_WARNING} on `deps.logger` once, now.
 * @throws FoliokitError `INVALID_CONFIGURATION` on a misconfiguration, never later for a bad token
 */
export function createAuthenticator(auth: unknown, deps: AuthenticatorDeps = {}): Authenticator {
  const options = parseAuthOptions(auth);
  const logger = deps.logger ?? consoleLogger;
  if ('jwt' in options) {
    return withMode(
      'jwt',
      jwtAuthenticator(options.jwt, { logger, clock: deps.clock ?? systemClock, fetch: deps.fetch }),
    );
  }
  if ('resolve' in options) return withMode('resolve', resolveAuthenticator(options.resolve));
  return withMode('development', developmentAuthenticator(options, logger));
}

function withMode(mode: Authenticator['mode'], fn: (request: Request) => Promise<AuthUser | null>): Authenticator {
  return Object.assign(fn, { mode }) as Authenticator;
}

function resolveAuthenticator(resolve: (request: Request) => Promise<ResolvedUser | null>) {
  return async (request: Request): Promise<AuthUser | null> => {
    const resolved = await resolve(request);
    if (resolved === null || resolved === undefined) return null;
    const parsed = resolvedUserSchema.safeParse(resolved);
    if (!parsed.success) throw configError(parsed.error, 'auth.resolve()');
    return { userId: parsed.data.userId, roles: Object.freeze([...(parsed.data.roles ?? [])]) };
  };
}

function developmentAuthenticator(options: { userId?: string; roles?: string[] }, logger: Logger) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.NODE_ENV === 'production') {
    throw new FoliokitError(
      'INVALID_CONFIGURATION',
      'auth.development: refused while NODE_ENV is "production" (use jwt or resolve)',
      { field: 'auth.development' },
    );
  }
  logger.warn(DEVELOPMENT_AUTH_WARNING, { userId: options.userId ?? DEFAULT_DEVELOPMENT_USER });
  const user: AuthUser = {
    userId: options.userId ?? DEFAULT_DEVELOPMENT_USER,
    roles: Object.freeze([...(options.roles ?? [])]),
  };
  return async (): Promise<AuthUser> => user;
}

interface JwtDeps {
  logger: Logger;
  clock: Pick<Clock, 'now'>;
  fetch: typeof fetch | undefined;
}

function jwtAuthenticator(options: JwtAuthOptions, deps: JwtDeps) {
  const getKey = keyResolver(options, deps);
  const toleranceSec = options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  const rolesClaim = options.rolesClaim ?? DEFAULT_ROLES_CLAIM;
  return async (request: Request): Promise<AuthUser | null> => {
    const token = bearerToken(request.headers.get('authorization'));
    if (token === null) return null;
    const nowMs = deps.clock.now();
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms: options.algorithms,
        ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
        clockTolerance: toleranceSec,
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(nowMs),
      });
      // jose checks a future `iat` only with maxTokenAge: a token issued in the future is refused here.
      if (typeof payload.iat === 'number' && payload.iat > nowMs / 1000 + toleranceSec) return null;
      if (!isSaneText(payload.sub, MAX_USER_ID_LENGTH)) return null;
      return { userId: payload.sub, roles: Object.freeze(rolesOf(payload, rolesClaim)) };
    } catch (error) {
      deps.logger.debug('auth: bearer token refused', {
        reason: error instanceof Error ? error.message : String(error),
      });
      return null;
    }
  };
}

/** The token of an `Authorization: Bearer <jws>` header, or null. */
function bearerToken(header: string | null): string | null {
  if (header === null || header.length > MAX_TOKEN_LENGTH) return null;
  return BEARER.exec(header.trim())?.[1] ?? null;
}

/** The roles claim (or dotted path): an array of sane strings, else no roles. */
function rolesOf(payload: JWTPayload, claim: string): string[] {
  let value: unknown = payload[claim];
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((node, key) => {
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
      return (node as Record<string, unknown>)[key];
    }, payload);
  }
  const parsed = rolesSchema.safeParse(value);
  return parsed.success ? [...parsed.data] : [];
}

/** The key for a token's header: the secret, the public key (imported once per algorithm) or the JWKS. */
function keyResolver(options: JwtAuthOptions, deps: JwtDeps): JWTVerifyGetKey {
  if (options.secret !== undefined) {
    const secret = secretBytes(options.secret);
    return () => secret;
  }
  if (options.jwksUrl !== undefined) return jwksResolver(options.jwksUrl, deps);
  const publicKey = options.publicKey as string | PublicKeyObject;
  if (typeof publicKey !== 'string') return () => publicKey;
  const imported = new Map<string, Promise<CryptoKey>>();
  return (header) => {
    const alg = header.alg as string;
    let key = imported.get(alg);
    if (key === undefined) {
      key = publicKey.trim().startsWith('-----BEGIN CERTIFICATE')
        ? importX509(publicKey, alg)
        : importSPKI(publicKey, alg);
      imported.set(alg, key);
      key.catch((error: unknown) =>
        deps.logger.error('auth: jwt.publicKey cannot be used', {
          alg,
          reason: error instanceof Error ? error.message : String(error),
        }),
      );
    }
    return key;
  };
}

/**
 * A JWKS cache: fetched on first use and kept {@link JWKS_MAX_AGE_MS}; a token whose `kid` is not
 * in the set refetches it, at most once per {@link JWKS_COOLDOWN_MS} (so random `kid`s cannot make
 * us hammer the provider). A failed refresh keeps the previous keys. Concurrent refreshes share one
 * fetch. Key selection (kid, alg, use) is jose's `createLocalJWKSet`.
 */
function jwksResolver(url: string, deps: JwtDeps): JWTVerifyGetKey {
  const doFetch = deps.fetch ?? globalThis.fetch;
  let keys: JWTVerifyGetKey | null = null;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | null = null;

  const refresh = (): Promise<void> => {
    if (inflight !== null) return inflight;
    attemptedAt = deps.clock.now();
    inflight = fetchJwks(url, doFetch)
      .then((set) => {
        keys = createLocalJWKSet(set);
        fetchedAt = deps.clock.now();
      })
      .catch((error: unknown) => {
        deps.logger.warn('auth: JWKS fetch failed', {
          jwksUrl: url,
          reason: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        inflight = null;
      });
    return inflight;
  };
  const coolingDown = () => deps.clock.now() - attemptedAt < JWKS_COOLDOWN_MS;

  return async (header, token) => {
    if ((keys === null || deps.clock.now() - fetchedAt >= JWKS_MAX_AGE_MS) && !coolingDown()) await refresh();
    else if (inflight !== null) await inflight;
    if (keys === null) throw new Error('no JWKS available');
    try {
      return await keys(header, token);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || coolingDown()) throw error;
      await refresh();
      return await keys(header, token);
    }
  };
}

/** Fetches and checks a JWKS document. */
async function fetchJwks(url: string, doFetch: typeof fetch): Promise<JSONWebKeySet> {
  const response = await doFetch(url, {
    headers: { accept: 'application/jwk-set+json, application/json' },
    signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > JWKS_MAX_BYTES) throw new Error('JWKS document too large');
  const body: unknown = JSON.parse(text);
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new Error('not a JWKS document (no "keys" array)');
  }
  return body as JSONWebKeySet;
}
