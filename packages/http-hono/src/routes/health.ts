/**
 * The health route for load balancers: public, 200 while the store answers and the engine is open,
 * 503 otherwise. The body says which part failed without any secret or internal detail: no store
 * or provider error message (a driver's message can carry a host or a user name), no instance id,
 * no job reports.
 */
import type { EngineHealth } from '@foliokit/core';
import { type AnyRouteSpec, defineRoute } from '../route-table.js';

/** What `/health` shows of the engine's health. */
export interface PublicHealth {
  status: 'ok' | 'unavailable';
  closed: boolean;
  store: { ok: boolean; name: string };
  scheduler: { running: boolean; jobs: Array<{ name: string; running: boolean; lastResult: string | null }> };
  provider: { name: string; healthy: boolean; lastSuccessAt: string | null; consecutiveErrors: number };
}

/** The engine's health without its error messages and internals. */
export function publicHealth(health: EngineHealth): PublicHealth {
  return {
    status: health.ok ? 'ok' : 'unavailable',
    closed: health.closed,
    store: { ok: health.store.ok, name: health.store.name },
    scheduler: {
      running: health.scheduler.running,
      jobs: health.scheduler.jobs.map((j) => ({ name: j.name, running: j.running, lastResult: j.lastResult })),
    },
    provider: {
      name: health.provider.name,
      healthy: health.provider.healthy,
      lastSuccessAt: health.provider.lastSuccessAt,
      consecutiveErrors: health.provider.consecutiveErrors,
    },
  };
}

const HEALTHY: PublicHealth = {
  status: 'ok',
  closed: false,
  store: { ok: true, name: 'postgres' },
  scheduler: {
    running: true,
    jobs: [
      { name: 'interval-snapshots', running: false, lastResult: 'completed' },
      { name: 'daily-snapshots', running: false, lastResult: 'completed' },
    ],
  },
  provider: { name: 'simulated', healthy: true, lastSuccessAt: '2026-01-06T15:59:58.000Z', consecutiveErrors: 0 },
};

/** The health routes. */
export const healthRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    tag: 'Health',
    summary: 'Health for load balancers',
    description:
      '200 while the store answers and the engine is open, 503 otherwise. A provider outage alone does not ' +
      'fail the check (prices fall back to the last known ones); it shows in `provider.healthy`.',
    policy: 'public',
    responses: [
      { status: 200, description: 'Healthy', example: HEALTHY },
      {
        status: 503,
        description: 'The store does not answer or the engine is closed',
        example: { ...HEALTHY, status: 'unavailable', store: { ok: false, name: 'postgres' } },
      },
    ],
    handler: async (c, { engine }) => {
      const health = publicHealth(await engine.checkHealth());
      c.header('Cache-Control', 'no-store');
      return c.json(health, health.status === 'ok' ? 200 : 503);
    },
  }),
];
