/**
 * The example server's WebSocket channels at `/api/ws`: the demo user signs in (`POST /auth/demo`),
 * connects with the access token, subscribes to `prices`, and receives a `price.updated` from the
 * scheduler's next price refresh. Without a token the upgrade is refused with 401.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRefused, openWs } from '../../../packages/http-hono/test/support/ws-client.js';
import { createPaperTradingServer, type PaperTradingServer } from '../src/server.js';

let dir: string;
let server: PaperTradingServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foliokit-example-ws-'));
  server = await createPaperTradingServer({ port: 0, dataDir: dir, logLevel: 'silent', pricePollMs: 1000 });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const wsUrl = () => `${server.url.replace(/^http/, 'ws')}/api/ws`;

describe('WebSocket channels of the example server', () => {
  it('the demo user receives price updates over /api/ws', async () => {
    const demo = await fetch(`${server.url}/auth/demo`, { method: 'POST' });
    expect(demo.status).toBe(200);
    const { accessToken } = (await demo.json()) as { accessToken: string };
    const connection = await openWs(wsUrl(), { headers: { authorization: `Bearer ${accessToken}` } });
    if (isRefused(connection)) throw new Error(`refused: ${connection.status}`);
    try {
      connection.send({ op: 'subscribe', channel: 'prices' });
      expect(await connection.next((m) => m.type === 'subscribed', 'subscribed')).toEqual({
        type: 'subscribed',
        channel: 'prices',
      });
      const update = await connection.next((m) => m.type === 'price.updated', 'a price update');
      expect(update).toMatchObject({
        channel: 'prices',
        data: { symbol: expect.any(String), price: expect.stringMatching(/^\d+(\.\d+)?$/) },
      });
    } finally {
      await connection.close();
    }
  });

  it('refuses an upgrade without a token (401)', async () => {
    const result = await openWs(wsUrl());
    if (!isRefused(result)) {
      await result.close();
      throw new Error('accepted without a token');
    }
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
