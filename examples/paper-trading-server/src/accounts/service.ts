/**
 * The accounts: register, login (rate-limited per email and IP), refresh with rotation (a reused
 * refresh token revokes its whole family), logout, the user list, and the seeded users.
 */
import { FoliokitError } from '@foliokit/core';
import { HttpError } from '@foliokit/http-hono';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import type { LoginLimiter } from './rate-limit.js';
import type { AccountStore, UserRow } from './store.js';
import {
  ACCESS_TTL_SECONDS,
  hashRefreshToken,
  newId,
  newRefreshToken,
  REFRESH_TTL_MS,
  signAccessToken,
} from './tokens.js';

/** A user as the API shows it (never the hash). */
export interface PublicUser {
  id: string;
  email: string;
  roles: string[];
  createdAt: string;
}

/** What login, refresh and the demo sign-in answer. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: PublicUser;
}

/** Options of {@link createAccounts}. */
export interface AccountsOptions {
  store: AccountStore;
  /** The HS256 secret access tokens are signed with (the router verifies with the same). */
  secret: Uint8Array;
  limiter: LoginLimiter;
}

/** The account operations the `/auth` routes call. */
export interface Accounts {
  register(email: string, password: string): Promise<PublicUser>;
  login(email: string, password: string, ip: string): Promise<TokenPair>;
  refresh(refreshToken: string): Promise<TokenPair>;
  logout(refreshToken: string): Promise<void>;
  listUsers(): Promise<PublicUser[]>;
  /** Creates (or updates, by email) a user with a known id or a new one: the seeded admin and demo. */
  seedUser(input: { id?: string; email: string; password: string; roles: string[] }): Promise<PublicUser>;
  /** A token pair for an existing user (the demo sign-in). */
  issueFor(userId: string): Promise<TokenPair>;
}

/** Emails are compared trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function publicUser(u: UserRow): PublicUser {
  return { id: u.id, email: u.email, roles: u.roles, createdAt: u.createdAt };
}

const invalidCredentials = () =>
  new HttpError('UNAUTHORIZED', 'Wrong email or password', {
    headers: { 'WWW-Authenticate': 'Bearer realm="foliokit"' },
  });
const invalidRefresh = () => new HttpError('UNAUTHORIZED', 'The refresh token is invalid, expired or revoked');

/** Creates the account operations over a store. */
export function createAccounts(options: AccountsOptions): Accounts {
  const { store, secret, limiter } = options;

  async function issue(user: UserRow, familyId = newId('fam')): Promise<TokenPair> {
    const refreshToken = newRefreshToken();
    await store.insertRefresh({
      tokenHash: hashRefreshToken(refreshToken),
      familyId,
      userId: user.id,
      expiresAt: new Date(Date.now() + REFRESH_TTL_MS).toISOString(),
      usedAt: null,
      revokedAt: null,
    });
    return {
      accessToken: await signAccessToken(secret, user),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: ACCESS_TTL_SECONDS,
      user: publicUser(user),
    };
  }

  return {
    async register(email, password) {
      const user: UserRow = {
        id: newId('usr'),
        email: normalizeEmail(email),
        passwordHash: await hashPassword(password),
        roles: [],
        createdAt: new Date().toISOString(),
      };
      if (!(await store.insertUser(user))) {
        throw new FoliokitError('CONFLICT', 'An account with this email already exists', { field: 'email' });
      }
      return publicUser(user);
    },

    async login(email, password, ip) {
      const normalized = normalizeEmail(email);
      const key = `${normalized}|${ip}`;
      const wait = limiter.retryAfter(key);
      if (wait > 0) {
        throw new HttpError('RATE_LIMITED', 'Too many failed logins: try again later', {
          headers: { 'Retry-After': String(wait) },
          details: { retryAfter: wait },
        });
      }
      const user = await store.findUserByEmail(normalized);
      // An unknown email costs one hash too, and answers exactly like a wrong password.
      const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
      if (!user || !ok) {
        limiter.fail(key);
        throw invalidCredentials();
      }
      limiter.succeed(key);
      return issue(user);
    },

    async refresh(refreshToken) {
      const row = await store.findRefresh(hashRefreshToken(refreshToken));
      if (!row || row.revokedAt !== null) throw invalidRefresh();
      const now = new Date().toISOString();
      // Used before (or by a concurrent call just now): someone replays it. Revoke the family.
      if (row.usedAt !== null || !(await store.markRefreshUsed(row.tokenHash, now))) {
        await store.revokeFamily(row.familyId, now);
        throw invalidRefresh();
      }
      if (row.expiresAt <= now) throw invalidRefresh();
      const user = await store.findUserById(row.userId);
      if (!user) throw invalidRefresh();
      return issue(user, row.familyId);
    },

    async logout(refreshToken) {
      const row = await store.findRefresh(hashRefreshToken(refreshToken));
      if (row) await store.revokeFamily(row.familyId, new Date().toISOString());
    },

    async listUsers() {
      return (await store.listUsers()).map(publicUser);
    },

    async seedUser(input) {
      const email = normalizeEmail(input.email);
      const existing = await store.findUserByEmail(email);
      const user: UserRow = {
        id: existing?.id ?? input.id ?? newId('usr'),
        email,
        passwordHash: await hashPassword(input.password),
        roles: input.roles,
        createdAt: existing?.createdAt ?? new Date().toISOString(),
      };
      await store.upsertUser(user);
      return publicUser((await store.findUserByEmail(email)) ?? user);
    },

    async issueFor(userId) {
      const user = await store.findUserById(userId);
      if (!user) throw new FoliokitError('NOT_FOUND', 'No such user');
      return issue(user);
    },
  };
}
