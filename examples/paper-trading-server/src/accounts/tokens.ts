/**
 * Tokens: short-lived HS256 access JWTs (`sub` = user id, `roles`), and opaque refresh tokens
 * stored only as their SHA-256 (a database leak hands out no usable token).
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/** How long an access token lives: 15 minutes. */
export const ACCESS_TTL_SECONDS = 15 * 60;
/** How long a refresh token lives: 30 days. */
export const REFRESH_TTL_MS = 30 * 86_400_000;

/** Signs an access token for a user. */
export function signAccessToken(secret: Uint8Array, user: { id: string; roles: readonly string[] }): Promise<string> {
  return new SignJWT({ roles: [...user.roles] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TTL_SECONDS}s`)
    .sign(secret);
}

/** A new random refresh token (what the client keeps). */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the store keeps of a refresh token. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A new random id with a prefix (`usr_…`, `fam_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
