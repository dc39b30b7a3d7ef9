// Lambda cron: expire files, uploads and stores' pending jobs, re-queue stale ingest jobs, purge deleted blobs.
import { type MaintenanceReport, runMaintenance } from '@vsdb/core/maintenance/run';
import { services } from './lambda/container.ts';
import { withMetrics } from './lambda/metrics.ts';

export function handler(): Promise<MaintenanceReport> {
  return withMetrics(async () => {
    return runMaintenance(await services('maintenance'));
  });
}
