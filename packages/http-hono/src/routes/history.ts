/**
 * History routes: a portfolio's recorded value series (`engine.getHistory`), optionally
 * downsampled to the last snapshot of each hour or day.
 */
import { HISTORY_MAX_DAYS } from '@foliokit/core';
import { type AnyRouteSpec, defineRoute } from '../route-table.js';
import { EXAMPLES, errorResponses, historyQuery, PAGE_LIMITS, portfolioParams } from '../schemas.js';

/** The history routes. */
export const historyRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: 'get',
    path: '/portfolios/:id/history',
    operationId: 'getHistory',
    tag: 'History',
    summary: "A portfolio's value series",
    description:
      '`from` and `to` are ISO instants or days (`to` as a day means its end; both inclusive); `interval` is ' +
      '`raw` (every snapshot), `1h` or `1d` (the last snapshot of each UTC hour or day); `kinds` filters by a ' +
      `comma-separated list of snapshot kinds. A range spans at most ${HISTORY_MAX_DAYS.raw} days ` +
      `(${HISTORY_MAX_DAYS['1h']} for \`1h\`): beyond, 422 \`RANGE_TOO_LARGE\`. At most \`limit\` points ` +
      `(default 1000, at most ${PAGE_LIMITS.history.max}); \`truncated\` says the series was cut: ask again ` +
      'from just after the last item.',
    policy: 'user',
    owned: true,
    params: portfolioParams,
    query: historyQuery,
    responses: [
      {
        status: 200,
        description: 'The series, oldest first',
        example: {
          portfolioId: EXAMPLES.snapshot.portfolioId,
          interval: '1d',
          from: '2026-01-01T00:00:00.000Z',
          to: '2026-01-06T23:59:59.999Z',
          items: [EXAMPLES.snapshot],
          truncated: false,
        },
      },
      ...errorResponses(401, 404, 422),
    ],
    handler: async (c, { engine, params, query }) => c.json(await engine.getHistory(params.id, query)),
  }),
];
