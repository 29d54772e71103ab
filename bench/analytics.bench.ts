/**
 * Analytics figures (#12): `getPerformance` over 10 years of daily history (3,650 points, 200
 * flows; goal under 20 ms), `getRisk` Monte Carlo for 50 positions and 10,000 paths (goal under
 * 500 ms), `planRebalance` for 500 positions (goal under 10 ms). Each section lives beside the
 * others in bench/analytics-*.ts.
 */
import { benchPerformance } from './analytics-performance.js';
import { benchRebalance } from './analytics-rebalance.js';
import { benchRisk } from './analytics-risk.js';
import type { Report } from './run.js';

export default async function run(report: Report): Promise<void> {
  await benchPerformance(report);
  await benchRisk(report);
  await benchRebalance(report);
}
