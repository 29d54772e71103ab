/**
 * The paper-trading server: a store (SQLite in the data folder, or PostgreSQL), a provider, the
 * engine with its scheduler, accounts at `/auth`, the foliokit router at `/api` (WebSocket
 * channels at `/api/ws`), the dashboard at `/`. `createPaperTradingServer(config)` starts it all and answers `{ url, close() }`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { createPortfolioEngine, type PortfolioEngine } from '@foliokit/core';
import type { KyselyStore } from '@foliokit/core/sql';
import { attachWebSocket, createAuthenticator, createFoliokitRouter, type FoliokitRouter } from '@foliokit/http-hono';
import { createPostgresStore } from '@foliokit/store-postgres';
import { createSqliteStore } from '@foliokit/store-sqlite';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { createLoginLimiter } from './accounts/rate-limit.js';
import { authRoutes } from './accounts/routes.js';
import { type Accounts, createAccounts } from './accounts/service.js';
import { type AccountStore, createSqlAccountStore } from './accounts/store.js';
import { resolveConfig, type ServerConfig, type ServerConfigInput } from './config.js';
import { createLogger, engineLogger } from './logger.js';
import { createProvider } from './provider.js';
import { DEMO_EMAIL, DEMO_USER_ID, seedDemoPortfolio } from './seed.js';
import { staticRoutes } from './static.js';

/** A running server. */
export interface PaperTradingServer {
  /** `http://host:port` (the port actually bound). */
  readonly url: string;
  readonly port: number;
  /** The demo portfolio's id, when the demo is on. */
  readonly demoPortfolioId: string | null;
  readonly config: ServerConfig;
  /**
   * Stops cleanly: no new connection, SSE streams and WebSocket connections ended, scheduler
   * stopped, engine and store closed. Idempotent.
   */
  close(): Promise<void>;
}

/** Optional collaborators (tests pass a quiet logger). */
export interface ServerDeps {
  logger?: Logger;
}

/** The port is taken (or cannot be bound): a message for people, and `code`. */
export class ListenError extends Error {
  override name = 'ListenError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Opens the store the configuration names (SQLite in the data folder by default). */
async function openStore(config: ServerConfig): Promise<{ store: KyselyStore; schema?: string }> {
  if (config.postgresUrl) {
    const store = await createPostgresStore({
      connectionString: config.postgresUrl,
      ...(config.pgSchema ? { schema: config.pgSchema } : {}),
    });
    return { store, schema: store.schema };
  }
  const dir = resolve(config.dataDir);
  await mkdir(dir, { recursive: true });
  return { store: await createSqliteStore({ filename: join(dir, 'foliokit.db') }) };
}

/** Binds the HTTP server. @throws ListenError when the port is taken. */
function listen(server: Server, config: ServerConfig): Promise<number> {
  return new Promise((done, fail) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      fail(
        new ListenError(
          error.code === 'EADDRINUSE'
            ? `Port ${config.port} is already in use on ${config.host}: stop the other server or pick another port with --port <n> (or PORT).`
            : `Cannot listen on ${where}: ${error.message}`,
          error.code ?? 'LISTEN_FAILED',
        ),
      );
    };
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      const address = server.address();
      done(typeof address === 'object' && address ? address.port : config.port);
    });
  });
}

/** Seeds the admin from the options and the demo user with their portfolio. */
async function seed(
  config: ServerConfig,
  accounts: Accounts,
  accountStore: AccountStore,
  engine: PortfolioEngine,
  log: Logger,
): Promise<string | null> {
  if (config.adminEmail && config.adminPassword) {
    const admin = await accounts.seedUser({
      email: config.adminEmail,
      password: config.adminPassword,
      roles: ['admin'],
    });
    log.info({ userId: admin.id, email: admin.email }, 'admin user seeded');
  }
  if (!config.demo) return null;
  // The demo user signs in through POST /auth/demo only (its password is random) and is an admin,
  // so the dashboard's admin panel works: turn the demo off (--no-demo) on a shared server.
  await accounts.seedUser({
    id: DEMO_USER_ID,
    email: DEMO_EMAIL,
    password: randomBytes(24).toString('base64url'),
    roles: ['admin'],
  });
  const token = randomBytes(12).toString('base64url');
  const claim = async () => (await accountStore.claimSetting('demo_seeded_by', token)) === token;
  return seedDemoPortfolio(engine, DEMO_USER_ID, claim, log);
}

