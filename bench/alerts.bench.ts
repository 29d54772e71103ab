/** Alerts (#13): 1,000 price alerts evaluated per price update (bench/alerts-bench.ts). */
import { benchAlerts } from './alerts-bench.js';
import type { Report } from './run.js';

export default async function run(report: Report): Promise<void> {
  await benchAlerts(report);
}
