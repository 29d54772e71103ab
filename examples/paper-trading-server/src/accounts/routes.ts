/**
 * The `/auth` routes: register, login, refresh, logout, the admin's user list, and the demo
 * sign-in. Errors answer problem+json like the foliokit router's.
 */
import { FoliokitError } from '@foliokit/core';
import { ADMIN_ROLE, type Authenticator, HttpError, problem } from '@foliokit/http-hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { Accounts } from './service.js';

/** What the routes need. */
export interface AuthRoutesDeps {
  accounts: Accounts;
  /** Verifies access tokens (the same verifier as the router's). */
  authenticate: Authenticator;
  /** The demo user's id, when the demo is on. */
  demoUserId: string | null;
}

const credentialsSchema = z.strictObject({
  email: z.string().trim().email('must be an email address').max(320),
  password: z.string().min(8, 'must be at least 8 characters').max(200),
});
const loginSchema = z.strictObject({ email: z.string().max(320), password: z.string().max(200) });
const refreshSchema = z.strictObject({ refreshToken: z.string().min(1).max(200) });

/** Reads and validates a JSON body. @throws FoliokitError `VALIDATION_FAILED` naming the field. */
async function body<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new HttpError('MALFORMED_JSON', 'The body must be a JSON object');
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || 'body';
  throw new FoliokitError('VALIDATION_FAILED', `${field} ${issue?.message ?? 'is invalid'}`, { field });
}

function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The `/auth` app (mount it with `app.route('/auth', authRoutes(deps))`). */
export function authRoutes(deps: AuthRoutesDeps): Hono {
  const { accounts, authenticate } = deps;
  const app = new Hono();
  app.onError((error, c) => problem(c, error));

  app.post('/register', async (c) => {
    const { email, password } = await body(c, credentialsSchema);
    return c.json({ user: await accounts.register(email, password) }, 201);
  });
  app.post('/login', async (c) => {
    const { email, password } = await body(c, loginSchema);
    return c.json(await accounts.login(email, password, clientIp(c)));
  });
  app.post('/refresh', async (c) => {
    const { refreshToken } = await body(c, refreshSchema);
    return c.json(await accounts.refresh(refreshToken));
  });
  app.post('/logout', async (c) => {
    const { refreshToken } = await body(c, refreshSchema);
    await accounts.logout(refreshToken);
    return c.body(null, 204);
  });
  app.get('/users', async (c) => {
    const caller = await authenticate(c.req.raw);
    if (!caller) throw new HttpError('UNAUTHORIZED', 'A valid bearer token is required');
    if (!caller.roles.includes(ADMIN_ROLE)) throw new HttpError('FORBIDDEN', 'Only an admin may list users');
    return c.json({ items: await accounts.listUsers() });
  });
  app.post('/demo', async (c) => {
    if (!deps.demoUserId) throw new FoliokitError('NOT_FOUND', 'The demo is off on this server');
    return c.json(await accounts.issueFor(deps.demoUserId));
  });
  return app;
}