/** The host app: request logs, `/health`, `/auth`, `/api` and the dashboard. */
function hostApp(router: FoliokitRouter, auth: Hono, log: Logger): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
  });
  app.get('/health', (c) => router.fetch(new Request(new URL('/health', c.req.url), c.req.raw), c.env));
  app.route('/auth', auth);
  app.route('/api', router);
  app.route('/', staticRoutes());
  return app;
}

/**
 * Starts the server: opens the store, seeds the admin and the demo (first start: a year of
 * history), starts the scheduler (prices every few seconds), and listens.
 * @throws ConfigError for a bad option, ListenError when the port is taken.
 */
export async function createPaperTradingServer(
  input: ServerConfigInput = {},
  deps: ServerDeps = {},
): Promise<PaperTradingServer> {
  const config = resolveConfig(input);
  const log = deps.logger ?? createLogger(config.logLevel);
  const { store, schema } = await openStore(config);
  const cleanups: Array<() => Promise<void> | void> = [() => store.close()];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  };
  try {
    const accountStore = createSqlAccountStore({ db: store.db, dialect: store.dialect, schema });
    await accountStore.migrate();
    const secretText =
      config.jwtSecret ?? (await accountStore.claimSetting('jwt_secret', randomBytes(48).toString('base64url')));
    const secret = new TextEncoder().encode(secretText);
    const engine = createPortfolioEngine({ store, marketData: createProvider(config), logger: engineLogger(log) });
    cleanups.push(() => engine.close());
    const accounts = createAccounts({
      store: accountStore,
      secret,
      limiter: createLoginLimiter({ maxFailures: config.loginMaxFailures, windowMs: config.loginWindowMs }),
    });
    const demoPortfolioId = await seed(config, accounts, accountStore, engine, log);

    const auth = { jwt: { secret, algorithms: ['HS256'] as ['HS256'] } };
    const router = createFoliokitRouter(engine, { auth });
    cleanups.push(() => router.close());
    // On SQLite this process is the only one running backtests on the store: runs a previous run
    // of the server left queued or running can never finish, so they are marked failed. On
    // PostgreSQL other instances may be running theirs: left alone.
    if (!config.postgresUrl) {
      const recovered = await router.deps.backtests.recoverInterrupted();
      if (recovered.length > 0)
        log.warn({ runs: recovered.length }, 'backtests interrupted by a restart marked failed');
    }
    const authApp = authRoutes({
      accounts,
      authenticate: createAuthenticator(auth),
      demoUserId: config.demo ? DEMO_USER_ID : null,
    });
    const app = hostApp(router, authApp, log);
    engine.startScheduler({ prices: { everyMs: config.pricePollMs } });
    cleanups.push(() => engine.stopScheduler());

    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    // WebSocket channels beside the SSE streams, under the router's mount point.
    const websockets = attachWebSocket(router, server, { path: '/api/ws' });
    cleanups.push(() => websockets.close());
    const port = await listen(server, config);
    const closed = new Promise<void>((done) => server.once('close', () => done()));
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        log.info('shutting down');
        server.close(); // no new connections
        await router.close(); // SSE clients get their stream ended
        server.closeIdleConnections();
        await cleanup();
        server.closeAllConnections();
        await closed;
        log.info('stopped');
      })();
      return closing;
    };
    log.info({ url, store: store.dialect, provider: config.provider }, 'listening');
    return { url, port, demoPortfolioId, config, close };
  } catch (error) {
    await cleanup().catch((e) => log.error({ err: e }, 'cleanup failed'));
    throw error;
  }
}
