import { describe, expect, it } from 'vitest';
import { downsample } from './history.js';

const base = {
  portfolioId: 'pf_1',
  at: '2026-01-05T10:00:00.000Z',
  day: '2026-01-05',
  kind: 'interval' as const,
  netDeposits: '1',
  realizedPnl: '0',
};

describe('downsample', () => {
  it('keeps the last row of each bucket and is idempotent', () => {
    const row = (at: string, v: string) => ({
      ...base,
      at,
      day: at.slice(0, 10),
      cash: v,
      marketValue: '0',
      totalValue: v,
      costBasis: '0',
      unrealizedPnl: '0',
      flags: [],
    });
    const rows = [
      row('2026-01-05T10:00:00.000Z', '1'),
      row('2026-01-05T10:59:00.000Z', '2'),
      row('2026-01-05T11:00:00.000Z', '3'),
      row('2026-01-06T00:00:00.000Z', '4'),
    ];
    expect(downsample(rows, 'hour').map((r) => r.totalValue)).toEqual(['2', '3', '4']);
    expect(downsample(rows, 'day').map((r) => r.totalValue)).toEqual(['3', '4']);
    expect(downsample(downsample(rows, 'hour'), 'hour')).toEqual(downsample(rows, 'hour'));
  });
});
