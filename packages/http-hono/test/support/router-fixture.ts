/**
 * A router over a test engine (memory store, manual clock, test provider) for the router, OpenAPI
 * and fuzz tests, with callers named by a header (the host-`resolve` auth mode): `x-test-user` is
 * the user id, `x-test-roles` a comma-separated role list.
 */
import { createTestEngine, type TestEngine } from '@foliokit/core/testing';
import { createFoliokitRouter, type FoliokitRouter, type FoliokitRouterOptions } from '../../src/index.js';

/** The `auth` option of the fixture: the caller is whoever the `x-test-user` header names. */
export const headerAuth = {
  resolve: async (request: Request) => {
    const userId = request.headers.get('x-test-user');
    if (!userId) return null;
    const roles = (request.headers.get('x-test-roles') ?? '').split(',').filter((r) => r !== '');
    return { userId, roles };
  },
};

/** How {@link RouterFixture.call} sends a request. */
export interface CallOptions {
  /** The caller (`null`: no credentials). @default 'alice' */
  user?: string | null;
  roles?: string[];
  /** A JSON value (sent as `application/json`), or a raw string / bytes sent as they are. */
  json?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface RouterFixture extends TestEngine {
  router: FoliokitRouter;
  /** Calls the router in process (`router.request`). */
  call(method: string, path: string, options?: CallOptions): Promise<Response>;
  /** Creates a portfolio owned by `owner` through the engine, with `cash` deposited. */
  portfolio(owner: string, cash?: string): Promise<string>;
}

/** A router over a fresh test engine quoting AAPL at 150 and MSFT at 400. */
export function createRouterFixture(options: Partial<FoliokitRouterOptions> = {}): RouterFixture {
  const test = createTestEngine({ prices: { AAPL: '150', MSFT: '400' } });
  const router = createFoliokitRouter(test.engine, { auth: headerAuth, ...options });
  return {
    ...test,
    router,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const user = o.user === undefined ? 'alice' : o.user;
      if (user !== null) headers['x-test-user'] = user;
      if (o.roles) headers['x-test-roles'] = o.roles.join(',');
      let body: string | Uint8Array | undefined;
      if (o.json !== undefined) {
        body = JSON.stringify(o.json);
        headers['content-type'] ??= 'application/json';
      } else if (o.raw !== undefined) {
        body = o.raw;
      }
      return router.request(path, { method, headers, body: body as RequestInit['body'] });
    },
    async portfolio(owner, cash = '10000') {
      const p = await test.engine.createPortfolio({ name: `${owner}'s`, ownerId: owner, initialCash: cash });
      return p.id;
    },
    async close() {
      await router.close();
      await test.close();
    },
  };
}

/** The problem members every error answer has. */
export const PROBLEM_KEYS = ['type', 'title', 'status', 'code', 'detail', 'requestId'] as const;
